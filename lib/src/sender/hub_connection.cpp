#include "sender/hub_connection.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>

namespace nhpush::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

error_code timeout_or(error_code ec, errc timeout) {
    return ec == beast::error::timeout ? make_error_code(timeout) : ec;
}

bool is_ip_address(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// The peer closed (or reset) before sending anything back.
bool is_closed_by_peer(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::ssl::error::stream_truncated;
}

// Asio's SSL stream encrypts one buffer per write: Beast's serializer would hand it the header
// and the body apart, costing two TLS records and two system calls per request.
void serialize(const hub_request& req, std::string& out) {
    out.clear();
    out.append(req.method_string()).append(" ").append(req.target()).append(" HTTP/1.1\r\n");
    for (const auto& field : req) {
        out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
    }
    out.append("\r\n").append(req.body());
}

}  // namespace

hub_connection::hub_connection(shard& s) : shard_(s), sender_(s.owner()), timer_(s.context()) {}

void hub_connection::interrupt() {
    timer_.cancel();
    if (stream_) {
        error_code ignored;
        beast::get_lowest_layer(*stream_).socket().close(ignored);
    }
}

void hub_connection::close() {
    if (stream_) {
        error_code ignored;
        beast::get_lowest_layer(*stream_).socket().close(ignored);
        stream_.reset();
    }
    buffer_.clear();
}

bool hub_connection::too_old() const {
    const auto max_age = sender_.config().connection_max_age;
    return max_age.count() > 0 && steady::now() - connected_at_ >= max_age;
}

asio::awaitable<void> hub_connection::sleep_idle() {
    co_await sleep_until(steady::time_point::max());
}

asio::awaitable<void> hub_connection::sleep_until(steady::time_point t) {
    timer_.expires_at(t);
    co_await timer_.async_wait(use_tuple);
}

asio::awaitable<error_code> hub_connection::connect() {
    using namespace asio::experimental::awaitable_operators;
    const auto& cfg = sender_.config();
    const auto& ep = sender_.endpoint();
    tcp::resolver resolver(shard_.context());
    tcp::resolver::results_type addresses;
    try {
        asio::steady_timer limit(shard_.context(), cfg.timeouts.resolve);
        auto first = co_await (resolver.async_resolve(ep.host, ep.port, asio::use_awaitable) ||
                               limit.async_wait(asio::use_awaitable));
        if (first.index() == 1) {
            co_return make_error_code(errc::resolve_timeout);
        }
        addresses = std::get<0>(std::move(first));
    } catch (const boost::system::system_error& e) {
        co_return e.code();
    }

    stream_.emplace(shard_.context().get_executor(), sender_.tls());
    SSL* ssl = stream_->native_handle();
    // Certificate and host name (or IP) verification; SNI only for names (RFC 6066).
    if (is_ip_address(ep.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep.host.c_str());
    } else {
        SSL_set1_host(ssl, ep.host.c_str());
        SSL_set_tlsext_host_name(ssl, ep.host.c_str());
    }
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(cfg.timeouts.connect);
    if (auto [ec, _] = co_await tcp_layer.async_connect(addresses, use_tuple); ec) {
        co_return timeout_or(ec, errc::connect_timeout);
    }
    tcp_layer.socket().set_option(tcp::no_delay(true));
    tcp_layer.expires_after(cfg.timeouts.handshake);
    if (auto [ec] = co_await stream_->async_handshake(asio::ssl::stream_base::client, use_tuple); ec) {
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            connect_error_detail_ =
                fmt::format("TLS handshake with {}:{} failed: certificate verify failed: {}",
                            ep.host,
                            ep.port,
                            X509_verify_cert_error_string(verify));
            co_return make_error_code(errc::tls_verify_failed);
        }
        co_return timeout_or(ec, errc::handshake_timeout);
    }
    connected_at_ = steady::now();
    requests_on_connection_ = 0;
    sender_.stats().bump(sender_.stats().connections_opened);
    co_return error_code{};
}

void hub_connection::on_connect_failure(error_code ec) {
    const auto& ep = sender_.endpoint();
    if (connect_error_detail_.empty()) {
        connect_error_detail_ = fmt::format("connecting to {}:{} failed: {}", ep.host, ep.port, ec.message());
    }
    sender_.stats().bump(sender_.stats().connections_failed);
    if (connect_failures_ == 1) {
        sender_.log().log(log_level::warning, "hub {}: {}", ep.hub, connect_error_detail_);
    }
    close();
    if (ec == errc::tls_verify_failed) {
        // Not a passing fault: fail what waits rather than let it age to its deadline.
        shard_.fail_all_ready(ec, connect_error_detail_);
    } else if (auto item = shard_.try_take()) {
        // Each failed connect costs one waiting notification an attempt, so the error surfaces.
        item->result().error_detail = connect_error_detail_;
        ++item->result().attempts;
        retry_or_fail(*item, std::nullopt);
    }
}

asio::awaitable<void> hub_connection::run() {
    const auto keep_alive = sender_.shared_from_this();
    while (!shard_.closing()) {
        if (!stream_) {
            connect_error_detail_.clear();
            if (const auto ec = co_await connect(); ec) {
                ++connect_failures_;
                on_connect_failure(ec);
                const auto delay = backoff_delay(
                    sender_.config().reconnect, connect_failures_, std::nullopt, shard_.jitter());
                co_await sleep_until(steady::now() + delay);
                continue;
            }
            if (connect_failures_ > 0) {
                sender_.log().log(log_level::info, "hub {}: connected again", sender_.endpoint().hub);
            }
            connect_failures_ = 0;
        }
        if (too_old()) {
            sender_.stats().bump(sender_.stats().connections_recycled);
            close();
            continue;
        }
        auto item = co_await shard_.take(*this);
        if (!item) {
            break;
        }
        co_await process(std::move(*item));
    }
    close();
    shard_.connection_exited();
}

asio::awaitable<void> hub_connection::wait_turn() {
    if (const auto wait = shard_.bucket().reserve(steady::now()); wait > steady::duration::zero()) {
        co_await sleep_until(steady::now() + wait);
    }
    while (!shard_.closing() && steady::now() < sender_.paused_until()) {
        co_await sleep_until(sender_.paused_until());
    }
}

void hub_connection::build_request(const work_item& item) {
    const auto now = system_clock::now();
    if (!token_ || !token_->fresh_at(now)) {
        token_ = sender_.tokens().get(sender_.endpoint().resource_uri);
    }
    switch (item.kind) {
        case work_kind::send:
            build_send_request(sender_.endpoint(), item.n, token_->authorization, request_);
            break;
        case work_kind::cancel_scheduled:
            request_ = build_cancel_scheduled_request(sender_.endpoint(), item.id, token_->authorization);
            break;
        case work_kind::outcome_details:
            request_ = build_outcome_details_request(sender_.endpoint(), item.id, token_->authorization);
            break;
    }
}

asio::awaitable<hub_connection::exchange_outcome> hub_connection::exchange() {
    const auto& cfg = sender_.config();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(cfg.timeouts.write);
    serialize(request_, wire_);
    if (auto [ec, _] = co_await asio::async_write(*stream_, asio::buffer(wire_), use_tuple); ec) {
        co_return exchange_outcome{timeout_or(ec, errc::write_timeout), is_closed_by_peer(ec)};
    }
    tcp_layer.expires_after(cfg.timeouts.read);
    parser_.emplace();
    parser_->body_limit(cfg.max_response_bytes);
    if (auto [ec, _] = co_await http::async_read(*stream_, buffer_, *parser_, use_tuple); ec) {
        co_return exchange_outcome{timeout_or(ec, errc::read_timeout),
                                   is_closed_by_peer(ec) && !parser_->got_some()};
    }
    tcp_layer.expires_never();
    co_return exchange_outcome{};
}

asio::awaitable<void> hub_connection::process(work_item item) {
    co_await wait_turn();
    if (shard_.closing()) {
        shard_.finish(item, make_error_code(errc::shutting_down));
        co_return;
    }
    if (steady::now() >= item.deadline) {
        shard_.finish(item, make_error_code(errc::deadline_expired));
        co_return;
    }
    build_request(item);
    const bool reused = requests_on_connection_++ > 0;
    if (reused) {
        sender_.stats().bump(sender_.stats().requests_on_reused_connections);
    }
    const auto outcome = co_await exchange();
    if (outcome.ec) {
        close();
        if (shard_.closing()) {
            item.result().error_detail =
                "the request was in flight when the sender stopped; the hub may have accepted it";
            shard_.finish(item, make_error_code(errc::shutting_down));
        } else if (outcome.closed_before_answer && reused) {
            // The hub dropped an idle kept-alive connection: not the hub failing this notification.
            sender_.stats().bump(sender_.stats().resent_after_close);
            shard_.push_front(std::move(item));
        } else {
            ++item.result().attempts;
            item.result().error_detail = fmt::format("request to the hub failed: {}", outcome.ec.message());
            retry_or_fail(item, std::nullopt);
        }
        co_return;
    }
    ++item.result().attempts;
    handle_answer(item);
}

void hub_connection::handle_answer(work_item& item) {
    const auto message = parser_->release();
    if (sender_.config().on_exchange) {
        sender_.config().on_exchange(request_, message);
    }
    auto answer = classify_response(message, system_clock::now());
    auto& r = item.result();
    r.http_status = answer.status;
    r.tracking_id = std::move(answer.tracking_id);
    r.error_code = std::move(answer.error_code);
    r.error_detail = std::move(answer.error_detail);
    if (!message.keep_alive()) {
        close();
    }
    if (answer.throttled) {
        sender_.pause_until(steady::now() + answer.retry_after.value_or(
                                                duration_cast<seconds>(sender_.config().retry.backoff_base)));
    }
    switch (answer.kind) {
        case response_kind::success:
            r.unexpected_status = answer.unexpected_success;
            r.notification_id = std::move(answer.notification_id);
            r.test_outcome = std::move(answer.test_outcome);
            if (item.kind == work_kind::outcome_details) {
                r.body = message.body();
            }
            shard_.finish(item, {});
            break;
        case response_kind::permanent:
            shard_.finish(item, make_error_code(errc::hub_rejected));
            break;
        case response_kind::retriable:
            retry_or_fail(item, answer.retry_after);
            break;
    }
}

void hub_connection::retry_or_fail(work_item& item, std::optional<seconds> retry_after) {
    const auto& cfg = sender_.config();
    if (item.result().attempts >= cfg.retry.max_attempts) {
        shard_.finish(item, make_error_code(errc::retries_exhausted));
        return;
    }
    const auto delay = backoff_delay(cfg.retry, item.result().attempts, retry_after, shard_.jitter());
    if (steady::now() + delay >= item.deadline) {
        shard_.finish(item, make_error_code(errc::deadline_expired));
        return;
    }
    sender_.stats().bump(sender_.stats().retries);
    shard_.retry_later(std::move(item), delay);
}

}  // namespace nhpush::detail
