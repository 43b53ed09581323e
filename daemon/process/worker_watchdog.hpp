#pragma once
/** @file The systemd watchdog: WATCHDOG=1 only while every worker thread still runs its event loop. */

#include "log/daemon_log.hpp"

#include <nhpush/worker_pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace nhpush::process {

/**
 * @brief Pings systemd every half watchdog period, but only when each of the pool's event loops has
 * run a probe posted to it since the previous ping: a stuck worker stops the pings, and systemd
 * restarts the daemon.
 *
 * Runs on a control io_context of its own (not the pool's). cancel() ends it.
 */
class worker_watchdog {
public:
    worker_watchdog(const boost::asio::any_io_executor& control,
                    worker_pool& pool,
                    std::chrono::microseconds period,
                    const log::daemon_log& log);

    boost::asio::awaitable<void> run();
    void cancel() { timer_.cancel(); }

private:
    bool every_worker_answered() const;
    void probe();

    boost::asio::steady_timer timer_;
    worker_pool& pool_;
    std::chrono::microseconds interval_;
    const log::daemon_log& log_;
    // Shared with the probes in flight, which may run after this object is gone.
    std::shared_ptr<std::vector<std::atomic<std::uint64_t>>> answered_;
    std::uint64_t round_ = 0;
    log::log_throttle warnings_;
};

}  // namespace nhpush::process
