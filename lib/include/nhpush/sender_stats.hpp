#pragma once
/** @file Counters and the latency histogram of a hub's sender. */

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace nhpush {

/** @brief Upper bounds (seconds) of the latency histogram's buckets; a last bucket is +Inf. */
inline constexpr std::array<double, 16> latency_bucket_bounds{
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

/** @brief A point-in-time copy of a sender's counters. Plain values. */
struct sender_stats_snapshot {
    std::uint64_t submitted = 0;               ///< accepted into the queue
    std::uint64_t rejected_queue_full = 0;     ///< refused at once: queue at capacity
    std::uint64_t sent = 0;                    ///< final: the hub answered 201
    std::uint64_t sent_unexpected_status = 0;  ///< final: the hub answered another 2xx
    std::uint64_t failed_rejected = 0;         ///< final: permanent error from the hub (4xx)
    std::uint64_t failed_retries_exhausted = 0;
    std::uint64_t failed_deadline = 0;
    std::uint64_t failed_shutdown = 0;   ///< not sent because the sender stopped
    std::uint64_t outcome_unknown = 0;   ///< on the wire when stop() cut it: the hub may have it
    std::uint64_t failed_send_path = 0;  ///< something on the send path threw (see error_detail)
    std::uint64_t cancelled = 0;         ///< final: cancelled while queued (never sent)
    std::uint64_t failed_auth = 0;       ///< among failed_rejected: 401 or 403 without Retry-After
    std::uint64_t retries = 0;           ///< attempts after the first
    /// resent without counting an attempt because the hub cannot have processed it: a kept-alive
    /// connection closed before answering, an HTTP/2 REFUSED_STREAM or a stream above a GOAWAY
    std::uint64_t resent_after_close = 0;
    std::uint64_t throttle_pauses = 0;  ///< times the whole hub paused for Retry-After
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_failed = 0;       ///< failed resolve, connect or handshake
    std::uint64_t connections_recycled = 0;     ///< closed on reaching their maximum age
    std::uint64_t connections_closed_idle = 0;  ///< closed after idle_timeout with nothing to do
    std::uint64_t connections_h2 = 0;           ///< among connections_opened: the hub picked HTTP/2
    std::uint64_t connections_open = 0;         ///< open now (a gauge)
    std::uint64_t goaways_received = 0;         ///< HTTP/2 GOAWAY frames from the hub
    /// HTTP/2 streams that ended without an answer: reset by the hub (REFUSED_STREAM included) or
    /// refused by its GOAWAY before they went out
    std::uint64_t streams_reset = 0;
    std::uint64_t requests_on_reused_connections = 0;
    std::uint64_t tokens_signed = 0;       ///< SAS tokens signed (renewals included)
    std::uint64_t queue_depth = 0;         ///< queued or in flight now
    double oldest_queued_age_seconds = 0;  ///< age of the oldest notification waiting in a queue
    std::array<std::uint64_t, latency_bucket_bounds.size() + 1> latency_buckets{};  ///< enqueue → 201
    double latency_sum_seconds = 0;
    std::uint64_t latency_count = 0;
};

/**
 * @brief The live counters. Every member may be updated from any thread (relaxed atomics:
 * they are statistics, not synchronisation).
 */
struct sender_stats {
    using counter = std::atomic<std::uint64_t>;

    counter submitted{0}, rejected_queue_full{0}, sent{0}, sent_unexpected_status{0}, failed_rejected{0},
        failed_retries_exhausted{0}, failed_deadline{0}, failed_shutdown{0}, outcome_unknown{0},
        failed_send_path{0}, cancelled{0}, failed_auth{0}, retries{0}, resent_after_close{0},
        throttle_pauses{0}, connections_opened{0}, connections_failed{0}, connections_recycled{0},
        connections_closed_idle{0}, connections_h2{0}, connections_open{0}, goaways_received{0},
        streams_reset{0}, requests_on_reused_connections{0}, queue_depth{0};
    std::array<counter, latency_bucket_bounds.size() + 1> latency_buckets{};
    std::atomic<std::int64_t> latency_sum_ns{0};

    static void bump(counter& c, std::uint64_t n = 1) noexcept { c.fetch_add(n, std::memory_order_relaxed); }

    /// Adds one enqueue → 201 latency to the histogram.
    void record_latency(std::chrono::nanoseconds latency) noexcept;

    /// Copies the counters; `oldest_queued_age_seconds` is filled by the sender.
    sender_stats_snapshot snapshot() const noexcept;
};

}  // namespace nhpush
