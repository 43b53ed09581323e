#include "process/core_dumps.hpp"

#include <fmt/format.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace nhpush::process {
namespace {

std::string failure(const char* what) {
    return fmt::format("{} failed: {}", what, std::strerror(errno));
}

}  // namespace

std::vector<std::string> forbid_core_dumps() {
    std::vector<std::string> failures;
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        failures.push_back(failure("prctl(PR_SET_DUMPABLE, 0)"));
    }
    rlimit limit{};
    if (::getrlimit(RLIMIT_CORE, &limit) != 0) {
        failures.push_back(failure("getrlimit(RLIMIT_CORE)"));
    } else if (limit.rlim_cur != 0 || limit.rlim_max != 0) {
        limit = {0, 0};
        if (::setrlimit(RLIMIT_CORE, &limit) != 0) {
            failures.push_back(failure("setrlimit(RLIMIT_CORE, 0)"));
        }
    }
    return failures;
}

}  // namespace nhpush::process
