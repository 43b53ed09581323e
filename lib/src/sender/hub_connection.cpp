#include "sender/hub_connection.hpp"

#include "sender/hub_sender.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
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
void serialize(const wire_request& req, std::string& out) {
    out.clear();
    out.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");
    for (const auto& [name, value] : req.fields) {
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append("\r\n").append(req.body);
}

// ALPN wire format: length-prefixed protocol names, in order of preference.
std::string_view alpn_offer(hub_protocol p) {
    using namespace std::string_view_literals;
    switch (p) {
        case hub_protocol::automatic:
            return "\x02h2\x08http/1.1"sv;
        case hub_protocol::h2:
            return "\x02h2"sv;
        case hub_protocol::http1:
            break;
    }
    return "\x08http/1.1"sv;
}

}  // namespace

hub_connection::hub_connection(shard& s)
    : shard_(s)
    , sender_(s.owner())
    , machine_(sender_.config().reconnect, sender_.config().connection_max_age)
    , timer_(s.context())
    , reader_exit_(s.context())
    , write_watchdog_(s.context()) {}

hub_connection::~hub_connection() = default;

void hub_connection::interrupt() {
    wake();
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
        sender_stats::bump(sender_.stats().connections_open, static_cast<std::uint64_t>(-1));
    }
    buffer_.clear();
}

asio::awaitable<void> hub_connection::sleep_until(steady::time_point t) {
    // close() may have interrupted this connection while it was not waiting on the timer.
    if (shard_.closing() || std::exchange(woken_, false)) {
        co_return;
    }
    timer_.expires_at(t);
    co_await timer_.async_wait(use_tuple);
    woken_ = false;
}

// ---- the connection's life ----

asio::awaitable<void> hub_connection::run() {
    const auto keep_alive = sender_.shared_from_this();
    auto action = machine_.resume(connection_event::started, steady::now(), shard_.jitter());
    while (action.what != connection_action::kind::terminate) {
        bool failed = false;
        try {
            action = co_await perform(action);
        } catch (const std::exception& e) {
            fail_in_hand(e.what());
            failed = true;
        } catch (...) {
            fail_in_hand("an exception of unknown type");
            failed = true;
        }
        if (failed) {
            // A fresh connection after a pause, so that one that keeps failing does not spin.
            if (reading_) {
                interrupt();
                co_await reader_done();
            }
            close();
            session_.reset();
            action = machine_.resume(
                shard_.closing() ? connection_event::stop : connection_event::failed_unexpectedly,
                steady::now(),
                shard_.jitter());
        }
    }
    close();
}

asio::awaitable<connection_action> hub_connection::perform(connection_action action) {
    const auto next = [&](connection_event e) {
        return machine_.resume(shard_.closing() ? connection_event::stop : e, steady::now(), shard_.jitter());
    };
    switch (action.what) {
        case connection_action::kind::connect: {
            connect_error_detail_.clear();
            if (const auto ec = co_await connect(); ec) {
                co_return after_connect_failure(ec);
            }
            const auto resumed = next(connection_event::connected);
            if (machine_.recovered()) {
                sender_.log().log(log_level::info, "hub {}: connected again", sender_.endpoint().hub);
            }
            co_return resumed;
        }
        case connection_action::kind::wait_until:
            co_await sleep_until(action.until);
            co_return next(connection_event::wait_over);
        case connection_action::kind::serve:
            switch (co_await serve()) {
                case serve_end::closed:
                    co_return next(connection_event::closed);
                case serve_end::idle:
                    co_return next(connection_event::idle_expired);
                case serve_end::stop:
                    co_return next(connection_event::stop);
                case serve_end::no_settings:
                    co_return after_connect_failure(make_error_code(errc::protocol_error));
            }
            break;
        case connection_action::kind::terminate:
            break;
    }
    co_return connection_action{};
}

void hub_connection::fail_in_hand(std::string_view what) {
    if (held_) {
        held_->fail_unexpected(what);
        held_.reset();
    }
    for (auto& [id, s] : streams_) {
        s.item.fail_unexpected(what);
        shard_.request_ended();
    }
    streams_.clear();
    answer_by_.clear();
    note_unexpected(what);
}

void hub_connection::note_unexpected(std::string_view what) {
    const auto failures = ++unexpected_failures_;
    // Logged at powers of two: a fault that hits every notification must not flood the log.
    if ((failures & (failures - 1)) == 0) {
        sender_.log().log(log_level::error,
                          "hub {}: unexpected error on the send path ({} on this connection): {}",
                          sender_.endpoint().hub,
                          failures,
                          what);
    }
}

// ---- connecting ----

asio::awaitable<error_code> hub_connection::resolve(tcp::resolver::results_type& addresses) {
    // getaddrinfo runs on a thread nobody can interrupt, and a cancelled async_resolve still
    // completes only when it returns. So the connection waits on its own timer, which the answer,
    // the timeout or interrupt() ends, and leaves a late answer to the shared state.
    struct race {
        explicit race(asio::io_context& ioc) : resolver(ioc) {}
        tcp::resolver resolver;
        hub_connection* waiter = nullptr;
        bool done = false;
        error_code ec;
        tcp::resolver::results_type results;
    };
    const auto& ep = sender_.endpoint();
    auto r = std::make_shared<race>(shard_.context());
    r->waiter = this;
    r->resolver.async_resolve(ep.host, ep.port, [r](error_code ec, tcp::resolver::results_type results) {
        r->ec = ec;
        r->results = std::move(results);
        r->done = true;
        if (r->waiter) {
            r->waiter->wake();
        }
    });
    const auto give_up_at = steady::now() + sender_.config().timeouts.resolve;
    while (!r->done && !shard_.closing() && steady::now() < give_up_at) {
        co_await sleep_until(give_up_at);
    }
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
    sender_stats::bump(sender_.stats().connections_open);
    SSL* ssl = stream_->native_handle();
    // Certificate and host name (or IP) verification; SNI only for names (RFC 6066).
    if (is_ip_address(ep.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep.host.c_str());
    } else {
        SSL_set1_host(ssl, ep.host.c_str());
        SSL_set_tlsext_host_name(ssl, ep.host.c_str());
    }
    const auto offer = alpn_offer(cfg.protocol);
    SSL_set_alpn_protos(
        ssl, reinterpret_cast<const unsigned char*>(offer.data()), static_cast<unsigned>(offer.size()));
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
    tcp_layer.expires_never();
    if (shard_.closing()) {
        co_return make_error_code(asio::error::operation_aborted);
    }
    if (const auto ec = check_protocol(); ec) {
        co_return ec;
    }
    requests_on_connection_ = 0;
    sender_stats::bump(sender_.stats().connections_opened);
    if (h2_) {
        sender_stats::bump(sender_.stats().connections_h2);
    }
    co_return error_code{};
}

error_code hub_connection::check_protocol() {
    const unsigned char* name = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &name, &length);
    h2_ = std::string_view(reinterpret_cast<const char*>(name), length) == "h2";
    if (!h2_ && sender_.config().protocol == hub_protocol::h2) {
        connect_error_detail_ = fmt::format("{}:{} did not agree to HTTP/2 (ALPN), and protocol is h2",
                                            sender_.endpoint().host,
                                            sender_.endpoint().port);
        return make_error_code(errc::protocol_error);
    }
    return {};
}

connection_action hub_connection::after_connect_failure(error_code ec) {
    const auto& ep = sender_.endpoint();
    close();
    const auto action =
        machine_.resume(shard_.closing() ? connection_event::stop : connection_event::connect_failed,
                        steady::now(),
                        shard_.jitter());
    if (shard_.closing()) {
        return action;  // interrupted by stop: not the hub's fault, and nothing waits any more
    }
    if (connect_error_detail_.empty()) {
        connect_error_detail_ = fmt::format("connecting to {}:{} failed: {}", ep.host, ep.port, ec.message());
    }
    sender_stats::bump(sender_.stats().connections_failed);
    const auto effects = effects_of_connect_failure(ec, machine_.failures_in_a_row());
    if (effects.log_warning) {
        sender_.log().log(log_level::warning, "hub {}: {}", ep.hub, connect_error_detail_);
    }
    if (effects.fail_queue) {
        shard_.fail_all_ready(ec, connect_error_detail_);
    } else if (auto taken = effects.charge_one_item ? shard_.try_take() : std::nullopt) {
        item_in_hand item(shard_, std::move(*taken));
        conclude(item, request_end::connect_failed, nullptr, connect_error_detail_);
    }
    return action;
}

// ---- serving: what both protocols share ----

asio::awaitable<hub_connection::serve_end> hub_connection::serve() {
    const auto end = h2_ ? co_await serve_h2() : co_await serve_http1();
    close();
    if (end == serve_end::idle) {
        sender_stats::bump(sender_.stats().connections_closed_idle);
    }
    co_return end;
}

bool hub_connection::claim_idle_close() {
    retiring_ = shard_.claim_idle_close();
    return retiring_;
}

steady::time_point hub_connection::turn_at(steady::time_point now) {
    auto at = now;
    if (const auto wait = shard_.bucket().reserve(now); wait > steady::duration::zero()) {
        at = now + wait;
    }
    return std::max(at, sender_.paused_until());
}

bool hub_connection::past_deadline(item_in_hand& item, steady::time_point now) {
    if (now < item->deadline) {
        return false;
    }
    item.finish(make_error_code(errc::deadline_expired));
    return true;
}

void hub_connection::build_request(const work_item& item) {
    const auto now = system_clock::now();
    if (!token_ || !token_->fresh_at(now)) {
        token_ = sender_.tokens().get(sender_.endpoint().resource_uri);
    }
    switch (item.kind) {
        case work_kind::send:
            make_send_request(sender_.endpoint(), item.n, token_->authorization, outgoing_);
            if (sender_.config().on_exchange) {
                to_hub_request(outgoing_, request_);  // what the hook is shown
            }
            return;
        case work_kind::cancel_scheduled:
            request_ = build_cancel_scheduled_request(sender_.endpoint(), item.id, token_->authorization);
            break;
        case work_kind::outcome_details:
            request_ = build_outcome_details_request(sender_.endpoint(), item.id, token_->authorization);
            break;
    }
    view_request(request_, outgoing_);
}

void hub_connection::record_answer(item_in_hand& item,
                                   const hub_request& request,
                                   hub_response_message& message,
                                   hub_response& answer) {
    if (sender_.config().on_exchange) {
        item.step(send_step::hook);
        sender_.config().on_exchange(request, message);
    }
    item.step(send_step::classifying);
    answer = classify_response(message, system_clock::now());
    auto& r = item.result();
    r.http_status = answer.status;
    r.tracking_id = std::move(answer.tracking_id);
    r.error_code = std::move(answer.error_code);
    r.error_detail = std::move(answer.error_detail);
    if (answer.kind == response_kind::success) {
        r.unexpected_status = answer.unexpected_success;
        r.notification_id = std::move(answer.notification_id);
        r.test_outcome = std::move(answer.test_outcome);
        if (item->kind == work_kind::outcome_details) {
            r.body = std::move(message.body());
        }
    }
}

void hub_connection::conclude(item_in_hand& item,
                              request_end end,
                              hub_response_message* message,
                              std::string_view failure,
                              const hub_request* request) {
    hub_response answer;
    if (end == request_end::answered) {
        record_answer(item, request ? *request : request_, *message, answer);
    } else if (!failure.empty()) {
        item.result().error_detail = std::string(failure);
    }
    item.step(send_step::deciding);
    auto& r = item.result();
    const auto now = steady::now();
    const auto d = decide_after(end,
                                &answer,
                                {.attempts_before = r.attempts,
                                 .free_resends_before = item->free_resends,
                                 .retry = sender_.config().retry,
                                 .now = now,
                                 .deadline = item->deadline,
                                 .jitter = shard_.jitter()});
    if (d.attempt) {
        ++r.attempts;
    }
    if (d.hub_pause > milliseconds::zero()) {
        sender_.pause_until(now + d.hub_pause);
    }
    switch (d.what) {
        case send_decision::action::finish:
            item.finish(d.error);
            break;
        case send_decision::action::resend_now:
            if (end == request_end::not_processed) {
                ++item->free_resends;
            }
            sender_stats::bump(sender_.stats().resent_after_close);
            shard_.push_front(item.release());
            break;
        case send_decision::action::retry_later:
            sender_stats::bump(sender_.stats().retries);
            shard_.retry_later(item.release(), d.delay);
            break;
    }
}

// ---- HTTP/1.1 ----

asio::awaitable<hub_connection::serve_end> hub_connection::serve_http1() {
    shard_.learned_capacity(1);
    const auto& cfg = sender_.config();
    while (stream_) {
        if (shard_.closing()) {
            co_return serve_end::stop;
        }
        if (machine_.too_old(steady::now())) {
            sender_stats::bump(sender_.stats().connections_recycled);
            co_return serve_end::closed;
        }
        auto idle_until = steady::now() + cfg.idle_timeout;
        while (!shard_.has_ready() && !shard_.closing()) {
            if (steady::now() >= idle_until) {
                if (claim_idle_close()) {
                    co_return serve_end::idle;
                }
                idle_until = steady::now() + cfg.idle_timeout;
            }
            co_await shard_.wait_for_work(*this, idle_until);
        }
        auto taken = shard_.try_take();
        if (!taken) {
            continue;
        }
        held_.emplace(shard_, std::move(*taken));
        shard_.request_started();
        co_await send_http1(*held_);
        shard_.request_ended();
        held_.reset();
    }
    co_return serve_end::closed;
}

asio::awaitable<void> hub_connection::send_http1(item_in_hand& item) {
    item.step(send_step::waiting);
    for (auto at = turn_at(steady::now()); steady::now() < at && !shard_.closing();
         at = std::max(at, sender_.paused_until())) {
        co_await sleep_until(at);
    }
    if (shard_.closing()) {
        item.result().error_detail = "the sender stopped before this notification was sent";
        item.finish(make_error_code(errc::shutting_down));
        co_return;
    }
    if (past_deadline(item, steady::now())) {
        co_return;
    }
    item.step(send_step::building);
    build_request(*item);
    const bool reused = requests_on_connection_++ > 0;
    if (reused) {
        sender_stats::bump(sender_.stats().requests_on_reused_connections);
    }
    item.step(send_step::on_the_wire);
    auto end = co_await exchange_http1();
    if (end != request_end::answered) {
        const auto reason = failure_detail_;
        close();
        if (shard_.closing()) {
            // Cut by stop() with the request written, or partly: resending could duplicate it.
            item.result().error_detail =
                "the request was on the wire when the sender stopped; the hub may have accepted it";
            item.finish(make_error_code(errc::outcome_unknown));
            co_return;
        }
        if (end == request_end::not_processed && !reused) {
            end = request_end::failed;  // a fresh connection closed: the hub's failure, not a stale socket
        }
        conclude(item, end, nullptr, reason);
        co_return;
    }
    auto message = parser_->release();
    const bool keep_alive = message.keep_alive();
    conclude(item, request_end::answered, &message, {});
    if (!keep_alive) {
        close();
    }
}

asio::awaitable<request_end> hub_connection::exchange_http1() {
    const auto& cfg = sender_.config();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    const auto failed = [&](error_code ec, errc timeout, bool nothing_back) {
        failure_detail_ = fmt::format("request to the hub failed: {}", timeout_or(ec, timeout).message());
        return nothing_back && is_closed_by_peer(ec) ? request_end::not_processed : request_end::failed;
    };
    tcp_layer.expires_after(cfg.timeouts.write);
    serialize(outgoing_, wire_);
    if (auto [ec, _] = co_await asio::async_write(*stream_, asio::buffer(wire_), use_tuple); ec) {
        co_return failed(ec, errc::write_timeout, true);
    }
    tcp_layer.expires_after(cfg.timeouts.read);
    parser_.emplace();
    parser_->body_limit(cfg.max_response_bytes);
    if (auto [ec, _] = co_await http::async_read(*stream_, buffer_, *parser_, use_tuple); ec) {
        co_return failed(ec, errc::read_timeout, !parser_->got_some());
    }
    tcp_layer.expires_never();
    co_return request_end::answered;
}

}  // namespace nhpush::detail
