#pragma once
/** @file Whether nhpushd is fit to take notifications: the live signals per hub and the pure verdict. */

#include <nhpush/notification_hub.hpp>

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::hubs {

/** @brief Consecutive failures of one kind after which a hub is reported unhealthy. */
inline constexpr std::uint32_t unhealthy_after_failures = 3;

/**
 * @brief The signals of one hub that health is judged by, updated with every finished send.
 *
 * Thread-safety: record() may run on any thread; the counters are relaxed atomics (they are
 * signals, not synchronisation), and a success writes only when a counter was non-zero, so the hot
 * path does not bounce a cache line between threads.
 */
struct hub_health {
    std::atomic<std::uint32_t> consecutive_auth_failures{0};  ///< 401/403 without Retry-After in a row
    std::atomic<std::uint32_t> consecutive_tls_failures{0};   ///< tls_verify_failed in a row
    std::atomic<unsigned> last_auth_status{0};                ///< the status of the last auth failure

    void record(const boost::system::error_code& ec, const send_result& result) noexcept;
};

/** @brief A copy of one hub's signals, for evaluate_health(). */
struct hub_health_sample {
    std::string_view name;
    std::uint32_t consecutive_auth_failures = 0;
    std::uint32_t consecutive_tls_failures = 0;
    unsigned last_auth_status = 0;

    static hub_health_sample of(std::string_view name, const hub_health& h) noexcept;
};

/** @brief The verdict of `GET /healthz`. */
struct health_report {
    bool healthy = true;
    std::vector<std::string> reasons;  ///< one sentence per problem, empty when healthy
    /// Problems that leave the socket working but not everything: a source that cannot reach Redis.
    /// `/healthz` still answers 200, with `"status":"degraded"`, when they are the only ones.
    std::vector<std::string> degraded;
};

/**
 * @brief Judges readiness: not ready while stopping; a hub whose last sends all failed authentication
 * or certificate verification (unhealthy_after_failures in a row, no success since) makes the daemon
 * unhealthy, because nothing it queues for that hub can be delivered until an operator acts.
 */
health_report evaluate_health(bool stopping, std::span<const hub_health_sample> hubs);

/** @brief `{"status":"ok"}`, `{"status":"degraded","reasons":[…]}` or
 *  `{"status":"unhealthy","reasons":[…]}` (the degraded reasons are listed too). */
std::string render_health(const health_report& report);

}  // namespace nhpush::hubs
