#pragma once
/**
 * @file One connection to Redis on an Asio event loop: commands are formatted by hiredis
 * (redisFormatCommandArgv) and answers parsed by hiredis's reader (redisReader), fed from a socket
 * this class owns.
 *
 * Why the reader and not redisAsyncContext with an adapter: the socket, its timeouts and its
 * cancellation stay plain Asio (a coroutine with a deadline per command), with no C callbacks that
 * outlive their objects, and hiredis still does all of RESP. TLS (rediss://) is an Asio SSL stream
 * over the same socket: only the connect step and the stream the bytes go through differ.
 */

#include <hiredis/hiredis.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nhpush::sources {

/** @brief Frees a hiredis reply tree. */
struct reply_deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};

/** @brief A reply tree as hiredis's reader built it. */
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/** @brief One command: its words, binary-safe. */
using command_args = std::vector<std::string>;

/** @brief The connection failed: refused, closed, timed out, a TLS handshake (or the server's
 *  certificate) refused, or a reply that cannot be parsed. */
struct redis_io_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/**
 * @brief A connection to one Redis server. Not thread-safe: use it from one coroutine at a time on
 * its executor. After a redis_io_error, close() it and connect() again.
 */
class redis_connection {
public:
    /**
     * @param tls for rediss://: the client context (CA, client certificate, verify_peer) every
     * connection is made with, the server's name or IP checked against its certificate; null for
     * redis://. It must outlive the connection.
     */
    explicit redis_connection(boost::asio::any_io_executor ex, boost::asio::ssl::context* tls = nullptr);
    ~redis_connection();
    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;

    /**
     * @brief Connects (and makes the TLS handshake), then AUTH (when `password` is not empty) and
     * SELECT (when `db` is not 0), each step within `timeout`.
     * @throws redis_io_error, naming `host:port` and what failed; never the password.
     */
    boost::asio::awaitable<void> connect(std::string host,
                                         std::uint16_t port,
                                         std::string password,
                                         unsigned db,
                                         std::chrono::milliseconds timeout);

    /**
     * @brief Sends the commands in one write and reads one reply for each, all within `timeout`.
     * A Redis error answer (`-ERR …`) is a reply of type REDIS_REPLY_ERROR, not an exception.
     * @throws redis_io_error on a connection failure or when `timeout` passes (the connection is
     * closed then: a late reply must not be taken for the next command's).
     */
    boost::asio::awaitable<std::vector<reply_ptr>> pipeline(const std::vector<command_args>& commands,
                                                            std::chrono::milliseconds timeout);

    /** @brief pipeline() of one command. */
    boost::asio::awaitable<reply_ptr> command(command_args args, std::chrono::milliseconds timeout);

    /** @brief Closes the socket; pending operations end with redis_io_error. */
    void close() noexcept;

    bool is_open() const noexcept { return socket().is_open(); }

private:
    using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

    boost::asio::awaitable<std::vector<reply_ptr>> exchange(std::string request, std::size_t replies);
    /// Resolves, connects and (rediss://) makes the TLS handshake; `step` names the step under way.
    boost::asio::awaitable<void> open(std::string host, std::uint16_t port, std::string_view& step);
    /// The TCP socket, under the TLS stream for rediss://.
    boost::asio::ip::tcp::socket& socket() noexcept;
    const boost::asio::ip::tcp::socket& socket() const noexcept;

    boost::asio::ssl::context* tls_;
    /// A new one at each connect: a TLS stream cannot be used again once closed.
    std::variant<boost::asio::ip::tcp::socket, tls_stream> stream_;
    std::unique_ptr<redisReader, void (*)(redisReader*)> reader_;
    std::string where_;  ///< host:port, for messages
};

/** @brief The text of an error reply, or of the reply's type when it is not the one expected. */
std::string describe(const redisReply* r);

}  // namespace nhpush::sources
