#pragma once
/** @file What `GET /v1/stats` and `GET /metrics` report: the daemon's own counters and each hub's. */

#include "submission/api_error.hpp"

#include <nhpush/sender_stats.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::metrics {

/**
 * @brief One source's live counters and connection state (`[sources.NAME]`). Counters are relaxed
 * atomics, any thread; `problem` is guarded by its mutex.
 */
struct source_counters {
    std::string name;                          ///< the [sources.NAME]
    std::string stream;                        ///< the stream key it reads
    std::atomic<std::uint64_t> read{0};        ///< entries read with XREADGROUP (own pending ones included)
    std::atomic<std::uint64_t> claimed{0};     ///< entries taken over from other consumers (XAUTOCLAIM)
    std::atomic<std::uint64_t> acked{0};       ///< entries acknowledged (XACK), dead ones included
    std::atomic<std::uint64_t> dead{0};        ///< entries copied to the dead stream
    std::atomic<std::uint64_t> reconnects{0};  ///< connections to Redis lost or refused
    std::atomic<bool> connected{false};

    /// Why the source cannot read now (empty when connected); for /healthz.
    void set_problem(std::string text);
    std::string problem() const;

private:
    mutable std::mutex mutex_;
    std::string problem_;
};

/** @brief The sources of the daemon, registered at start. Thread-safe. */
class source_board {
public:
    /// Registers a source; the board keeps it for the daemon's life.
    std::shared_ptr<source_counters> add(std::string name, std::string stream);
    std::vector<std::shared_ptr<source_counters>> all() const;
    /// One sentence per source that cannot read from Redis now.
    std::vector<std::string> problems() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<source_counters>> sources_;
};

/** @brief One source as reported. Plain values. */
struct source_report {
    std::string name;
    std::string stream;
    bool connected = false;
    std::uint64_t read = 0;
    std::uint64_t claimed = 0;
    std::uint64_t acked = 0;
    std::uint64_t dead = 0;
    std::uint64_t reconnects = 0;
};

/**
 * @brief The daemon's own live counters (the hubs keep theirs). Relaxed atomics, any thread; the
 * request path touches them only on errors.
 */
struct daemon_counters {
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_refused_peer{0};         ///< SO_PEERCRED not allowed
    std::atomic<std::uint64_t> connections_refused_max_clients{0};  ///< max_clients reached
    std::array<std::atomic<std::uint64_t>, api::api_errc_count> request_errors{};  ///< by api_errc
    std::atomic<std::uint64_t> reloads_ok{0};
    std::atomic<std::uint64_t> reloads_failed{0};
    source_board sources;  ///< the `[sources.NAME]`, each with its counters

    void count_error(api::api_errc code) noexcept {
        request_errors[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
    }
};

/** @brief One hub as reported: its names, limits, health and counters. Plain values. */
struct hub_report {
    std::string name;  ///< [hubs.NAME]
    std::string hub;   ///< the hub's name in its namespace
    std::size_t min_connections = 0;
    std::size_t max_connections = 0;
    std::size_t queue_capacity = 0;
    double rate_limit = 0;
    bool healthy = true;
    sender_stats_snapshot stats;
};

/** @brief The spool's figures for one hub. */
struct spool_hub_report {
    std::string name;             ///< [hubs.NAME]
    std::size_t outstanding = 0;  ///< accepted, no final result yet (on disk or in memory)
    std::size_t in_memory = 0;    ///< of those, handed to the sender
    std::uint64_t bytes = 0;      ///< in its segment files
};

/** @brief The spool, when `[spool] dir` is set. */
struct spool_report {
    bool writable = true;                   ///< false after a failed write, until one succeeds
    std::uint64_t kept_for_next_start = 0;  ///< notifications a stop left in the spool
    std::uint64_t recovered = 0;  ///< queued again at start (those on the wire at a crash may be sent twice)
    std::vector<spool_hub_report> hubs;
};

/** @brief Everything reported at one moment. Plain values, so rendering is pure. */
struct daemon_report {
    std::string version;
    double uptime_seconds = 0;
    bool ready = true;
    std::uint64_t config_generation = 0;
    std::int64_t connections_open = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused_peer = 0;
    std::uint64_t connections_refused_max_clients = 0;
    std::array<std::uint64_t, api::api_errc_count> request_errors{};
    std::uint64_t reloads_ok = 0;
    std::uint64_t reloads_failed = 0;
    std::size_t recent_results = 0;  ///< entries in the recent-results table
    std::optional<spool_report> spool;
    std::vector<hub_report> hubs;
    std::vector<source_report> sources;

    /// Copies the live counters.
    void take_counters(const daemon_counters& c);
};

/**
 * @brief An estimate of the `q` quantile (0–1) of a hub's send latency, in seconds: the upper bound of
 * the histogram bucket it falls in (the highest finite bound for the +Inf bucket); 0 without samples.
 */
double latency_quantile(const sender_stats_snapshot& s, double q) noexcept;

/** @brief The `GET /v1/stats` JSON: `{"daemon":{…},"hubs":{"NAME":{…},…}}`. */
std::string render_stats_json(const daemon_report& report);

/** @brief The `GET /metrics` text (Prometheus exposition format 0.0.4). */
std::string render_metrics_text(const daemon_report& report);

}  // namespace nhpush::metrics
