#include "https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>
#include <stdexcept>

namespace nhpush::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

struct https_client::impl {
    asio::io_context ioc;
    ssl::context tls{ssl::context::tls_client};
    std::string host;
    std::uint16_t port;
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;
    unsigned opened = 0;

    /// Runs one coroutine to completion on ioc.
    template <class Awaitable>
    error_code run(Awaitable a) {
        error_code result;
        asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, error_code ec) {
            result = e ? asio::error::fault : ec;
        });
        ioc.restart();
        ioc.run();
        return result;
    }

    asio::awaitable<error_code> connect(std::chrono::milliseconds timeout) {
        stream.emplace(ioc, tls);
        buffer.clear();
        auto& tcp_layer = beast::get_lowest_layer(*stream);
        tcp_layer.expires_after(timeout);
        const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        if (auto [ec] = co_await tcp_layer.async_connect(ep, use_tuple); ec) {
            co_return ec;
        }
        ++opened;
        boost::system::error_code ignored;
        if (asio::ip::make_address(host, ignored); ignored) {
            SSL_set_tlsext_host_name(stream->native_handle(), host.c_str());  // SNI for names only
        }
        stream->set_verify_callback(ssl::host_name_verification(host));
        auto [ec] = co_await stream->async_handshake(ssl::stream_base::client, use_tuple);
        co_return ec;
    }

    asio::awaitable<error_code> exchange(http_request& req,
                                         http_response& res,
                                         std::chrono::milliseconds timeout) {
        if (!stream) {
            if (auto ec = co_await connect(timeout)) {
                co_return ec;
            }
        }
        auto& tcp_layer = beast::get_lowest_layer(*stream);
        tcp_layer.expires_after(timeout);
        if (auto [ec, n] = co_await http::async_write(*stream, req, use_tuple); ec) {
            co_return ec;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        if (auto [ec, n] = co_await http::async_read(*stream, buffer, parser, use_tuple); ec) {
            co_return ec;
        }
        res = parser.release();
        co_return error_code{};
    }

    asio::awaitable<error_code> read_until_closed(std::chrono::milliseconds timeout) {
        auto& tcp_layer = beast::get_lowest_layer(*stream);
        tcp_layer.expires_after(timeout);
        char byte;
        auto [ec, n] = co_await stream->async_read_some(asio::buffer(&byte, 1), use_tuple);
        co_return ec;
    }
};

https_client::https_client(std::uint16_t port, std::string ca_file, std::string host, tls_versions versions)
    : impl_(std::make_unique<impl>()) {
    impl_->host = std::move(host);
    impl_->port = port;
    impl_->tls.set_verify_mode(ssl::verify_peer);
    impl_->tls.load_verify_file(ca_file);
    auto* ctx = impl_->tls.native_handle();
    SSL_CTX_set_min_proto_version(ctx,
                                  versions == tls_versions::tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx,
                                  versions == tls_versions::tls12_only ? TLS1_2_VERSION : TLS1_3_VERSION);
}

https_client::~https_client() = default;
https_client::https_client(https_client&&) noexcept = default;

error_code https_client::send(http_request req, http_response& res, std::chrono::milliseconds timeout) {
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    req.prepare_payload();
    auto ec = impl_->run(impl_->exchange(req, res, timeout));
    if (ec || !res.keep_alive()) {
        close();
    }
    return ec;
}

http_response https_client::request(http_request req, std::chrono::milliseconds timeout) {
    http_response res;
    if (auto ec = send(std::move(req), res, timeout)) {
        throw std::runtime_error("https request failed: " + ec.message());
    }
    return res;
}

bool https_client::wait_closed_by_server(std::chrono::milliseconds timeout) {
    if (!impl_->stream) {
        return true;
    }
    const auto ec = impl_->run(impl_->read_until_closed(timeout));
    close();
    return ec && ec != beast::error::timeout;
}

bool https_client::connected() const noexcept {
    return impl_->stream.has_value();
}

unsigned https_client::connections_opened() const noexcept {
    return impl_->opened;
}

std::string https_client::tls_version() const {
    return impl_->stream ? SSL_get_version(impl_->stream->native_handle()) : "";
}

void https_client::close() {
    if (impl_->stream) {
        error_code ignored;
        beast::get_lowest_layer(*impl_->stream).socket().close(ignored);
        impl_->stream.reset();
    }
}

http_request make_get(std::string target) {
    return make_request(http::verb::get, std::move(target));
}

http_request make_request(http::verb method, std::string target, std::string body) {
    http_request req{method, target, 11};
    req.body() = std::move(body);
    return req;
}

}  // namespace nhpush::testing
