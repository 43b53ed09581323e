#pragma once
// How many connections a shard keeps (pure). In flight needed ≈ rate × hub latency (Little's law):
// a shard opens connections while the work outstanding exceeds what its connections can carry at
// once, and lets an idle one close while it has more than its minimum.

#include <algorithm>
#include <cstddef>

namespace nhpush::detail {

struct pool_demand {
    std::size_t outstanding = 0;     ///< queued (ready) plus in flight
    std::size_t connections = 0;     ///< open, opening or backing off: every one counts as capacity
    std::size_t per_connection = 1;  ///< requests one connection carries at once (1 for HTTP/1.1)
    std::size_t min = 0;
    std::size_t max = 1;
};

/// Connections to open now: as many as the outstanding work needs, at least min, never above max.
constexpr std::size_t connections_to_open(const pool_demand& d) noexcept {
    const std::size_t per = std::max<std::size_t>(d.per_connection, 1);
    const std::size_t needed = std::clamp((d.outstanding + per - 1) / per, d.min, d.max);
    return needed > d.connections ? needed - d.connections : 0;
}

/// An idle connection may close: the pool keeps its minimum.
constexpr bool may_close_idle(std::size_t connections, std::size_t min) noexcept {
    return connections > min;
}

}  // namespace nhpush::detail
