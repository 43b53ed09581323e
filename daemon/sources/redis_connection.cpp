#include "sources/redis_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <array>

namespace nhpush::sources {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

namespace {

/// Formats one command in RESP with hiredis.
std::string format_command(const command_args& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    char* text = nullptr;
    const int n = redisFormatCommandArgv(&text, static_cast<int>(args.size()), argv.data(), lengths.data());
    if (n < 0 || text == nullptr) {
        throw std::bad_alloc();
    }
    std::string out(text, static_cast<std::size_t>(n));
    redisFreeCommand(text);
    return out;
}

/// Runs `op` and hands back its exception instead of throwing it: the awaitable operator `||` waits
/// for one operation to *succeed*, so a failure must complete normally to end the race at once.
template <class T>
asio::awaitable<std::pair<std::exception_ptr, T>> caught(asio::awaitable<T> op) {
    try {
        co_return std::pair{std::exception_ptr{}, co_await std::move(op)};
    } catch (...) {
        co_return std::pair{std::current_exception(), T{}};
    }
}

asio::awaitable<std::pair<std::exception_ptr, bool>> caught(asio::awaitable<void> op) {
    try {
        co_await std::move(op);
        co_return std::pair{std::exception_ptr{}, true};
    } catch (...) {
        co_return std::pair{std::current_exception(), false};
    }
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

/// The handshake checks the URL's host against the server's certificate: an IP address against its
/// IP names, a DNS name against its DNS names (and sent as SNI, which RFC 6066 has for names only).
void expect_peer(SSL* ssl, const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    const bool is_address = !ec;
    const bool set = is_address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1
                                : SSL_set1_host(ssl, host.c_str()) == 1 &&
                                      SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
    if (!set) {
        throw redis_io_error(fmt::format("TLS: {} cannot be set as the name to verify", host));
    }
}

}  // namespace

std::string describe(const redisReply* r) {
    if (r == nullptr) {
        return "no reply";
    }
    switch (r->type) {
        case REDIS_REPLY_ERROR:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_STRING:
            return std::string(r->str, r->len);
        case REDIS_REPLY_NIL:
            return "a nil reply";
        case REDIS_REPLY_INTEGER:
            return fmt::format("the integer {}", r->integer);
        case REDIS_REPLY_ARRAY:
            return fmt::format("an array of {}", r->elements);
        default:
            return fmt::format("a reply of type {}", r->type);
    }
}

redis_connection::redis_connection(asio::any_io_executor ex, asio::ssl::context* tls)
    : tls_(tls)
    , stream_(std::in_place_type<tcp::socket>, std::move(ex))
    , reader_(redisReaderCreate(), &redisReaderFree) {
    if (!reader_) {
        throw std::bad_alloc();
    }
}

redis_connection::~redis_connection() = default;

tcp::socket& redis_connection::socket() noexcept {
    auto* tls = std::get_if<tls_stream>(&stream_);
    return tls != nullptr ? tls->next_layer() : *std::get_if<tcp::socket>(&stream_);
}

const tcp::socket& redis_connection::socket() const noexcept {
    return const_cast<redis_connection*>(this)->socket();
}

void redis_connection::close() noexcept {
    // Without TLS's close_notify: the server needs none, and a closed socket ends pending operations.
    boost::system::error_code ignored;
    socket().close(ignored);
    // A fresh reader: what the old one held belongs to a connection that is gone.
    reader_.reset(redisReaderCreate());
}

asio::awaitable<void> redis_connection::open(std::string host, std::uint16_t port, std::string_view& step) {
    auto ex = socket().get_executor();
    tcp::resolver resolver(ex);
    const auto [resolve_error, endpoints] =
        co_await resolver.async_resolve(host, std::to_string(port), asio::as_tuple(asio::use_awaitable));
    if (resolve_error) {
        throw redis_io_error(fmt::format("connecting to {}: {}", where_, resolve_error.message()));
    }
    if (tls_ != nullptr) {
        auto& s = stream_.emplace<tls_stream>(ex, *tls_);
        s.set_verify_mode(asio::ssl::verify_peer);  // whatever the context says: no unverified TLS
        expect_peer(s.native_handle(), host);
    } else {
        stream_.emplace<tcp::socket>(ex);
    }
    const auto [connect_error, _] =
        co_await asio::async_connect(socket(), endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_error) {
        throw redis_io_error(fmt::format("connecting to {}: {}", where_, connect_error.message()));
    }
    boost::system::error_code ignored;  // without TCP_NODELAY the connection still works, a little slower
    socket().set_option(tcp::no_delay(true), ignored);
    if (auto* s = std::get_if<tls_stream>(&stream_)) {
        step = "TLS handshake with";
        const auto [ec] =
            co_await s->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            const long verify = SSL_get_verify_result(s->native_handle());
            throw redis_io_error(
                verify != X509_V_OK
                    ? fmt::format("TLS handshake with {} failed: certificate verify failed: {}",
                                  where_,
                                  X509_verify_cert_error_string(verify))
                    : fmt::format("TLS handshake with {} failed: {}", where_, ec.message()));
        }
    }
}

asio::awaitable<void> redis_connection::connect(std::string host,
                                                std::uint16_t port,
                                                std::string password,
                                                unsigned db,
                                                std::chrono::milliseconds timeout) {
    close();
    where_ = fmt::format("{}:{}", host, port);
    // caught(): a refused connection ends the race at once instead of when the timer does.
    std::string_view step = "connecting to";
    auto result = co_await (caught(open(host, port, step)) || sleep_for(timeout));
    if (result.index() == 1) {
        close();
        throw redis_io_error(fmt::format("{} {}: no answer within {} ms", step, where_, timeout.count()));
    }
    if (const auto& error = std::get<0>(result).first) {
        close();
        std::rethrow_exception(error);
    }
    if (tls_ != nullptr) {
        // A TLS 1.3 server checks the client's certificate after the handshake, so a refusal shows
        // at the first command: make that one a PING, whose failure can be explained (any answer,
        // NOAUTH included, means the connection was accepted).
        std::string refused;
        try {
            command_args ping{"PING"};
            co_await command(std::move(ping), timeout);
        } catch (const redis_io_error& e) {
            refused = e.what();
        }
        if (!refused.empty()) {
            throw redis_io_error(
                fmt::format("{}, right after the TLS handshake: the server may want a client "
                            "certificate it trusts (cert_file, key_file)",
                            refused));
        }
    }
    if (!password.empty()) {
        command_args auth{"AUTH",
                          std::move(password)};  // not inside co_await: GCC 12 rejects init lists there
        auto r = co_await command(std::move(auth), timeout);
        if (r->type == REDIS_REPLY_ERROR) {
            close();
            // Redis's message ("WRONGPASS invalid username-password pair") holds no secret.
            throw redis_io_error(fmt::format("AUTH at {} refused: {}", where_, describe(r.get())));
        }
    }
    if (db != 0) {
        command_args select{"SELECT", std::to_string(db)};
        auto r = co_await command(std::move(select), timeout);
        if (r->type == REDIS_REPLY_ERROR) {
            close();
            throw redis_io_error(fmt::format("SELECT {} at {} refused: {}", db, where_, describe(r.get())));
        }
    }
}

asio::awaitable<reply_ptr> redis_connection::command(command_args args, std::chrono::milliseconds timeout) {
    std::vector<command_args> one{std::move(args)};
    auto replies = co_await pipeline(one, timeout);
    co_return std::move(replies.front());
}

asio::awaitable<std::vector<reply_ptr>> redis_connection::pipeline(const std::vector<command_args>& commands,
                                                                   std::chrono::milliseconds timeout) {
    if (!is_open()) {
        throw redis_io_error(fmt::format("not connected to {}", where_));
    }
    std::string request;
    for (const auto& c : commands) {
        request += format_command(c);
    }
    auto result = co_await (caught(exchange(std::move(request), commands.size())) || sleep_for(timeout));
    if (result.index() == 1) {
        close();
        throw redis_io_error(fmt::format("{} did not answer within {} ms", where_, timeout.count()));
    }
    auto& [error, replies] = std::get<0>(result);
    if (error) {
        close();
        try {
            std::rethrow_exception(error);
        } catch (const boost::system::system_error& e) {
            throw redis_io_error(fmt::format("connection to {}: {}", where_, e.code().message()));
        }
    }
    co_return std::move(replies);
}

asio::awaitable<std::vector<reply_ptr>> redis_connection::exchange(std::string request, std::size_t count) {
    co_await std::visit(
        [&](auto& stream) { return asio::async_write(stream, asio::buffer(request), asio::use_awaitable); },
        stream_);
    std::vector<reply_ptr> replies;
    replies.reserve(count);
    std::array<char, 16384> buffer{};
    while (replies.size() < count) {
        void* reply = nullptr;
        if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
            const std::string why = reader_->errstr;
            close();
            throw redis_io_error(fmt::format("unreadable reply from {}: {}", where_, why));
        }
        if (reply != nullptr) {
            replies.emplace_back(static_cast<redisReply*>(reply));
            continue;
        }
        const auto n = co_await std::visit(
            [&](auto& stream) { return stream.async_read_some(asio::buffer(buffer), asio::use_awaitable); },
            stream_);
        redisReaderFeed(reader_.get(), buffer.data(), n);
    }
    co_return replies;
}

}  // namespace nhpush::sources
