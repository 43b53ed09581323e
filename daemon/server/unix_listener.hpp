#pragma once
/** @file The submission socket: created (or inherited from systemd), guarded, and accepted on. */

#include "api/request_handler.hpp"
#include "config/config.hpp"
#include "log/daemon_log.hpp"
#include "server/http_session.hpp"

#include <nhpush/worker_pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <sys/types.h>

#include <future>
#include <optional>
#include <string>

namespace nhpush::server {

/**
 * @brief Listens on the AF_UNIX socket of the submission API and starts a session per client.
 *
 * Without an inherited socket it creates `daemon.socket`: a stale socket file left by a previous run
 * is removed (one another process still listens on is not), the file gets `daemon.socket_mode`
 * (never wider, even for a moment: it is created under a umask that shuts everyone out), and it is
 * removed again when the listener is destroyed. Each accepted connection is checked against
 * `max_clients` and, when set, `allowed_uids`/`allowed_gids` (SO_PEERCRED), then handed to the
 * pool's threads in turn. Accepting runs on the io_context given to the constructor.
 */
class unix_listener {
public:
    /**
     * @param inherited a listening socket from systemd socket activation, used instead of creating one.
     * @throws std::runtime_error if the socket cannot be created.
     */
    unix_listener(boost::asio::io_context& ioc,
                  const config::daemon_config& config,
                  std::optional<int> inherited,
                  const log::daemon_log& log);
    ~unix_listener();
    unix_listener(const unix_listener&) = delete;
    unix_listener& operator=(const unix_listener&) = delete;

    /** @brief Starts accepting; sessions run on `pool`'s threads, round-robin. */
    void start(worker_pool& pool, api::api_services& services, session_tracker& tracker);

    /** @brief Stops accepting and waits until the accept loop has ended. Not from the acceptor's thread. */
    void stop();

    /** @brief Where it listens, for the log: the path, and whether systemd passed the socket. */
    std::string description() const;

private:
    void create(const config::daemon_config& config);
    boost::asio::awaitable<void> accept_loop(worker_pool& pool,
                                             api::api_services& services,
                                             session_tracker& tracker);
    void admit(boost::asio::local::stream_protocol::socket socket,
               api::api_services& services,
               session_tracker& tracker);

    boost::asio::local::stream_protocol::acceptor acceptor_;
    const log::daemon_log& log_;
    std::string path_;
    bool activated_ = false;
    bool created_file_ = false;
    ino_t inode_ = 0;  // of the socket file created, so only that file is removed at the end
    log::log_throttle refusal_warnings_;
    log::log_throttle accept_warnings_;
    std::optional<std::future<void>> loop_done_;
};

}  // namespace nhpush::server
