#pragma once
/** @file Counters: one block per worker thread, written without locks, merged when read. */

#include "hubsim/faults.hpp"
#include "hubsim/sas_check.hpp"

#include <nhpush/notification.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nhpush::hubsim {

/** @brief Fault counters beyond fault_kind: answers delayed, connections closed or cut off. */
enum class fault_counter : std::uint8_t {
    throttled_429,
    throttled_403,
    error_500,
    error_503,
    rate_limited,
    delayed,
    closed,
    dropped,
    stream_reset,
    count_
};

/** @brief The counter of an injected status fault. */
fault_counter counter_of(fault_kind k) noexcept;

/** @brief A plain copy of all counters (a sum over the workers). */
struct stats_snapshot {
    std::uint64_t requests = 0;  ///< Notification Hubs API requests (admin requests not counted)
    std::uint64_t accepted = 0;  ///< notifications answered 201
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t connections = 0;             ///< TLS connections established
    std::uint64_t tls_handshake_failures = 0;  ///< connections whose handshake failed
    std::uint64_t requests_http1 = 0;          ///< of `requests`, those over HTTP/1.1
    std::uint64_t requests_h2 = 0;             ///< of `requests`, those over HTTP/2
    std::uint64_t connections_h2 = 0;          ///< of `connections`, those that negotiated h2
    std::uint64_t goaways_sent = 0;            ///< HTTP/2 GOAWAY frames sent
    std::uint64_t streams_reset = 0;           ///< HTTP/2 RST_STREAM frames sent (any reason)
    std::uint64_t max_open_streams = 0;        ///< most HTTP/2 streams open at once on one connection
    std::array<std::uint64_t, std::size(all_formats)> accepted_by_format{};
    std::array<std::uint64_t, 600> by_status{};
    std::array<std::uint64_t, auth_failure_count> auth_failures{};
    std::array<std::uint64_t, static_cast<std::size_t>(fault_counter::count_)> faults{};

    /// The sum of auth_failures.
    std::uint64_t auth_failure_total() const noexcept;
};

/**
 * @brief One worker's counters. Only its own thread writes (relaxed load + store, no lock
 * prefix); any thread may read.
 */
struct alignas(64) thread_stats {
    using counter = std::atomic<std::uint64_t>;

    counter requests{0}, accepted{0}, bytes_received{0}, bytes_sent{0}, connections{0},
        tls_handshake_failures{0}, requests_http1{0}, requests_h2{0}, connections_h2{0}, goaways_sent{0},
        streams_reset{0};
    counter max_open_streams{0};  ///< a gauge: raise_to(), merged as the maximum
    std::array<counter, std::size(all_formats)> accepted_by_format{};
    std::array<counter, 600> by_status{};
    std::array<counter, auth_failure_count> auth_failures{};
    std::array<counter, static_cast<std::size_t>(fault_counter::count_)> faults{};

    /// Adds `n` to a counter of this thread.
    static void bump(counter& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    /// Raises a gauge of this thread to `n` if it is lower.
    static void raise_to(counter& c, std::uint64_t n) noexcept {
        if (c.load(std::memory_order_relaxed) < n) {
            c.store(n, std::memory_order_relaxed);
        }
    }
    void count_status(unsigned status) noexcept { bump(by_status[status < 600 ? status : 599]); }
    void count_fault(fault_counter f) noexcept { bump(faults[static_cast<std::size_t>(f)]); }
    void count_auth_failure(auth_failure f) noexcept { bump(auth_failures[static_cast<std::size_t>(f)]); }
    void count_accepted(notification_format f) noexcept;

    /// Adds this thread's counters into `out`.
    void add_to(stats_snapshot& out) const noexcept;
};

/** @brief The counters of every worker; slots are made up front and never move. */
class stats_registry {
public:
    explicit stats_registry(std::size_t workers);
    thread_stats& slot(std::size_t worker) noexcept { return *slots_[worker]; }
    /// Sums every worker's counters; safe while they run.
    stats_snapshot merged() const;

private:
    std::vector<std::unique_ptr<thread_stats>> slots_;
};

/**
 * @brief The GET /$stats document:
 * `{"requests":…,"accepted":…,"accepted_by_format":{"apple":…,…},"answers_by_status":{"201":…},
 *   "auth_failures":…,"auth_failures_by_reason":{"InvalidSignature":…},"faults":{"throttled_429":…,…},
 *   "bytes_received":…,"bytes_sent":…,"connections":…,"tls_handshake_failures":…,
 *   "requests_http1":…,"requests_h2":…,"connections_h2":…,"goaways_sent":…,"streams_reset":…,
 *   "max_open_streams":…}`.
 * Statuses and reasons with a zero count are left out; every format and fault is listed.
 */
std::string to_json(const stats_snapshot& s);

}  // namespace nhpush::hubsim
