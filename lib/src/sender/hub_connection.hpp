#pragma once
// One keep-alive TLS connection to the hub and the coroutine that feeds it notifications.

#include "sender/hub_sender.hpp"
#include "sender/item_in_hand.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <optional>

namespace nhpush::detail {

class hub_connection {
public:
    explicit hub_connection(shard& s);

    /// The connection's life: connect, take work, send, until the shard closes. Whatever a step
    /// throws fails only the notification in hand (send_path_failed) and replaces the connection.
    boost::asio::awaitable<void> run();

    /// Wakes the connection from any wait (resolve, idle, pause, back-off) and aborts its I/O.
    void interrupt();
    /// Wakes the connection if it is waiting for work.
    void wake() { timer_.cancel(); }
    /// Waits until wake() or interrupt().
    boost::asio::awaitable<void> sleep_idle();

private:
    struct exchange_outcome {
        boost::system::error_code ec;
        bool closed_before_answer = false;
    };

    /// One turn of run(): connect if needed, then take one notification and process it.
    boost::asio::awaitable<void> turn(std::optional<item_in_hand>& held);
    boost::asio::awaitable<boost::system::error_code> connect();
    boost::asio::awaitable<boost::system::error_code> resolve(
        boost::asio::ip::tcp::resolver::results_type& addresses);
    boost::asio::awaitable<exchange_outcome> exchange();
    boost::asio::awaitable<void> process(item_in_hand& item);
    boost::asio::awaitable<void> wait_turn();
    /// Waits until `t`, wake() or interrupt(); returns at once when the shard is closing.
    boost::asio::awaitable<void> sleep_until(steady::time_point t);
    void handle_answer(item_in_hand& item);
    void retry_or_fail(item_in_hand& item, std::chrono::milliseconds delay);
    void on_connect_failure(boost::system::error_code ec);
    void on_unexpected(std::optional<item_in_hand>& held, std::string_view what);
    void build_request(const work_item& item);
    void close();
    bool too_old() const;

    shard& shard_;
    hub_sender& sender_;
    boost::asio::steady_timer timer_;
    // The concrete executor type spares a type-erased executor copy on every I/O operation.
    using tcp_stream =
        boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
    std::optional<boost::asio::ssl::stream<tcp_stream>> stream_;
    boost::beast::flat_buffer buffer_;
    hub_request request_;
    std::string wire_;  // request_ serialised: one buffer, so one TLS record and one write
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<const sas_token> token_;
    steady::time_point connected_at_;
    std::size_t requests_on_connection_ = 0;
    int connect_failures_ = 0;
    std::uint64_t unexpected_failures_ = 0;
    std::string connect_error_detail_;
};

}  // namespace nhpush::detail
