#pragma once
/**
 * @file A `[sources.NAME]` of type redis-stream: reads notification objects from a Redis Stream in a
 * consumer group shared with other nhpushd, hands them to the dispatcher as the socket does, and
 * acknowledges each entry once its result is final.
 */

#include "config/config.hpp"
#include "config/connection_string_source.hpp"
#include "hubs/hub_registry.hpp"
#include "hubs/notification_dispatcher.hpp"
#include "log/daemon_log.hpp"
#include "metrics/daemon_metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <string_view>

namespace nhpush::sources {

/**
 * @brief The password of `[sources.NAME]` from password_file / password_env / password_credential,
 * read as connection strings are (a private file, trimmed); empty when none is configured.
 * @throws config::config_error naming the key; never containing the password.
 */
std::string resolve_password(std::string_view name,
                             const config::source_config& source,
                             const config::environment& env = config::process_environment);

/** @brief HOSTNAME-PID: a consumer name that differs between daemons and between restarts. */
std::string default_consumer_name();

/** @brief What a source uses of the daemon. Each must outlive the source's finish(). */
struct source_services {
    hubs::hub_registry& registry;
    hubs::notification_dispatcher& dispatcher;
    const log::daemon_log& log;
    /// With a spool (dispatcher.spool()): its memory_window, the most of a hub's notifications sent
    /// at once; the source reads only what fits in it, so the backlog stays in Redis, not on disk.
    std::size_t spool_window = 0;
};

class redis_stream_source;

/**
 * @brief Runs one redis-stream source on an event loop of the daemon's pool.
 *
 * The order of a stop: stop_reading() (no more XREADGROUP or XAUTOCLAIM), then the hubs drain, then
 * finish() writes back what finished (XACK, dead and results entries). What has not finished stays
 * pending in Redis, in this consumer's list, and is claimed by another daemon after claim_idle or
 * read again by this one after a restart: nothing is lost, some entries may be sent twice.
 *
 * Thread-safety: start(), stop_reading() and finish() from one control thread that is not one of
 * the pool's; the work runs on the given io_context.
 */
class redis_stream_runner {
public:
    redis_stream_runner(boost::asio::io_context& context,
                        std::string name,
                        config::source_config config,
                        std::string password,
                        source_services services,
                        std::shared_ptr<metrics::source_counters> counters);
    ~redis_stream_runner();
    redis_stream_runner(const redis_stream_runner&) = delete;
    redis_stream_runner& operator=(const redis_stream_runner&) = delete;

    void start();
    void stop_reading();
    /// Writes back what finished and ends, within `within` (a Redis outage may prevent it).
    void finish(std::chrono::milliseconds within);

private:
    std::shared_ptr<redis_stream_source> source_;
    std::future<void> ended_;
};

}  // namespace nhpush::sources
