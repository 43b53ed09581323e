#include "hubs/unsent_log.hpp"

#include <nhpush/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace nhpush::hubs {
namespace {

void describe_list(const unsent_list& list,
                   std::string_view heading,
                   std::string_view prefix,
                   std::size_t ids_per_line,
                   std::vector<report_line>& out) {
    if (list.total() == 0) {
        return;
    }
    out.push_back({report_severity::warning, fmt::format("{} {}", list.total(), heading)});
    const auto& e = list.entries;
    for (std::size_t i = 0; i < e.size(); i += ids_per_line) {
        std::string line;
        for (std::size_t j = i; j < std::min(e.size(), i + ids_per_line); ++j) {
            line += fmt::format("{}{}/{}", line.empty() ? "" : " ", e[j].hub, e[j].id);
        }
        out.push_back({report_severity::warning, fmt::format("{}: {}", prefix, line)});
    }
    if (list.more > 0) {
        out.push_back({report_severity::warning, fmt::format("{}: and {} more", prefix, list.more)});
    }
}

}  // namespace

std::optional<unsent_kind> unsent_kind_of(const boost::system::error_code& ec) noexcept {
    if (ec == errc::shutting_down) {
        return unsent_kind::never_sent;
    }
    if (ec == errc::outcome_unknown) {
        return unsent_kind::outcome_unknown;
    }
    return std::nullopt;
}

void unsent_log::add(unsent_kind kind, std::string_view hub, std::string_view id) {
    std::lock_guard lock(mutex_);
    auto& list = kind == unsent_kind::never_sent ? report_.never_sent : report_.outcome_unknown;
    if (list.entries.size() < capacity_) {
        list.entries.push_back({std::string(hub), std::string(id)});
    } else {
        ++list.more;
    }
}

unsent_report unsent_log::take() {
    std::lock_guard lock(mutex_);
    return std::exchange(report_, {});
}

std::vector<report_line> describe_unsent(const unsent_report& report, std::size_t ids_per_line) {
    std::vector<report_line> out;
    if (report.never_sent.total() == 0 && report.outcome_unknown.total() == 0) {
        out.push_back({report_severity::info, "drained: every accepted notification has its result"});
        return out;
    }
    describe_list(report.never_sent,
                  "notification(s) were never sent because nhpushd stopped (drain_deadline passed); "
                  "the hub never saw them: safe to submit again",
                  "never sent",
                  ids_per_line,
                  out);
    describe_list(report.outcome_unknown,
                  "notification(s) were in flight when nhpushd stopped: the hub may have accepted "
                  "them (outcome unknown); submitting again may deliver them twice",
                  "outcome unknown",
                  ids_per_line,
                  out);
    return out;
}

}  // namespace nhpush::hubs
