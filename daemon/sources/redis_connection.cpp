#include "sources/redis_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <array>

namespace nhpush::sources {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

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

redis_connection::redis_connection(asio::any_io_executor ex)
    : socket_(std::move(ex)), reader_(redisReaderCreate(), &redisReaderFree) {
    if (!reader_) {
        throw std::bad_alloc();
    }
}

redis_connection::~redis_connection() = default;

void redis_connection::close() noexcept {
    boost::system::error_code ignored;
    socket_.close(ignored);
    // A fresh reader: what the old one held belongs to a connection that is gone.
    reader_.reset(redisReaderCreate());
}

asio::awaitable<void> redis_connection::connect_only(std::string host, std::uint16_t port) {
    asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
    const auto endpoints = co_await resolver.async_resolve(host, std::to_string(port), asio::use_awaitable);
    co_await asio::async_connect(socket_, endpoints, asio::use_awaitable);
    socket_.set_option(asio::ip::tcp::no_delay(true));
}

asio::awaitable<void> redis_connection::connect(std::string host,
                                                std::uint16_t port,
                                                std::string password,
                                                unsigned db,
                                                std::chrono::milliseconds timeout) {
    close();
    where_ = fmt::format("{}:{}", host, port);
    try {
        auto result = co_await (connect_only(host, port) || sleep_for(timeout));
        if (result.index() == 1) {
            close();
            throw redis_io_error(
                fmt::format("connecting to {}: no answer within {} ms", where_, timeout.count()));
        }
    } catch (const boost::system::system_error& e) {
        close();
        throw redis_io_error(fmt::format("connecting to {}: {}", where_, e.code().message()));
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
    if (!socket_.is_open()) {
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
    co_await asio::async_write(socket_, asio::buffer(request), asio::use_awaitable);
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
        const auto n = co_await socket_.async_read_some(asio::buffer(buffer), asio::use_awaitable);
        redisReaderFeed(reader_.get(), buffer.data(), n);
    }
    co_return replies;
}

}  // namespace nhpush::sources
