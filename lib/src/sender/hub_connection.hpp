#pragma once
// One TLS connection to the hub and the coroutine that carries notifications over it: one at a
// time over HTTP/1.1, many concurrent streams over HTTP/2. The decisions are pure and live
// elsewhere: the connection's life in connection_machine.hpp, each request's outcome in
// send_decision.hpp, the number of connections in pool_sizing.hpp. This file only does I/O.

#include "sender/connection_machine.hpp"
#include "sender/h2_session.hpp"
#include "sender/item_in_hand.hpp"
#include "sender/send_decision.hpp"
#include "sender/shard.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <deque>
#include <map>
#include <optional>

namespace nhpush::detail {

class hub_sender;

class hub_connection {
public:
    explicit hub_connection(shard& s);
    ~hub_connection();

    /// The connection's life: performs what the connection_machine decides until it terminates.
    /// Whatever a step throws fails only the notifications in hand (send_path_failed) and replaces
    /// the connection.
    boost::asio::awaitable<void> run();

    /// Wakes the connection from any wait and aborts its I/O (the shard is closing).
    void interrupt();
    /// Wakes the connection: work is ready, or the hub sent something.
    void wake() {
        woken_ = true;
        timer_.cancel();
    }
    /// It closes for being idle: the shard no longer counts it against its minimum.
    bool retiring() const noexcept { return retiring_; }
    /// Waits until `t` or wake(); returns at once when the shard is closing or a wake() is pending.
    boost::asio::awaitable<void> sleep_until(steady::time_point t);
    /// Makes sure the write watchdog will look at the write under way by write_deadline_.
    void watch_writes();

private:
    /// How serving ended.
    enum class serve_end { closed, idle, stop, no_settings };
    /// A request on an HTTP/2 stream.
    struct stream_in_flight {
        stream_in_flight(shard& s, work_item&& w) : item(s, std::move(w)) {}
        item_in_hand item;
        std::optional<hub_request> request;  // kept for hub_client_config::on_exchange
    };

    boost::asio::awaitable<connection_action> perform(connection_action action);
    boost::asio::awaitable<boost::system::error_code> connect();
    boost::asio::awaitable<boost::system::error_code> resolve(
        boost::asio::ip::tcp::resolver::results_type& addresses);
    boost::system::error_code check_protocol();
    connection_action after_connect_failure(boost::system::error_code ec);
    boost::asio::awaitable<serve_end> serve();

    /// @name HTTP/1.1: one request at a time
    /// @{
    boost::asio::awaitable<serve_end> serve_http1();
    boost::asio::awaitable<void> send_http1(item_in_hand& item);
    boost::asio::awaitable<request_end> exchange_http1();
    /// @}

    /// @name HTTP/2: streams up to the hub's and our limit
    /// @{
    boost::asio::awaitable<serve_end> serve_h2();
    boost::asio::awaitable<serve_end> serve_streams();
    boost::asio::awaitable<void> read_h2();
    /// Waits until the reader coroutine has ended (after interrupt()).
    boost::asio::awaitable<void> reader_done();
    /// Writes what the session has to send; false when the connection failed.
    boost::asio::awaitable<bool> flush_h2();
    /// Waits for the hub's first SETTINGS; false if none came in time.
    boost::asio::awaitable<bool> await_settings();
    /// Opens streams while the limits, the rate, a hub pause and the queue allow.
    void start_streams(steady::time_point now, steady::time_point& wake_at);
    void open_stream(steady::time_point now);
    void on_h2_event(h2_event& e);
    void conclude_stream(stream_in_flight& s, h2_event& e);
    /// Resets the streams the hub has not answered within timeouts.read.
    void expire_streams(steady::time_point now, steady::time_point& wake_at);
    /// PINGs a silent idle connection; false when a PING went unanswered.
    bool keep_alive_checked(steady::time_point now, steady::time_point& wake_at);
    /// Settles the streams still open when the connection ends: "" at a stop.
    void end_streams(std::string_view why);
    /// @}

    /// The rate limit and a hub-wide pause: when the item in hand may be sent.
    steady::time_point turn_at(steady::time_point now);
    bool past_deadline(item_in_hand& item, steady::time_point now);
    void build_request(const work_item& item);
    /// Applies the rule of send_decision.hpp to a request that ended.
    /// `request` is the one answered (HTTP/2 streams keep theirs); request_ when null.
    void conclude(item_in_hand& item,
                  request_end end,
                  hub_response_message* answer,
                  std::string_view failure,
                  const hub_request* request = nullptr);
    void record_answer(item_in_hand& item,
                       const hub_request& request,
                       hub_response_message& message,
                       hub_response& answer);
    /// Fails every notification in hand with send_path_failed after an unexpected exception.
    void fail_in_hand(std::string_view what);
    /// Logs an unexpected failure, at powers of two.
    void note_unexpected(std::string_view what);
    void close();
    bool claim_idle_close();

    shard& shard_;
    hub_sender& sender_;
    connection_machine machine_;
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer reader_exit_;
    boost::asio::steady_timer write_watchdog_;  // HTTP/2: ends a write the hub does not take
    steady::time_point write_deadline_ = steady::time_point::max();  // of the write under way
    bool write_watch_armed_ = false;
    bool woken_ = false;
    bool retiring_ = false;
    // The concrete executor type spares a type-erased executor copy on every I/O operation.
    using tcp_stream =
        boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
    std::optional<boost::asio::ssl::stream<tcp_stream>> stream_;
    bool h2_ = false;
    std::string connect_error_detail_;
    std::string failure_detail_;  // why the last HTTP/1.1 exchange failed
    std::uint64_t unexpected_failures_ = 0;
    std::shared_ptr<const sas_token> token_;
    wire_request outgoing_;             // the request being sent, viewing the item in hand and token_
    hub_request request_;               // queries, and for hub_client_config::on_exchange the send too
    std::string wire_;                  // what is being written: one buffer, so one TLS record and one write
    std::optional<item_in_hand> held_;  // HTTP/1.1: the request in hand, or HTTP/2: the one waiting its turn
    steady::time_point held_turn_{};    // HTTP/2: when held_ may go (the rate limit, a hub pause)

    // HTTP/1.1
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    std::size_t requests_on_connection_ = 0;

    // HTTP/2
    std::optional<h2_client_session> session_;
    std::map<std::int32_t, stream_in_flight> streams_;
    std::deque<std::pair<steady::time_point, std::int32_t>> answer_by_;  // in the order streams opened
    std::vector<char> read_buffer_;
    bool reading_ = false;
    boost::system::error_code read_error_;
    bool draining_ = false;
    std::uint64_t pings_sent_ = 0;
    steady::time_point last_heard_{};
    steady::time_point ping_answer_by_ = steady::time_point::max();
    steady::time_point idle_since_{};
};

}  // namespace nhpush::detail
