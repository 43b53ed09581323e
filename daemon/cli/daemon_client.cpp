#include "cli/daemon_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace nhpush::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using local = asio::local::stream_protocol;

namespace {

constexpr std::string_view fallback_socket = "/run/nhpush/nhpushd.sock";
constexpr std::size_t max_answer_bytes = 64 << 20;

std::string connect_hint(const error_code& ec) {
    if (ec == asio::error::access_denied) {
        return " (this user may not open the socket: is it in the daemon's group?)";
    }
    if (ec == asio::error::not_found || ec == asio::error::connection_refused) {
        return " (is nhpushd running? give --socket PATH or set $NHPUSH_SOCKET)";
    }
    return {};
}

http::request<http::string_body> make_request(const daemon_request& r) {
    http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::user_agent, "nhpush/" NHPUSH_VERSION);
    if (!r.body.empty() || r.method == "POST") {
        req.set(http::field::content_type, r.content_type);
        req.body() = r.body;
        req.prepare_payload();
    }
    req.keep_alive(false);
    return req;
}

asio::awaitable<void> exchange(beast::basic_stream<local>& stream,
                               const daemon_request& r,
                               daemon_answer& answer,
                               std::string& failure) {
    const auto use_tuple = asio::as_tuple(asio::use_awaitable);
    if (r.timeout.count() > 0) {
        stream.expires_after(r.timeout);
    }
    if (auto [ec] = co_await stream.async_connect(local::endpoint(r.socket), use_tuple); ec) {
        failure =
            fmt::format("cannot connect to nhpushd at {}: {}{}", r.socket, ec.message(), connect_hint(ec));
        co_return;
    }
    auto req = make_request(r);
    if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) {
        failure = fmt::format(
            "nhpushd at {} closed the connection before taking the request: {} (is this "
            "user in daemon.allowed_uids or allowed_gids?)",
            r.socket,
            ec.message());
        co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_answer_bytes);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == beast::error::timeout) {
        failure = fmt::format("no answer from nhpushd at {} within {} s",
                              r.socket,
                              std::chrono::duration<double>(r.timeout).count());
        co_return;
    }
    if (ec) {
        failure = fmt::format(
            "nhpushd at {} closed the connection without answering: {} (is this user in "
            "daemon.allowed_uids or allowed_gids?)",
            r.socket,
            ec.message());
        co_return;
    }
    const auto& res = parser.get();
    answer.status = res.result_int();
    answer.content_type = std::string(res[http::field::content_type]);
    answer.retry_after = std::string(res[http::field::retry_after]);
    answer.body = res.body();
}

}  // namespace

std::string default_socket_path() {
    if (const char* env = std::getenv("NHPUSH_SOCKET"); env != nullptr && *env != '\0') {
        return env;
    }
    return std::string(fallback_socket);
}

daemon_answer call_daemon(const daemon_request& request) {
    asio::io_context ioc(1);
    beast::basic_stream<local> stream(ioc);
    daemon_answer answer;
    std::string failure;
    std::exception_ptr error;
    asio::co_spawn(
        ioc, exchange(stream, request, answer, failure), [&](std::exception_ptr e) { error = std::move(e); });
    ioc.run();
    if (error) {
        std::rethrow_exception(error);
    }
    if (!failure.empty()) {
        throw daemon_unreachable(failure);
    }
    return answer;
}

}  // namespace nhpush::cli
