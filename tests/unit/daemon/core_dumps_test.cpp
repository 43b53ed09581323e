// forbid_core_dumps() in a child process, so the test binary itself keeps its settings.

#include "process/core_dumps.hpp"

#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

TEST(core_dumps, the_process_is_not_dumpable_and_its_core_limit_is_zero) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Start from a state where a core would be written, so the checks below can fail.
        rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
        ::setrlimit(RLIMIT_CORE, &unlimited);
        ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        const bool before = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
        const auto failures = nhpush::process::forbid_core_dumps();
        rlimit core{};
        ::getrlimit(RLIMIT_CORE, &core);
        const bool after =
            ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 && core.rlim_cur == 0 && core.rlim_max == 0;
        ::_exit(before && after && failures.empty() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
