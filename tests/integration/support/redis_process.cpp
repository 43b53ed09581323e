#include "redis_process.hpp"

#include "test_wait.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <csignal>

#include <filesystem>
#include <stdexcept>

namespace nhpush::testing {

using namespace std::chrono;

std::pair<int, std::uint16_t> bound_loopback_socket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw std::runtime_error("cannot bind a loopback socket");
    }
    return {fd, ntohs(addr.sin_port)};
}

namespace {

/// A port nothing listens on now (bound to port 0, then released). Another process may take it
/// before redis-server does; the constructor then tries another.
std::uint16_t free_loopback_port() {
    const auto [fd, port] = bound_loopback_socket();
    ::close(fd);
    return port;
}

}  // namespace

redis_process::redis_process(redis_options options)
    : options_(std::move(options)), dir_(make_temp_dir("nhpush-redis")) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_loopback_port();
        try {
            start();
            return;
        } catch (const std::runtime_error&) {
            child_.reset();
        }
    }
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("redis-server did not start (see " + dir_ + "/redis.log)");
}

redis_process::~redis_process() {
    child_.reset();  // SIGKILL and reap
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string redis_process::url() const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

void redis_process::kill() {
    if (child_) {
        child_->signal(SIGKILL);
        child_->wait(seconds{10});
        child_.reset();
    }
}

void redis_process::start() {
    std::vector<std::string> args = {"--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--dir",
                                     dir_,
                                     "--logfile",
                                     dir_ + "/redis.log",
                                     "--daemonize",
                                     "no"};
    if (options_.appendonly) {
        args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
    }
    if (!options_.password.empty()) {
        args.insert(args.end(), {"--requirepass", options_.password});
    }
    child_ = std::make_unique<child_process>(
        child_process::options{.program = "/usr/bin/redis-server", .args = args});
    if (!poll_until([&] { return answers_ping() || child_->wait(milliseconds{0}).has_value(); },
                    options_.start_timeout) ||
        !answers_ping()) {
        throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port_));
    }
}

bool redis_process::answers_ping() const {
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    bool ok = false;
    if (c != nullptr && c->err == 0) {
        if (!options_.password.empty()) {
            freeReplyObject(redisCommand(c, "AUTH %s", options_.password.c_str()));
        }
        auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
        // -LOADING while the AOF is replayed: not ready yet.
        ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

redis_client::redis_client(std::uint16_t port, const std::string& password) {
    timeval tv{5, 0};
    context_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (context_ == nullptr || context_->err != 0) {
        throw std::runtime_error("cannot connect to redis-server on port " + std::to_string(port));
    }
    redisSetTimeout(context_, tv);
    if (!password.empty()) {
        command({"AUTH", password});
    }
}

redis_client::~redis_client() {
    redisFree(context_);
}

redis_reply redis_client::command(const std::vector<std::string>& args) {
    auto replies = pipeline({args});
    return std::move(replies.front());
}

std::vector<redis_reply> redis_client::pipeline(const std::vector<std::vector<std::string>>& commands) {
    for (const auto& args : commands) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lengths.push_back(a.size());
        }
        redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv.data(), lengths.data());
    }
    std::vector<redis_reply> replies;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* r = nullptr;
        if (redisGetReply(context_, &r) != REDIS_OK || r == nullptr) {
            throw std::runtime_error(std::string("redis: ") + context_->errstr);
        }
        replies.emplace_back(static_cast<redisReply*>(r));
    }
    return replies;
}

std::uint64_t redis_client::integer(const std::vector<std::string>& args) {
    auto r = command(args);
    if (r->type != REDIS_REPLY_INTEGER) {
        throw std::runtime_error("redis: " + args.front() + " did not answer an integer");
    }
    return static_cast<std::uint64_t>(r->integer);
}

std::uint64_t redis_client::pending(const std::string& stream, const std::string& group) {
    auto r = command({"XPENDING", stream, group});
    if (r->type == REDIS_REPLY_ERROR) {
        return 0;  // NOGROUP: no daemon has created the group yet
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
        throw std::runtime_error("redis: XPENDING did not answer a summary");
    }
    return static_cast<std::uint64_t>(r->element[0]->integer);
}

std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> redis_client::range(
    const std::string& stream) {
    auto r = command({"XRANGE", stream, "-", "+"});
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> out;
    for (std::size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
        const auto* e = r->element[i];
        std::vector<std::pair<std::string, std::string>> fields;
        for (std::size_t f = 0; f + 1 < e->element[1]->elements; f += 2) {
            fields.emplace_back(
                std::string(e->element[1]->element[f]->str, e->element[1]->element[f]->len),
                std::string(e->element[1]->element[f + 1]->str, e->element[1]->element[f + 1]->len));
        }
        out.emplace_back(std::string(e->element[0]->str, e->element[0]->len), std::move(fields));
    }
    return out;
}

}  // namespace nhpush::testing
