#pragma once
/** @file Serving one HTTP/2 connection: an h2_session driven over the TLS stream (the I/O part). */

#include "hubsim/options.hpp"
#include "hubsim/service.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>

namespace nhpush::hubsim {

/** @brief The TLS stream every connection runs on. */
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/**
 * @brief Serves HTTP/2 on a connection that negotiated `h2`, until the client leaves, a GOAWAY
 * finishes, a fault closes it, or nothing arrives for `idle_timeout`.
 *
 * Each stream's request goes to `handler` (the same logic as HTTP/1.1); its latency is waited out
 * with a timer per stream, so a slow answer never holds up the others. Runs on the handler's
 * worker thread only; the session, its timers and its buffers are freed when it returns or when
 * the io_context is destroyed.
 */
boost::asio::awaitable<void> serve_h2(tls_stream stream,
                                      request_handler& handler,
                                      const http2_config& config,
                                      std::chrono::seconds idle_timeout);

}  // namespace nhpush::hubsim
