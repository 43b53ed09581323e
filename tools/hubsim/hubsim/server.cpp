// The I/O of nhpush-hubsim: one io_context per worker thread, coroutine sessions, graceful stop.

#include "hubsim/server.hpp"

#include "hubsim/alpn.hpp"
#include "hubsim/certificate.hpp"
#include "hubsim/h2_connection.hpp"
#include "hubsim/service.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace nhpush::hubsim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto handshake_timeout = 10s;
constexpr auto write_timeout = 30s;
constexpr auto shutdown_timeout = 2s;
constexpr auto drain_timeout = 5s;
/// Bodies up to this size are read (and answered 413 if over 64 KB); larger ones close the connection.
constexpr std::size_t max_read_body = 1024 * 1024;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// One worker thread: its io_context and its service logic.
struct worker {
    worker(shared_state& shared, std::size_t index) : handler(shared, index), ioc(1) {}
    // Declared before ioc so that it outlives it: destroying ioc destroys the frames of the sessions
    // that never finished, and they refer to the handler.
    request_handler handler;
    asio::io_context ioc;
    std::thread thread;
};

void write_file_atomically(const std::string& path, const std::string& text) {
    const auto tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f.flush()) {
            throw std::runtime_error(fmt::format("cannot write --cert-out {}", path));
        }
    }
    std::filesystem::rename(tmp, path);
}

/// OpenSSL's ALPN callback; `arg` is the http2_config. Without a match, HTTP/1.1 goes on without
/// ALPN (as for clients that offer none), and an h2-only hub refuses the handshake.
int select_alpn(SSL*,
                const unsigned char** out,
                unsigned char* outlen,
                const unsigned char* in,
                unsigned int inlen,
                void* arg) {
    const auto& config = *static_cast<const http2_config*>(arg);
    const auto chosen = choose_alpn({reinterpret_cast<const char*>(in), inlen}, config);
    if (chosen.empty()) {
        return config.serve_http1 ? SSL_TLSEXT_ERR_NOACK : SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = reinterpret_cast<const unsigned char*>(chosen.data());
    *outlen = static_cast<unsigned char>(chosen.size());
    return SSL_TLSEXT_ERR_OK;
}

/// The protocol the handshake settled on: h2 only when ALPN selected it.
std::string_view negotiated_protocol(tls_stream& stream) {
    const unsigned char* data = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &data, &size);
    return {reinterpret_cast<const char*>(data), size};
}

ssl::context make_tls_context(const hubsim_config& config) {
    ssl::context tls(ssl::context::tls_server);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(tls.native_handle(), TLS1_3_VERSION);
    SSL_CTX_set_alpn_select_cb(tls.native_handle(), select_alpn, const_cast<http2_config*>(&config.http2));
    if (!config.cert_file.empty()) {
        try {
            tls.use_certificate_chain_file(config.cert_file);
            tls.use_private_key_file(config.key_file, ssl::context::pem);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(fmt::format(
                "cannot load --cert {} / --key {}: {}", config.cert_file, config.key_file, e.what()));
        }
        return tls;
    }
    const auto pem = make_self_signed_certificate();
    tls.use_certificate_chain(asio::buffer(pem.certificate));
    tls.use_private_key(asio::buffer(pem.private_key), ssl::context::pem);
    if (!config.cert_out.empty()) {
        write_file_atomically(config.cert_out, pem.certificate);
    }
    return tls;
}

void log_session_exception(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "nhpush-hubsim: a connection ended on an error: %s\n", ex.what());
    }
}

/// Writes the first half of `res` and nothing more: a response cut off in the middle.
asio::awaitable<void> write_half(tls_stream& stream, const response& res) {
    std::ostringstream text;
    text << res;
    const auto bytes = text.str();
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    co_await asio::async_write(stream, asio::buffer(bytes.data(), bytes.size() / 2), use_tuple);
}

/// After answering 413 to a body too large to read, reads and discards what the client still sends
/// (a bounded "lingering close", as nginx does) so that it gets to read the answer.
asio::awaitable<void> drain(tls_stream& stream, beast::flat_buffer& buffer) {
    constexpr std::size_t max_drained = 64 * 1024 * 1024;
    buffer.clear();
    beast::get_lowest_layer(stream).expires_after(drain_timeout);
    std::array<char, 16 * 1024> sink;
    for (std::size_t drained = 0; drained < max_drained;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
        if (ec) {
            break;
        }
        drained += n;
    }
}

bool wants_continue(const request& req) {
    const auto expect = req[http::field::expect];
    return expect.size() == 12 && beast::iequals(expect, "100-continue");
}

/// Reads one request; false when the connection should end. Usually one read: the parser is eager,
/// so a request that arrived whole is parsed at once; `Expect: 100-continue` is answered between
/// the header and the body.
asio::awaitable<bool> read_request(tls_stream& stream,
                                   beast::flat_buffer& buffer,
                                   http::request_parser<http::string_body>& parser,
                                   bool& too_large,
                                   std::uint64_t& bytes,
                                   std::chrono::seconds idle_timeout) {
    auto& tcp = beast::get_lowest_layer(stream);
    parser.eager(true);
    parser.body_limit(max_read_body);  // a larger Content-Length fails as soon as the header is in
    bool continued = false;
    tcp.expires_after(idle_timeout);
    while (!parser.is_done()) {
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
        bytes += n;
        if (ec == http::error::body_limit) {
            too_large = true;  // not worth reading: answer 413 and close
            co_return true;
        }
        if (ec) {
            co_return false;
        }
        if (!continued && parser.is_header_done() && !parser.is_done() && wants_continue(parser.get())) {
            continued = true;
            http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
            tcp.expires_after(write_timeout);
            if (auto [wec, wn] = co_await http::async_write(stream, go_on, use_tuple); wec) {
                co_return false;
            }
            tcp.expires_after(idle_timeout);
        }
    }
    co_return true;
}

/// Serves HTTP/1.1 requests one after the other until the connection ends.
asio::awaitable<void> serve_http1(tls_stream& stream, worker& w, std::chrono::seconds idle) {
    auto& tcp = beast::get_lowest_layer(stream);
    auto& stats = w.handler.stats();
    beast::flat_buffer buffer;
    connection_state conn;
    reply rep;
    asio::steady_timer delay(co_await asio::this_coro::executor);
    for (;;) {
        http::request_parser<http::string_body> parser;
        bool too_large = false;
        std::uint64_t received = 0;
        const bool ok = co_await read_request(stream, buffer, parser, too_large, received, idle);
        thread_stats::bump(stats.bytes_received, received);
        if (!ok) {
            break;
        }
        if (too_large) {
            w.handler.reject_too_large(parser.get().version(), std::chrono::system_clock::now(), rep);
        } else {
            w.handler.handle(parser.get(), conn, std::chrono::system_clock::now(), rep);
        }
        if (rep.delay.count() > 0) {
            delay.expires_after(rep.delay);
            co_await delay.async_wait(use_tuple);
        }
        if (rep.reset) {
            break;  // HTTP/1.1 has no stream to reset: the connection ends unanswered
        }
        if (rep.drop) {
            co_await write_half(stream, rep.res);
            break;
        }
        tcp.expires_after(write_timeout);
        auto [ec, n] = co_await http::async_write(stream, rep.res, use_tuple);
        thread_stats::bump(stats.bytes_sent, n);
        if (ec || rep.close_after) {
            break;  // an abrupt close, as when a hub's front end drops a connection
        }
        if (too_large) {
            co_await drain(stream, buffer);
            break;
        }
        if (!rep.res.keep_alive()) {
            tcp.expires_after(shutdown_timeout);
            co_await stream.async_shutdown(use_tuple);
            break;
        }
    }
}

asio::awaitable<void> serve_connection(tcp::socket socket,
                                       worker& w,
                                       ssl::context& tls,
                                       const hubsim_config& config) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    tls_stream stream(std::move(socket), tls);
    auto& tcp = beast::get_lowest_layer(stream);
    auto& stats = w.handler.stats();
    tcp.expires_after(handshake_timeout);
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple); ec) {
        thread_stats::bump(stats.tls_handshake_failures);
        co_return;
    }
    thread_stats::bump(stats.connections);
    if (negotiated_protocol(stream) == alpn_h2) {
        tcp.expires_never();
        co_await serve_h2(std::move(stream), w.handler, config.http2, config.idle_timeout);
        co_return;  // serve_h2 closed the connection
    }
    if (config.http2.serve_http1) {
        co_await serve_http1(stream, w, config.idle_timeout);
    }
    tcp.socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp.close();
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                  std::vector<std::unique_ptr<worker>>& workers,
                                  ssl::context& tls,
                                  const hubsim_config& config) {
    asio::steady_timer pause(acceptor.get_executor());
    for (std::size_t next = 0;; ++next) {
        auto& w = *workers[next % workers.size()];
        // The socket belongs to the worker's io_context while the accept runs on the acceptor's: the
        // worker contexts must outlive this operation (run_server destroys them last).
        auto [ec, socket] = co_await acceptor.async_accept(w.ioc, use_tuple);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            co_return;  // stopping: the acceptor was closed
        }
        if (ec) {
            // Out of descriptors or similar: do not spin.
            pause.expires_after(50ms);
            co_await pause.async_wait(use_tuple);
            continue;
        }
        asio::co_spawn(w.ioc, serve_connection(std::move(socket), w, tls, config), log_session_exception);
    }
}

std::string authority_of(const tcp::endpoint& ep) {
    const auto address = ep.address();
    return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), ep.port())
                           : fmt::format("{}:{}", address.to_string(), ep.port());
}

}  // namespace

int run_server(const hubsim_config& config, std::ostream& out) {
    const unsigned threads =
        config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
    shared_state shared(config, threads);
    auto tls = make_tls_context(shared.config);

    // Order matters for shutdown. A pending accept runs on `control` but holds a socket of a worker's
    // io_context, and sessions on the workers use `tls` and `shared`; locals are destroyed in reverse,
    // so the workers are declared first (destroyed after `control`, its acceptor and any operation
    // still queued there) and after `shared` and `tls` (destroyed before them).
    std::vector<std::unique_ptr<worker>> workers;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (unsigned i = 0; i < threads; ++i) {
        workers.push_back(std::make_unique<worker>(shared, i));
        guards.push_back(asio::make_work_guard(workers.back()->ioc));
    }

    asio::io_context control(1);
    tcp::acceptor acceptor(control);
    const tcp::endpoint endpoint(asio::ip::make_address(config.listen_host), config.listen_port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    shared.authority = authority_of(acceptor.local_endpoint());

    for (auto& w : workers) {
        w->thread = std::thread([&ioc = w->ioc] { ioc.run(); });
    }

    // On the signal: close the acceptor; the accept loop then ends (operation_aborted) and `control`
    // runs out of work and returns, with no operation left queued on it.
    asio::signal_set signals(control, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
        beast::error_code ignored;
        acceptor.close(ignored);
    });
    asio::co_spawn(control, accept_loop(acceptor, workers, tls, shared.config), log_session_exception);

    out << "listening on " << shared.authority << std::endl;
    control.run();

    // Stop and join every worker before any io_context is destroyed.
    for (auto& w : workers) {
        w->ioc.stop();
    }
    for (auto& w : workers) {
        w->thread.join();
    }
    out << "summary: " << to_json(shared.stats.merged()) << std::endl;
    return 0;
}

}  // namespace nhpush::hubsim
