// HTTP/2 over the connection's TLS stream: a reader coroutine feeds the hub's bytes to the
// sans-I/O h2_client_session; serve_h2() opens streams as work and the limits allow, writes what
// the session produces, and concludes each stream's notification as its answer or failure comes.

#include "sender/hub_connection.hpp"
#include "sender/hub_sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <climits>

namespace nhpush::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 64 * 1024;

// What SSL_read's failure means as Asio's SSL stream would report it (its engine::perform).
error_code tls_read_error(SSL* ssl, int result) {
    switch (SSL_get_error(ssl, result)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            return {};  // nothing more without the socket: the next asynchronous read waits for it
        case SSL_ERROR_ZERO_RETURN:
            return asio::error::eof;
        case SSL_ERROR_SSL:
        case SSL_ERROR_SYSCALL:
            if (const auto e = ERR_get_error(); e != 0) {
                return {static_cast<int>(e), asio::error::get_ssl_category()};
            }
            return asio::ssl::error::unspecified_system_error;
        default:
            return asio::ssl::error::unexpected_result;
    }
}

// Decrypts into `into` the TLS records already read from the socket, without a turn of the event
// loop: an asynchronous read returns one record, and a hub that answers each stream in a record of
// its own would otherwise cost a turn, and a write of our own, per answer.
std::size_t read_buffered(SSL* ssl, std::span<char> into, error_code& ec) {
    std::size_t total = 0;
    while (total < into.size() && !ec) {
        // SSL_get_error needs an empty error queue. ERR_clear_error clears all 16 slots (some 850
        // instructions), so only a queue that holds something is cleared.
        if (ERR_peek_error() != 0) {
            ERR_clear_error();
        }
        const auto room = static_cast<int>(std::min<std::size_t>(into.size() - total, INT_MAX));
        if (const int n = SSL_read(ssl, into.data() + total, room); n > 0) {
            total += static_cast<std::size_t>(n);
        } else if (ec = tls_read_error(ssl, n); !ec) {
            break;
        }
    }
    return total;
}

}  // namespace

asio::awaitable<hub_connection::serve_end> hub_connection::serve_h2() {
    const auto& cfg = sender_.config();
    // Without a hook to show them to, an answer needs only the fields its classification reads.
    session_.emplace(h2_limits{.max_streams = cfg.max_streams,
                               .max_response_bytes = cfg.max_response_bytes,
                               .all_response_fields = static_cast<bool>(cfg.on_exchange)});
    draining_ = false;
    read_error_ = {};
    last_heard_ = idle_since_ = steady::now();
    ping_answer_by_ = steady::time_point::max();
    reading_ = true;
    read_buffer_.resize(read_chunk);
    asio::co_spawn(shard_.context(), read_h2(), asio::detached);

    auto end = serve_end::closed;
    if (!co_await await_settings()) {
        end = serve_end::no_settings;
    } else {
        shard_.learned_capacity(std::min(cfg.max_streams, session_->peer_max_concurrent_streams()));
        end = co_await serve_streams();
    }
    // The reader ends when the socket closes; only then may the session go.
    interrupt();
    co_await reader_done();
    // Answers that came with the last bytes read count: failing them would resend what the hub has.
    std::vector<h2_event> last;
    session_->take_events(last);
    for (auto& e : last) {
        on_h2_event(e);
    }
    end_streams(shard_.closing() ? "" : "the connection to the hub was lost");
    session_.reset();
    co_return shard_.closing() ? serve_end::stop : end;
}

asio::awaitable<void> hub_connection::reader_done() {
    while (reading_) {
        reader_exit_.expires_at(steady::time_point::max());  // the reader's exit cancels it
        co_await reader_exit_.async_wait(use_tuple);
    }
}

asio::awaitable<void> hub_connection::read_h2() {
    const auto keep_alive = sender_.shared_from_this();
    while (stream_) {
        auto [ec, n] = co_await stream_->async_read_some(asio::buffer(read_buffer_), use_tuple);
        if (ec) {
            read_error_ = ec;
            break;
        }
        last_heard_ = steady::now();
        n += read_buffered(stream_->native_handle(), std::span(read_buffer_).subspan(n), ec);
        if (const auto bad = session_->receive({read_buffer_.data(), n}); bad) {
            read_error_ = bad;
            break;
        }
        if (ec) {
            read_error_ = ec;  // after the answers that came before it
            break;
        }
        wake();
    }
    reading_ = false;
    wake();
    reader_exit_.cancel();
}

asio::awaitable<bool> hub_connection::flush_h2() {
    // The session keeps the bytes it offers valid until consumed(), even while the reader feeds it
    // meanwhile: they are written straight from its buffer.
    for (auto out = session_->pending_output(); !out.empty(); out = session_->pending_output()) {
        write_deadline_ = steady::now() + sender_.config().timeouts.write;
        watch_writes();
        auto [ec, _] = co_await asio::async_write(*stream_, asio::buffer(out), use_tuple);
        write_deadline_ = steady::time_point::max();
        if (ec) {
            co_return false;
        }
        session_->consumed(out.size());
    }
    co_return true;
}

void hub_connection::watch_writes() {
    // One timer for many writes: armed at most once per write timeout, never cancelled (a write
    // per notification would otherwise arm and cancel a timer each, which a trickle of work pays
    // in system calls). When it fires it checks the write under way, if any.
    if (write_watch_armed_) {
        return;
    }
    write_watch_armed_ = true;
    write_watchdog_.expires_at(write_deadline_);
    write_watchdog_.async_wait([this](error_code ec) {
        if (ec) {
            return;  // the connection is going
        }
        write_watch_armed_ = false;
        if (write_deadline_ == steady::time_point::max()) {
            return;  // no write under way
        }
        if (steady::now() >= write_deadline_) {
            interrupt();  // a hub that stops reading: the write would wait for ever
            return;
        }
        watch_writes();  // a later write is under way: watch it until its own deadline
    });
}

asio::awaitable<bool> hub_connection::await_settings() {
    // A hub that sends no SETTINGS would take streams and answer none.
    const auto give_up_at = steady::now() + sender_.config().timeouts.handshake;
    while (!session_->settings_received()) {
        if (!co_await flush_h2() || !reading_ || shard_.closing()) {
            connect_error_detail_ = fmt::format("{}:{} closed the connection before its HTTP/2 SETTINGS: {}",
                                                sender_.endpoint().host,
                                                sender_.endpoint().port,
                                                read_error_ ? read_error_.message() : "write failed");
            co_return false;
        }
        if (steady::now() >= give_up_at) {
            connect_error_detail_ = fmt::format("{}:{} sent no HTTP/2 SETTINGS within {} ms",
                                                sender_.endpoint().host,
                                                sender_.endpoint().port,
                                                sender_.config().timeouts.handshake.count());
            co_return false;
        }
        co_await sleep_until(give_up_at);
    }
    co_return true;
}

asio::awaitable<hub_connection::serve_end> hub_connection::serve_streams() {
    const auto& cfg = sender_.config();
    std::vector<h2_event> events;
    while (true) {
        session_->take_events(events);
        for (auto& e : events) {
            on_h2_event(e);
        }
        const auto now = steady::now();
        auto wake_at = steady::time_point::max();
        if (session_->goaway() && !draining_) {
            sender_stats::bump(sender_.stats().goaways_received);
            draining_ = true;
        }
        if (!draining_ && machine_.too_old(now)) {
            sender_stats::bump(sender_.stats().connections_recycled);
            session_->shutdown();
            draining_ = true;
        }
        if (!draining_ && !shard_.closing()) {
            start_streams(now, wake_at);
        }
        if (!co_await flush_h2() || !reading_ || shard_.closing()) {
            co_return serve_end::closed;
        }
        if (!session_->alive() || (draining_ && streams_.empty())) {
            co_return serve_end::closed;
        }
        expire_streams(now, wake_at);
        if (streams_.empty() && !held_) {
            if (now - idle_since_ >= cfg.idle_timeout && !shard_.has_ready() && claim_idle_close()) {
                session_->shutdown();
                co_await flush_h2();
                co_return serve_end::idle;
            }
            wake_at = std::min(wake_at, idle_since_ + cfg.idle_timeout);
        }
        if (!keep_alive_checked(now, wake_at)) {
            co_return serve_end::closed;
        }
        const bool wants_work = !draining_ && !held_ && session_->can_submit();
        if (wants_work) {
            co_await shard_.wait_for_work(*this, wake_at);
        } else {
            co_await sleep_until(wake_at);
        }
    }
}

bool hub_connection::keep_alive_checked(steady::time_point now, steady::time_point& wake_at) {
    // A PING when the hub has been silent for ping_interval with nothing in flight: a connection
    // that died quietly (a NAT's timeout) is found before a notification is sent on it.
    const auto interval = sender_.config().ping_interval;
    if (interval.count() == 0) {
        return true;
    }
    if (ping_answer_by_ != steady::time_point::max()) {
        if (session_->pings_acked() >= pings_sent_) {
            ping_answer_by_ = steady::time_point::max();
        } else if (now >= ping_answer_by_) {
            sender_.log().log(log_level::warning,
                              "hub {}: no answer to an HTTP/2 PING within {} ms, connection replaced",
                              sender_.endpoint().hub,
                              sender_.config().timeouts.read.count());
            return false;
        } else {
            wake_at = std::min(wake_at, ping_answer_by_);
            return true;
        }
    }
    if (streams_.empty() && now - last_heard_ >= interval) {
        session_->ping();
        ++pings_sent_;
        ping_answer_by_ = now + sender_.config().timeouts.read;
        wake();  // the PING is written on the next turn
        return true;
    }
    wake_at = std::min(wake_at, last_heard_ + interval);
    return true;
}

void hub_connection::start_streams(steady::time_point now, steady::time_point& wake_at) {
    // One clock reading for the batch: the streams it opens go out together.
    while (session_->can_submit()) {
        if (!held_) {
            auto taken = shard_.try_take();
            if (!taken) {
                return;
            }
            held_.emplace(shard_, std::move(*taken));
            held_->step(send_step::waiting);
            held_turn_ = turn_at(now);
        }
        held_turn_ = std::max(held_turn_, sender_.paused_until());
        if (now < held_turn_) {
            wake_at = std::min(wake_at, held_turn_);
            return;
        }
        if (past_deadline(*held_, now)) {
            held_.reset();
            continue;
        }
        open_stream(now);
    }
}

void hub_connection::open_stream(steady::time_point now) {
    held_->step(send_step::building);
    try {
        build_request(**held_);
    } catch (const std::exception& e) {
        // This notification cannot be sent (async_send_prepared past the header gate, say); the
        // streams in flight are not concerned.
        held_->fail_unexpected(e.what());
        held_.reset();
        note_unexpected(e.what());
        return;
    }
    held_->step(send_step::on_the_wire);
    const auto id = session_->submit(outgoing_);
    auto [it, _] = streams_.try_emplace(id, shard_, held_->release());
    held_.reset();
    it->second.item.step(send_step::on_the_wire);
    if (sender_.config().on_exchange) {
        it->second.request = std::move(request_);
    }
    if (requests_on_connection_++ > 0) {
        sender_stats::bump(sender_.stats().requests_on_reused_connections);
    }
    shard_.request_started();
    answer_by_.emplace_back(now + sender_.config().timeouts.read, id);
}

void hub_connection::on_h2_event(h2_event& e) {
    const auto id = std::visit([](const auto& v) { return v.stream_id; }, e);
    const auto it = streams_.find(id);
    if (it == streams_.end()) {
        return;  // one we cancelled
    }
    auto& s = it->second;
    try {
        conclude_stream(s, e);
    } catch (const std::exception& ex) {
        // Handling one answer threw (a hook, say): it fails that notification only; the
        // connection and its other streams are fine.
        s.item.fail_unexpected(ex.what());
        note_unexpected(ex.what());
    }
    streams_.erase(it);
    shard_.request_ended();
    if (streams_.empty()) {
        idle_since_ = steady::now();
    }
}

void hub_connection::conclude_stream(stream_in_flight& s, h2_event& e) {
    if (auto* answer = std::get_if<h2_answer>(&e)) {
        conclude(s.item, request_end::answered, &answer->message, {}, s.request ? &*s.request : nullptr);
        return;
    }
    const auto& f = std::get<h2_failure>(e);
    if (f.why != h2_stream_failure::response_too_large) {
        sender_stats::bump(sender_.stats().streams_reset);
    }
    auto end = request_end::failed;
    if (f.why == h2_stream_failure::refused) {
        end = session_->goaway() ? request_end::above_goaway : request_end::not_processed;
    }
    conclude(s.item, end, nullptr, fmt::format("the hub's HTTP/2 stream failed: {}", f.detail));
}

void hub_connection::expire_streams(steady::time_point now, steady::time_point& wake_at) {
    // answer_by_ is in the order streams opened, and every stream waits equally long: the front
    // is the first due. Entries of streams that ended meanwhile are dropped as they surface.
    while (!answer_by_.empty()) {
        const auto [due, id] = answer_by_.front();
        const auto it = streams_.find(id);
        if (it == streams_.end()) {
            answer_by_.pop_front();
            continue;
        }
        if (due > now) {
            wake_at = std::min(wake_at, due);
            return;
        }
        answer_by_.pop_front();
        session_->cancel(id);
        conclude(it->second.item,
                 request_end::failed,
                 nullptr,
                 fmt::format("request to the hub failed: {}", make_error_code(errc::read_timeout).message()));
        streams_.erase(it);
        shard_.request_ended();
        if (streams_.empty()) {
            idle_since_ = now;
        }
        // The RST_STREAM goes out on the next turn: until then the session counts the stream as
        // open, and at the stream limit nothing else would wake this connection.
        wake();
    }
}

void hub_connection::end_streams(std::string_view why) {
    // Streams still open when the connection ends: the hub may have processed them. At a stop that
    // is an unknown outcome (item_in_hand's rule); otherwise an attempt, retried.
    for (auto& [id, s] : streams_) {
        if (why.empty()) {
            s.item.result().error_detail =
                "the request was on the wire when the sender stopped; the hub may have accepted it";
            s.item.finish(make_error_code(errc::outcome_unknown));
        } else {
            const auto detail =
                read_error_ ? fmt::format("{}: {}", why, read_error_.message()) : std::string(why);
            conclude(s.item, request_end::failed, nullptr, detail);
        }
        shard_.request_ended();
    }
    streams_.clear();
    answer_by_.clear();
    if (held_) {
        // Taken but not yet sent: back to the queue (completed as not sent if the shard closes).
        shard_.push_front(held_->release());
        held_.reset();
    }
}

}  // namespace nhpush::detail
