#include "sender/hub_connection.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
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
    // close() may have interrupted this connection while it was not waiting on the timer.
    if (shard_.closing()) {
        co_return;
    }
    timer_.expires_at(t);
    co_await timer_.async_wait(use_tuple);
}

asio::awaitable<error_code> hub_connection::resolve(tcp::resolver::results_type& addresses) {
    // getaddrinfo runs on a thread nobody can interrupt, and a cancelled async_resolve still
    // completes only when it returns. So the connection waits on its own timer, which the answer,
    // the timeout or interrupt() ends, and leaves a late answer to the shared state.
    struct race {
        explicit race(asio::io_context& ioc) : resolver(ioc) {}
        tcp::resolver resolver;
        asio::steady_timer* waiter = nullptr;
        bool done = false;
        error_code ec;
        tcp::resolver::results_type results;
    };
    const auto& ep = sender_.endpoint();
    auto r = std::make_shared<race>(shard_.context());
    r->waiter = &timer_;
    r->resolver.async_resolve(ep.host, ep.port, [r](error_code ec, tcp::resolver::results_type results) {
        r->ec = ec;
        r->results = std::move(results);
        r->done = true;
        if (r->waiter) {
            r->waiter->cancel();
        }
    });
    co_await sleep_until(steady::now() + sender_.config().timeouts.resolve);
    r->waiter = nullptr;
    if (!r->done) {
        r->resolver.cancel();
        co_return shard_.closing() ? make_error_code(asio::error::operation_aborted)
                                   : make_error_code(errc::resolve_timeout);
    }
    addresses = std::move(r->results);
    co_return r->ec;
}

asio::awaitable<error_code> hub_connection::connect() {
    const auto& cfg = sender_.config();
    const auto& ep = sender_.endpoint();
    tcp::resolver::results_type addresses;
    if (const auto ec = co_await resolve(addresses); ec) {
        co_return ec;
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
    if (auto [ec, _] = co_await tcp_layer.async_connect(addresses, use_tuple); ec || shard_.closing()) {
        co_return ec ? timeout_or(ec, errc::connect_timeout)
                     : make_error_code(asio::error::operation_aborted);
    }
    error_code ignored;  // without TCP_NODELAY the connection still works, a little slower
    tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
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
    if (shard_.closing()) {
        co_return make_error_code(asio::error::operation_aborted);
    }
    connected_at_ = steady::now();
    requests_on_connection_ = 0;
    sender_.stats().bump(sender_.stats().connections_opened);
    co_return error_code{};
}

void hub_connection::on_connect_failure(error_code ec) {
    const auto& ep = sender_.endpoint();
    close();
    if (shard_.closing()) {
        return;  // interrupted by stop: not the hub's fault, and nothing waits any more
    }
    if (connect_error_detail_.empty()) {
        connect_error_detail_ = fmt::format("connecting to {}:{} failed: {}", ep.host, ep.port, ec.message());
    }
    sender_.stats().bump(sender_.stats().connections_failed);
    if (connect_failures_ == 1) {
        sender_.log().log(log_level::warning, "hub {}: {}", ep.hub, connect_error_detail_);
    }
    if (ec == errc::tls_verify_failed) {
        // Not a passing fault: fail what waits rather than let it age to its deadline.
        shard_.fail_all_ready(ec, connect_error_detail_);
    } else if (auto taken = shard_.try_take()) {
        // Each failed connect costs one waiting notification an attempt, so the error surfaces.
        item_in_hand item(shard_, std::move(*taken));
        item.result().error_detail = connect_error_detail_;
        ++item.result().attempts;
        item.step(send_step::deciding);
        retry_or_fail(
            item,
            plan_retry(sender_.config().retry, item.result().attempts, false, std::nullopt, shard_.jitter())
                .delay);
    }
}

asio::awaitable<void> hub_connection::run() {
    const auto keep_alive = sender_.shared_from_this();
    while (!shard_.closing()) {
        // Declared outside the try so that the handler can fail the notification in hand; if the
        // coroutine itself is destroyed, its destructor completes the notification.
        std::optional<item_in_hand> held;
        bool failed = false;
        try {
            co_await turn(held);
        } catch (const std::exception& e) {
            on_unexpected(held, e.what());
            failed = true;
        } catch (...) {
            on_unexpected(held, "an exception of unknown type");
            failed = true;
        }
        if (failed) {
            // A fresh connection next time; a pause so that a connection that keeps failing
            // on its own (with nothing in hand to fail) does not spin.
            ++connect_failures_;
            co_await sleep_until(
                steady::now() +
                backoff_delay(sender_.config().reconnect, connect_failures_, std::nullopt, shard_.jitter()));
        }
    }
    close();
}

asio::awaitable<void> hub_connection::turn(std::optional<item_in_hand>& held) {
    if (!stream_) {
        connect_error_detail_.clear();
        if (const auto ec = co_await connect(); ec) {
            ++connect_failures_;
            on_connect_failure(ec);
            const auto delay =
                backoff_delay(sender_.config().reconnect, connect_failures_, std::nullopt, shard_.jitter());
            co_await sleep_until(steady::now() + delay);
            co_return;
        }
        if (connect_failures_ > 0) {
            sender_.log().log(log_level::info, "hub {}: connected again", sender_.endpoint().hub);
        }
        connect_failures_ = 0;
    }
    if (too_old()) {
        sender_.stats().bump(sender_.stats().connections_recycled);
        close();
        co_return;
    }
    auto item = co_await shard_.take(*this);
    if (!item) {
        co_return;
    }
    held.emplace(shard_, std::move(*item));
    co_await process(*held);
}

void hub_connection::on_unexpected(std::optional<item_in_hand>& held, std::string_view what) {
    close();
    const auto failures = ++unexpected_failures_;
    if (held) {
        held->fail_unexpected(what);
    }
    // Logged at powers of two: a fault that hits every notification must not flood the log.
    if ((failures & (failures - 1)) == 0) {
        sender_.log().log(
            log_level::error,
            "hub {}: unexpected error on the send path ({} on this connection), connection replaced: {}",
            sender_.endpoint().hub,
            failures,
            what);
    }
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

asio::awaitable<void> hub_connection::process(item_in_hand& item) {
    item.step(send_step::waiting);
    co_await wait_turn();
    if (shard_.closing()) {
        item.result().error_detail = "the sender stopped before this notification was sent";
        item.finish(make_error_code(errc::shutting_down));
        co_return;
    }
    if (steady::now() >= item->deadline) {
        item.finish(make_error_code(errc::deadline_expired));
        co_return;
    }
    item.step(send_step::building);
    build_request(*item);
    const bool reused = requests_on_connection_++ > 0;
    if (reused) {
        sender_.stats().bump(sender_.stats().requests_on_reused_connections);
    }
    item.step(send_step::on_the_wire);
    const auto outcome = co_await exchange();
    if (outcome.ec) {
        close();
        if (shard_.closing()) {
            // Cut by stop() with the request written, or partly: resending could duplicate it.
            item.result().error_detail =
                "the request was on the wire when the sender stopped; the hub may have accepted it";
            item.finish(make_error_code(errc::outcome_unknown));
        } else if (outcome.closed_before_answer && reused) {
            // The hub dropped an idle kept-alive connection: not the hub failing this notification.
            sender_.stats().bump(sender_.stats().resent_after_close);
            shard_.push_front(item.release());
        } else {
            ++item.result().attempts;
            item.result().error_detail = fmt::format("request to the hub failed: {}", outcome.ec.message());
            item.step(send_step::deciding);
            retry_or_fail(
                item,
                plan_retry(
                    sender_.config().retry, item.result().attempts, false, std::nullopt, shard_.jitter())
                    .delay);
        }
        co_return;
    }
    ++item.result().attempts;
    handle_answer(item);
}

void hub_connection::handle_answer(item_in_hand& item) {
    const auto message = parser_->release();
    if (sender_.config().on_exchange) {
        item.step(send_step::hook);
        sender_.config().on_exchange(request_, message);
    }
    item.step(send_step::classifying);
    auto answer = classify_response(message, system_clock::now());
    item.step(send_step::deciding);
    auto& r = item.result();
    r.http_status = answer.status;
    r.tracking_id = std::move(answer.tracking_id);
    r.error_code = std::move(answer.error_code);
    r.error_detail = std::move(answer.error_detail);
    if (!message.keep_alive()) {
        close();
    }
    const auto plan =
        plan_retry(sender_.config().retry, r.attempts, answer.throttled, answer.retry_after, shard_.jitter());
    if (plan.hub_pause > milliseconds::zero()) {
        sender_.pause_until(steady::now() + plan.hub_pause);
    }
    switch (answer.kind) {
        case response_kind::success:
            r.unexpected_status = answer.unexpected_success;
            r.notification_id = std::move(answer.notification_id);
            r.test_outcome = std::move(answer.test_outcome);
            if (item->kind == work_kind::outcome_details) {
                r.body = message.body();
            }
            item.finish({});
            break;
        case response_kind::permanent:
            item.finish(make_error_code(errc::hub_rejected));
            break;
        case response_kind::retriable:
            retry_or_fail(item, plan.delay);
            break;
    }
}

void hub_connection::retry_or_fail(item_in_hand& item, milliseconds delay) {
    const auto& cfg = sender_.config();
    if (item.result().attempts >= cfg.retry.max_attempts) {
        item.finish(make_error_code(errc::retries_exhausted));
        return;
    }
    if (steady::now() + delay >= item->deadline) {
        item.finish(make_error_code(errc::deadline_expired));
        return;
    }
    sender_.stats().bump(sender_.stats().retries);
    shard_.retry_later(item.release(), delay);
}

}  // namespace nhpush::detail
