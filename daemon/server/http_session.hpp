#pragma once
/** @file One client connection: HTTP/1.1 with keep-alive over the Unix socket, every step with a deadline. */

#include "api/request_handler.hpp"

#include <boost/asio/local/stream_protocol.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace nhpush::server {

/**
 * @brief The open client connections: their number (for max_clients) and a way to close them all
 * when the daemon stops.
 *
 * Thread-safety: every member from any thread. Sessions add themselves when they start and remove
 * themselves when they end.
 */
class session_tracker {
public:
    /** @brief What a tracked session offers: to be closed once it has answered what it is busy with. */
    class member {
    public:
        virtual ~member() = default;
        /// Thread-safe: closes at once if idle, else after the current answer.
        virtual void close_gracefully() = 0;
        /// Thread-safe: closes now, cancelling whatever the session is reading or writing.
        virtual void close_now() = 0;
    };

    void add(const std::shared_ptr<member>& m);
    void remove(const member* m);
    std::size_t size() const;

    /** @brief Asks every session to close once its current answer is written. */
    void close_all();

    /** @brief Closes every session now (for the ones a stuck client holds past the grace time). */
    void abort_all();

    /** @brief Waits until every session has ended; false if `deadline` passes first. */
    bool wait_until_empty(std::chrono::steady_clock::time_point deadline);

private:
    std::vector<std::shared_ptr<member>> alive() const;

    mutable std::mutex mutex_;
    std::condition_variable empty_;
    std::unordered_map<const member*, std::weak_ptr<member>> members_;
};

/**
 * @brief Starts serving an accepted connection on the socket's own executor.
 *
 * The session reads requests with header_limit = max_header_bytes and body_limit = max_body_bytes
 * (as in force when each request starts), gives the headers, the body and each answer's write
 * `client_idle_timeout` each, answers with the handlers of request_handler, and keeps the connection
 * alive until the client closes it, a deadline passes, the request cannot be parsed (answered with
 * a 4xx, then closed) or the daemon stops. An exception ends the session and is logged, never the
 * process.
 */
void start_session(boost::asio::local::stream_protocol::socket socket,
                   api::api_services& services,
                   session_tracker& tracker);

}  // namespace nhpush::server
