#pragma once
/** @file What a stop left unsent, for the operator: never sent, or in flight with an unknown outcome. */

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::hubs {

/** @brief Why a notification is in the drain report. */
enum class unsent_kind {
    never_sent,       ///< still queued when the drain deadline passed: safe to submit again
    outcome_unknown,  ///< on the wire when the sender stopped: the hub may have accepted it
};

/** @brief The kind of report a final result belongs in, or nullopt for one that is not reported. */
std::optional<unsent_kind> unsent_kind_of(const boost::system::error_code& ec) noexcept;

/** @brief Up to a capacity of "hub/id" entries, and how many more there were. */
struct unsent_list {
    struct entry {
        std::string hub;
        std::string id;
    };
    std::vector<entry> entries;
    std::size_t more = 0;  ///< beyond the capacity: counted, not named

    std::size_t total() const noexcept { return entries.size() + more; }
};

/** @brief The two lists of the drain report. */
struct unsent_report {
    unsent_list never_sent;
    unsent_list outcome_unknown;
};

/**
 * @brief The notifications a stop left without a delivery, for the log at exit.
 *
 * Keeps the first `capacity` ids of each list and counts the rest. Thread-safe.
 */
class unsent_log {
public:
    explicit unsent_log(std::size_t capacity = 100'000) : capacity_(capacity) {}

    void add(unsent_kind kind, std::string_view hub, std::string_view id);
    /// The lists kept so far; empties the log.
    unsent_report take();

private:
    std::mutex mutex_;
    std::size_t capacity_;
    unsent_report report_;
};

/** @brief How serious a line of the drain report is. */
enum class report_severity { info, warning };

/** @brief One line of the drain report. */
struct report_line {
    report_severity severity = report_severity::warning;
    std::string text;

    bool operator==(const report_line&) const = default;
};

/**
 * @brief The log lines of the drain report: a heading per non-empty list saying what the operator
 * may do, then its `hub/id` entries, `ids_per_line` a line; "drained: …" when both are empty. Pure.
 */
std::vector<report_line> describe_unsent(const unsent_report& report, std::size_t ids_per_line);

}  // namespace nhpush::hubs
