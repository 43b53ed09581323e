#include "nhpush/sender_stats.hpp"

#include <algorithm>

namespace nhpush {

void sender_stats::record_latency(std::chrono::nanoseconds latency) noexcept {
    const double seconds = std::chrono::duration<double>(latency).count();
    const auto bucket =
        std::lower_bound(latency_bucket_bounds.begin(), latency_bucket_bounds.end(), seconds) -
        latency_bucket_bounds.begin();
    bump(latency_buckets[static_cast<std::size_t>(bucket)]);
    latency_sum_ns.fetch_add(latency.count(), std::memory_order_relaxed);
}

sender_stats_snapshot sender_stats::snapshot() const noexcept {
    const auto get = [](const counter& c) { return c.load(std::memory_order_relaxed); };
    sender_stats_snapshot s;
    s.submitted = get(submitted);
    s.rejected_queue_full = get(rejected_queue_full);
    s.sent = get(sent);
    s.sent_unexpected_status = get(sent_unexpected_status);
    s.failed_rejected = get(failed_rejected);
    s.failed_retries_exhausted = get(failed_retries_exhausted);
    s.failed_deadline = get(failed_deadline);
    s.failed_shutdown = get(failed_shutdown);
    s.outcome_unknown = get(outcome_unknown);
    s.failed_send_path = get(failed_send_path);
    s.cancelled = get(cancelled);
    s.failed_auth = get(failed_auth);
    s.retries = get(retries);
    s.resent_after_close = get(resent_after_close);
    s.throttle_pauses = get(throttle_pauses);
    s.connections_opened = get(connections_opened);
    s.connections_failed = get(connections_failed);
    s.connections_recycled = get(connections_recycled);
    s.connections_closed_idle = get(connections_closed_idle);
    s.connections_h2 = get(connections_h2);
    s.connections_open = get(connections_open);
    s.goaways_received = get(goaways_received);
    s.streams_reset = get(streams_reset);
    s.requests_on_reused_connections = get(requests_on_reused_connections);
    s.queue_depth = get(queue_depth);
    for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
        s.latency_buckets[i] = get(latency_buckets[i]);
        s.latency_count += s.latency_buckets[i];
    }
    s.latency_sum_seconds = static_cast<double>(latency_sum_ns.load(std::memory_order_relaxed)) / 1e9;
    return s;
}

}  // namespace nhpush
