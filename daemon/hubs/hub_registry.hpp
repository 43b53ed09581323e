#pragma once
/** @file The hubs nhpushd sends to: one notification_hub per `[hubs.NAME]`, built, swapped on reload
 * and stopped with a drain. */

#include "config/config.hpp"
#include "hubs/hub_health.hpp"
#include "log/daemon_log.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace nhpush::hubs {

/** @brief Connection strings by hub NAME, as resolve_connection_string() read them. Secrets. */
using connection_strings = std::map<std::string, std::string, std::less<>>;

/** @brief The library's configuration of a `[hubs.NAME]` table: its settings as the reader took them
 *  through nhpush::hub_settings(), so no key is mapped by hand. */
hub_client_config to_client_config(const config::hub_config& hub);

/** @brief Reads every hub's connection string. @throws config::config_error naming the key. */
connection_strings resolve_connection_strings(const config::nhpushd_config& config);

/**
 * @brief One configured hub as the daemon runs it.
 *
 * Lifetime: owned by shared_ptr; the registry keeps it until its hub has been stopped, so a slot
 * (and its `health`, which completion handlers update) outlives every notification sent through it.
 */
struct hub_slot {
    std::string name;               ///< the [hubs.NAME]
    config::hub_config config;      ///< the table it was built from
    std::string connection_string;  ///< a secret: compared on reload, never shown
    nhpush::log_level level = nhpush::log_level::info;
    std::unique_ptr<notification_hub> hub;
    hub_health health;
    /// Cancelled by nhpushd before the library had them (waiting in the spool, or during the
    /// hand-over); the library counts those it cancelled itself. See stats().
    std::atomic<std::uint64_t> cancelled_before_hand_over{0};

    /// The library's counters, with what nhpushd cancelled before handing over.
    sender_stats_snapshot stats() const;
    log::log_throttle queue_full_warnings;  ///< "queue full" is logged at most every 10 s per hub
};

/**
 * @brief The configuration in force: the `[daemon]` table and the hubs. Immutable once published;
 * a reload publishes a new one with a higher generation.
 */
struct live_config {
    std::uint64_t generation = 0;
    config::daemon_config daemon;
    std::vector<std::shared_ptr<hub_slot>> hubs;  ///< sorted by name
    std::vector<std::string> hub_names;           ///< sorted, for the submission parser

    /// The hub named `name`, or nullptr.
    hub_slot* find(std::string_view name) const noexcept;
};

/** @brief What a hub's table and connection string were, to compare with a reloaded configuration. */
struct hub_identity {
    config::hub_config config;
    std::string connection_string;
    nhpush::log_level level = nhpush::log_level::info;

    bool operator==(const hub_identity&) const = default;
};

/** @brief What a reload changes, decided before anything is touched. */
struct reload_plan {
    std::vector<std::string> kept;     ///< same table, connection string and log level: left running
    std::vector<std::string> rebuilt;  ///< changed: a new hub takes new submissions, the old one drains
    std::vector<std::string> added;
    std::vector<std::string> removed;           ///< drained, then stopped
    std::vector<std::string> restart_required;  ///< keys that changed but apply at the next start only

    bool operator==(const reload_plan&) const = default;
};

/** @brief Compares the running hubs and `[daemon]` table with a reloaded configuration. Pure. */
reload_plan plan_reload(const std::map<std::string, hub_identity, std::less<>>& running,
                        const config::daemon_config& running_daemon,
                        const std::map<std::string, hub_identity, std::less<>>& next,
                        const config::daemon_config& next_daemon);

/** @brief A hub's counters, with those of the hubs it replaced on reloads added in. */
struct hub_totals {
    std::shared_ptr<hub_slot> slot;
    sender_stats_snapshot stats;
};

/** @brief Adds counters and histograms; takes the larger age and the sum of queue depths. Pure. */
void accumulate(sender_stats_snapshot& into, const sender_stats_snapshot& s);

/**
 * @brief Builds and owns the hubs, publishes the configuration in force, swaps hubs on reload.
 *
 * A hub whose table, connection string or the log level changed on reload is rebuilt: the new
 * notification_hub takes new submissions at once; the old one keeps sending what it queued (up to
 * its `deadline`) on a background thread, then stops. Nothing queued is dropped by a reload.
 *
 * Thread-safety: current(), generation() and totals() from any thread; start(), reload() and stop()
 * from one control thread that is not one of the pool's (notification_hub::stop blocks).
 */
class hub_registry {
public:
    hub_registry(worker_pool& pool, const log::daemon_log& log);
    /// Stops whatever still runs, without a drain.
    ~hub_registry();
    hub_registry(const hub_registry&) = delete;
    hub_registry& operator=(const hub_registry&) = delete;

    /** @brief Builds every hub. @throws config::config_error naming the hub that cannot be built. */
    void start(const config::nhpushd_config& config, const connection_strings& strings);

    /**
     * @brief Applies a reloaded configuration. On an error nothing changes.
     * @throws config::config_error naming the hub that cannot be built.
     */
    reload_plan reload(const config::nhpushd_config& config, const connection_strings& strings);

    /** @brief The configuration in force. */
    std::shared_ptr<const live_config> current() const;

    /** @brief The generation of current(): cheap, for sessions to notice a reload. */
    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

    /** @brief Each current hub with its counters, those of the hubs it replaced included. */
    std::vector<hub_totals> totals() const;

    /**
     * @brief Stops every hub: no new work, queued notifications get up to `drain` to be sent, then
     * what is left fails with shutting_down. Returns once every notification has its result.
     */
    void stop(std::chrono::milliseconds drain);

private:
    struct retiring_hub {
        std::shared_ptr<hub_slot> slot;
        std::chrono::steady_clock::time_point retired_at;
        std::chrono::steady_clock::time_point drain_until;
    };

    std::shared_ptr<hub_slot> build(const std::string& name,
                                    const config::hub_config& hub,
                                    const std::string& connection_string,
                                    log_level level);
    void publish(config::daemon_config daemon, std::vector<std::shared_ptr<hub_slot>> hubs);
    void retire(std::shared_ptr<hub_slot> slot);
    void retire_loop();
    void fold_stopped(const hub_slot& slot);

    worker_pool& pool_;
    const log::daemon_log& log_;

    mutable std::mutex mutex_;  // guards current_, retiring_, retired_totals_, stopping_
    std::shared_ptr<const live_config> current_;
    std::atomic<std::uint64_t> generation_{0};
    std::vector<retiring_hub> retiring_;
    std::map<std::string, sender_stats_snapshot, std::less<>> retired_totals_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point stop_drain_until_{};

    std::condition_variable retire_wake_;
    std::thread retirer_;
};

}  // namespace nhpush::hubs
