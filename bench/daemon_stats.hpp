#pragma once
// What nhpushd's GET /v1/stats says of one hub, as nhpush-bench needs it: how many notifications
// are final, and the latency histogram, so that two readings give what happened between them.
// Pure functions, tested without a daemon (tests/unit/bench).

#include "bench_report.hpp"

#include <nhpush/sender_stats.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace nhpush::bench {

struct hub_progress {
    std::uint64_t sent = 0;                       ///< the hub answered 2xx
    std::map<std::string, std::uint64_t> failed;  ///< by reason
    std::array<std::uint64_t, latency_bucket_bounds.size() + 1> latency_buckets{};

    /// Notifications that are final: sent or failed.
    std::uint64_t finished() const;
};

/// Reads hub `hub` (its [hubs.NAME]) out of a /v1/stats body. @throws std::runtime_error naming
/// what is missing.
hub_progress parse_hub_progress(std::string_view stats_json, std::string_view hub);

/// What happened between two readings of the same hub.
hub_progress operator-(const hub_progress& after, const hub_progress& before);

/// Percentiles of a latency histogram (milliseconds): the upper bound of the bucket each falls in,
/// so they err high, never low; the last finite bound for the +Inf bucket.
latency_summary estimate_latency(const hub_progress& p);

}  // namespace nhpush::bench
