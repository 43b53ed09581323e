#pragma once
/**
 * @file A running redis-server for integration tests, and a small synchronous client for the test's
 * own commands (hiredis's redisContext: a different client from the daemon's).
 *
 * @code
 *   nhpush::testing::redis_process redis({.appendonly = true});
 *   nhpush::testing::redis_client r(redis.port());
 *   r.command({"XADD", "s", "*", "notification", json});
 *   redis.restart();                    // SIGKILL, then the same port and directory (AOF replayed)
 * @endcode
 */

#include "child_process.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nhpush::testing {

/** @brief A TCP socket bound to 127.0.0.1 at a port the kernel picks (not listening), and that port. */
std::pair<int, std::uint16_t> bound_loopback_socket();

struct redis_options {
    /// `--appendonly yes --appendfsync always`: every write is on disk before its answer, so a
    /// SIGKILL loses nothing Redis acknowledged.
    bool appendonly = false;
    /// `--requirepass`; empty: none.
    std::string password;
    std::chrono::milliseconds start_timeout{10'000};
};

/**
 * @brief Starts redis-server on 127.0.0.1 at a free port (`--save ''`, its files in a temp
 * directory), waits until it answers PING, and kills it when destroyed. Not thread-safe.
 * @throws std::runtime_error if it does not start.
 */
class redis_process {
public:
    explicit redis_process(redis_options options = {});
    ~redis_process();
    redis_process(const redis_process&) = delete;
    redis_process& operator=(const redis_process&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// `redis://127.0.0.1:PORT/0`
    std::string url() const;
    const std::string& dir() const noexcept { return dir_; }

    /// SIGKILL (a crash), then nothing listens on the port until start().
    void kill();
    /// Starts it again on the same port with the same directory.
    void start();
    void restart() {
        kill();
        start();
    }

private:
    bool answers_ping() const;

    redis_options options_;
    std::string dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
};

/** @brief Frees a hiredis reply. */
struct redis_reply_deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using redis_reply = std::unique_ptr<redisReply, redis_reply_deleter>;

/** @brief A synchronous connection for the test's own commands. Not thread-safe. */
class redis_client {
public:
    explicit redis_client(std::uint16_t port, const std::string& password = {});
    ~redis_client();
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;

    /// One command; throws on a connection error (a Redis error answer is a REDIS_REPLY_ERROR reply).
    redis_reply command(const std::vector<std::string>& args);
    /// Many commands in one pipeline; their replies in order.
    std::vector<redis_reply> pipeline(const std::vector<std::vector<std::string>>& commands);

    /// XLEN, or the count of XPENDING's summary.
    std::uint64_t integer(const std::vector<std::string>& args);
    std::uint64_t pending(const std::string& stream, const std::string& group);
    /// Every entry of a stream: [id, {field: value}].
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> range(
        const std::string& stream);

private:
    redisContext* context_ = nullptr;
};

}  // namespace nhpush::testing
