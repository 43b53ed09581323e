// Driving an h2_session over Asio: one reader, one writer, a timer per delayed answer.

#include "hubsim/h2_connection.hpp"

#include "hubsim/h2_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <unordered_map>

namespace nhpush::hubsim {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t write_chunk = 64 * 1024;
/// After a graceful end (GOAWAY, every stream done) the client gets this long to close first, so
/// that a close with unread input does not turn into a TCP reset that could eat the last answers.
constexpr auto linger_timeout = 2s;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

answer_mode mode_of(const reply& rep, h2_misbehavior misbehave) noexcept {
    if (rep.drop) {
        return answer_mode::headers_then_close;
    }
    if (misbehave == h2_misbehavior::reset_mid_stream) {
        return answer_mode::headers_then_reset;
    }
    return rep.close_after ? answer_mode::close_after : answer_mode::whole;
}

/// How the writer ended.
enum class ending { graceful, client_left, abrupt };

class h2_connection final : public h2_session_owner, public std::enable_shared_from_this<h2_connection> {
public:
    h2_connection(tls_stream stream,
                  request_handler& handler,
                  const http2_config& config,
                  std::chrono::seconds idle_timeout)
        : stream_(std::move(stream))
        , handler_(handler)
        , config_(config)
        , idle_timeout_(idle_timeout)
        , wake_(stream_.get_executor())
        , reader_exit_(stream_.get_executor())
        , session_(config, *this, handler.stats()) {
        conn_.protocol = http_protocol::h2;
    }

    asio::awaitable<void> run() {
        thread_stats::bump(handler_.stats().connections_h2);
        if (config_.misbehave == h2_misbehavior::no_settings) {
            co_await read_loop(shared_from_this(), false);
            close();
            co_return;
        }
        asio::co_spawn(stream_.get_executor(), read_loop(shared_from_this(), true), asio::detached);
        if (co_await write_loop() == ending::graceful && !reader_done_) {
            beast::error_code ignored;
            beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_send, ignored);
            reader_exit_.expires_after(linger_timeout);
            co_await reader_exit_.async_wait(use_tuple);
        }
        close();
    }

    void on_request(std::int32_t stream_id, const request& req, bool too_large) override {
        auto p = std::make_unique<pending_answer>(stream_.get_executor());
        const auto now = std::chrono::system_clock::now();
        if (too_large) {
            handler_.reject_too_large(20, now, p->rep, http_protocol::h2);
        } else {
            handler_.handle(req, conn_, now, p->rep);
        }
        if (p->rep.delay.count() <= 0) {
            send(stream_id, p->rep);
            return;
        }
        // A timer per stream: a delayed answer holds up nothing else on the connection.
        p->timer.expires_after(p->rep.delay);
        p->timer.async_wait([self = shared_from_this(), stream_id](boost::system::error_code ec) {
            if (!ec) {
                self->deliver(stream_id);
            }
        });
        pending_[stream_id] = std::move(p);
    }

    void on_stream_closed(std::int32_t stream_id) override { pending_.erase(stream_id); }

private:
    struct pending_answer {
        explicit pending_answer(const asio::any_io_executor& ex) : timer(ex) {}
        reply rep;
        asio::steady_timer timer;
    };

    /// Reads and feeds the session (or, with `feed` false, discards) until the client leaves,
    /// the session is done, or nothing arrives for the idle timeout.
    asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<h2_connection> keep_alive, bool feed) {
        std::array<std::uint8_t, 16 * 1024> buffer;
        auto& tcp = beast::get_lowest_layer(stream_);
        auto& stats = handler_.stats();
        for (;;) {
            tcp.expires_after(idle_timeout_);
            auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buffer), use_tuple);
            if (ec) {
                break;
            }
            thread_stats::bump(stats.bytes_received, n);
            if (!feed) {
                continue;
            }
            const bool ok = session_.receive(buffer.data(), n);
            wake_writer();
            if (!ok || !session_.alive()) {
                break;
            }
        }
        reader_done_ = true;
        wake_writer();
        reader_exit_.cancel();
    }

    /// Writes whatever the session has, sleeping on `wake_` when it has nothing.
    asio::awaitable<ending> write_loop() {
        std::string out;
        out.reserve(write_chunk);
        auto& stats = handler_.stats();
        for (;;) {
            out.clear();
            if (!session_.take_output(out, write_chunk)) {
                co_return ending::abrupt;
            }
            if (out.empty()) {
                if (session_.must_close()) {
                    co_return ending::abrupt;
                }
                if (reader_done_) {
                    co_return ending::client_left;
                }
                if (!session_.alive()) {
                    co_return ending::graceful;
                }
                wake_.expires_at(asio::steady_timer::time_point::max());
                co_await wake_.async_wait(use_tuple);
                continue;
            }
            auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(out), use_tuple);
            thread_stats::bump(stats.bytes_sent, n);
            if (ec || session_.must_close()) {
                co_return ending::abrupt;  // a drop or close_after fault: no TLS close, as on HTTP/1.1
            }
        }
    }

    void deliver(std::int32_t stream_id) {
        const auto it = pending_.find(stream_id);
        if (it == pending_.end()) {
            return;
        }
        const auto p = std::move(it->second);
        pending_.erase(it);
        send(stream_id, p->rep);
    }

    void send(std::int32_t stream_id, reply& rep) {
        if (rep.reset) {
            session_.reset(stream_id, *rep.reset);
        } else {
            session_.answer(stream_id, std::move(rep.res), mode_of(rep, config_.misbehave));
        }
        wake_writer();
    }

    void wake_writer() { wake_.cancel(); }

    void close() {
        auto& tcp = beast::get_lowest_layer(stream_);
        beast::error_code ignored;
        tcp.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        tcp.close();
        pending_.clear();  // their timers end with operation_aborted and let go of this connection
    }

    tls_stream stream_;
    request_handler& handler_;
    const http2_config& config_;
    const std::chrono::seconds idle_timeout_;
    connection_state conn_;
    asio::steady_timer wake_;
    asio::steady_timer reader_exit_;
    bool reader_done_ = false;
    std::unordered_map<std::int32_t, std::unique_ptr<pending_answer>> pending_;
    h2_session session_;  // last: destroyed first, while what its callbacks touch still exists
};

}  // namespace

asio::awaitable<void> serve_h2(tls_stream stream,
                               request_handler& handler,
                               const http2_config& config,
                               std::chrono::seconds idle_timeout) {
    const auto connection = std::make_shared<h2_connection>(std::move(stream), handler, config, idle_timeout);
    co_await connection->run();
}

}  // namespace nhpush::hubsim
