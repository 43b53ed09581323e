#include "server/http_session.hpp"

#include "server/request_reading.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

namespace nhpush::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using namespace std::chrono;

// ---- session_tracker ----

void session_tracker::add(const std::shared_ptr<member>& m) {
    std::lock_guard lock(mutex_);
    members_.emplace(m.get(), m);
}

void session_tracker::remove(const member* m) {
    std::lock_guard lock(mutex_);
    members_.erase(m);
    if (members_.empty()) {
        empty_.notify_all();
    }
}

std::size_t session_tracker::size() const {
    std::lock_guard lock(mutex_);
    return members_.size();
}

std::vector<std::shared_ptr<session_tracker::member>> session_tracker::alive() const {
    std::vector<std::shared_ptr<member>> out;
    std::lock_guard lock(mutex_);
    for (const auto& [key, weak] : members_) {
        if (auto m = weak.lock()) {
            out.push_back(std::move(m));
        }
    }
    return out;
}

void session_tracker::close_all() {
    for (auto& m : alive()) {
        m->close_gracefully();
    }
}

void session_tracker::abort_all() {
    for (auto& m : alive()) {
        m->close_now();
    }
}

bool session_tracker::wait_until_empty(steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return empty_.wait_until(lock, deadline, [&] { return members_.empty(); });
}

// ---- reading a request ----

namespace {

bool is_http_error(const error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

}  // namespace

void apply_request_limits(request_parser& parser, const config::daemon_config& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
}

std::optional<api::api_error> read_failure(const error_code& ec) {
    if (ec == http::error::header_limit) {
        return api::api_error{
            api::api_errc::headers_too_large, "the request line and headers are too large", ""};
    }
    if (ec == http::error::body_limit) {
        return api::api_error{api::api_errc::body_too_large, "the request body is too large", ""};
    }
    if (ec == http::error::partial_message) {
        return api::api_error{
            api::api_errc::bad_request, "the request ended before its body was complete (truncated)", ""};
    }
    if (ec != http::error::end_of_stream && is_http_error(ec)) {
        return api::api_error{api::api_errc::bad_request, "malformed HTTP request: " + ec.message(), ""};
    }
    return std::nullopt;
}

namespace {

using stream_type = beast::basic_stream<asio::local::stream_protocol>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// After an answer to a request that could not be read, how long and how much of what the client
// still sends is read and dropped, so that it sees the answer rather than a reset.
constexpr seconds linger_time{1};
constexpr std::size_t linger_bytes = 1 << 20;

api::method to_method(http::verb v) {
    switch (v) {
        case http::verb::get:
            return api::method::get;
        case http::verb::head:
            return api::method::head;
        case http::verb::post:
            return api::method::post;
        case http::verb::put:
            return api::method::put;
        case http::verb::delete_:
            return api::method::del;
        default:
            return api::method::other;
    }
}

http::response<http::string_body> to_response(api::response_data&& a, unsigned version, bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(a.status), version};
    res.set(http::field::content_type, a.content_type);
    if (a.retry_after != 0) {
        res.set(http::field::retry_after, std::to_string(a.retry_after));
    }
    if (!a.allow.empty()) {
        res.set(http::field::allow, a.allow);
    }
    res.body() = std::move(a.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

class http_session final : public session_tracker::member, public std::enable_shared_from_this<http_session> {
public:
    http_session(asio::local::stream_protocol::socket socket,
                 api::api_services& services,
                 session_tracker& tracker)
        : stream_(std::move(socket)), services_(services), tracker_(tracker), handler_(services) {
        services_.counters.connections_open.fetch_add(1, std::memory_order_relaxed);
    }

    ~http_session() override {
        tracker_.remove(this);
        services_.counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
    }

    stream_type::executor_type executor() { return stream_.get_executor(); }

    void close_gracefully() override {
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (self->idle_) {
                self->stream_.cancel();
            }
        });
    }

    void close_now() override {
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            self->stream_.close();
        });
    }

    asio::awaitable<void> run() {
        for (;;) {
            request_parser parser;
            if (!co_await read_request(parser)) {
                break;
            }
            auto& req = parser.get();
            const bool keep_alive = req.keep_alive();
            const unsigned version = req.version();
            auto answer = co_await answer_request(req);
            spare_body_ = std::move(req.body());
            // Once the daemon stops, every answer is the connection's last.
            const bool again = keep_alive && !closing_ && !services_.stopping.load(std::memory_order_relaxed);
            if (!co_await write(to_response(std::move(answer), version, again)) || !again) {
                break;
            }
        }
        error_code ignored;
        stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        stream_.close();
    }

private:
    /// Reads one request; false when the connection is done (after answering an unreadable request).
    asio::awaitable<bool> read_request(request_parser& parser) {
        // The limits in force when the request starts (a reload may change them).
        const auto& limits = handler_.current_config().daemon;
        const auto idle = duration_cast<steady_clock::duration>(limits.client_idle_timeout);
        idle_timeout_ = idle;
        apply_request_limits(parser, limits);
        // The body's memory is reused from the previous request (the string_body reader appends).
        spare_body_.clear();
        parser.get().body() = std::move(spare_body_);

        idle_ = true;
        if (closing_) {
            co_return false;
        }
        stream_.expires_after(idle);
        auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
        idle_ = false;
        if (!ec && !parser.is_done()) {
            if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
                stream_.expires_after(idle);
                std::tie(ec, n) = co_await http::async_write(stream_, go_on, use_tuple);
            }
            if (!ec) {
                stream_.expires_after(idle);
                std::tie(ec, n) = co_await http::async_read(stream_, buffer_, parser, use_tuple);
            }
        }
        stream_.expires_never();
        if (!ec) {
            co_return true;
        }
        if (auto failure = read_failure(ec)) {
            auto answer = handler_.error_response(*failure);
            if (co_await write(to_response(std::move(answer), 11, false))) {
                co_await linger();
            }
        }
        co_return false;
    }

    asio::awaitable<api::response_data> answer_request(http::request<http::string_body>& req) {
        auto outcome = handler_.handle({.verb = to_method(req.method()),
                                        .target = req.target(),
                                        .content_type = req[http::field::content_type],
                                        .body = req.body()});
        if (auto* answer = std::get_if<api::response_data>(&outcome)) {
            co_return std::move(*answer);
        }
        if (auto* sync = std::get_if<api::pending_sync>(&outcome)) {
            // fsync = "always": the 202 goes once the spool's next sync covers what was accepted.
            auto [ec] = co_await services_.dispatcher.spool()->async_wait_durable(sync->ticket, use_tuple);
            co_return ec ? handler_.sync_failed(ec) : std::move(sync->answer);
        }
        if (auto* query = std::get_if<api::pending_hub_query>(&outcome)) {
            co_return co_await ask_hub(*query);
        }
        // Wait mode: the completion is dispatched to this coroutine's executor, i.e. this session's
        // thread. No deadline here: the hub's own deadline bounds the wait.
        auto& wait = std::get<api::pending_wait>(outcome);
        auto [ec, result, at_once] = co_await services_.dispatcher.async_submit(
            *wait.slot, wait.id, std::move(wait.n), std::move(wait.text), use_tuple);
        co_return handler_.finish_wait(wait, ec, result, at_once);
    }

    /// A cancel or details query, queued to the hub like a send; the hub's timeouts and the
    /// notification deadline bound the wait, as for wait mode.
    asio::awaitable<api::response_data> ask_hub(const api::pending_hub_query& query) {
        auto& hub = *query.slot->hub;
        const auto& id = query.record.notification_id;
        // The library completes on the handler's executor: this coroutine's, this session's thread.
        // (No co_await inside ?: — gcc 12 miscompiles it.)
        std::tuple<error_code, send_result> answer;
        if (query.what == api::pending_hub_query::kind::cancel_scheduled) {
            answer = co_await hub.cancel_scheduled_notification(id, use_tuple);
        } else {
            answer = co_await hub.get_notification_outcome_details(id, use_tuple);
        }
        const auto& [ec, result] = answer;
        co_return handler_.finish_hub_query(query, ec, result);
    }

    asio::awaitable<bool> write(http::response<http::string_body> res) {
        stream_.expires_after(idle_timeout_);
        auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
        stream_.expires_never();
        co_return !ec;
    }

    /// Reads and drops what the client still sends, within linger_time and linger_bytes.
    asio::awaitable<void> linger() {
        error_code ignored;
        stream_.socket().shutdown(asio::socket_base::shutdown_send, ignored);
        std::array<char, 16384> sink;
        std::size_t dropped = 0;
        stream_.expires_after(linger_time);
        while (dropped < linger_bytes) {
            auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
            if (ec) {
                break;
            }
            dropped += n;
        }
        stream_.expires_never();
    }

    stream_type stream_;
    api::api_services& services_;
    session_tracker& tracker_;
    api::request_handler handler_;
    beast::flat_buffer buffer_;
    std::string spare_body_;
    steady_clock::duration idle_timeout_ = seconds{60};
    bool idle_ = true;
    bool closing_ = false;
};

}  // namespace

void start_session(asio::local::stream_protocol::socket socket,
                   api::api_services& services,
                   session_tracker& tracker) {
    auto session = std::make_shared<http_session>(std::move(socket), services, tracker);
    tracker.add(session);
    asio::co_spawn(
        session->executor(),
        [session]() { return session->run(); },
        [&services](std::exception_ptr e) {
            if (!e) {
                return;
            }
            std::uint64_t suppressed = 0;
            if (!services.session_errors.allow(steady_clock::now(), suppressed)) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                services.log.log(log_level::error,
                                 "a client session ended by an unexpected error: {}{}",
                                 x.what(),
                                 log::suppressed_note(suppressed));
            } catch (...) {
                services.log.log(log_level::error, "a client session ended by an unexpected error");
            }
        });
}

}  // namespace nhpush::server
