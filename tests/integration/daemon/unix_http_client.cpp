#include "unix_http_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nhpush::testing {

using namespace std::chrono;

std::string http_answer::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
}

unix_http_client::unix_http_client(const std::string& path, milliseconds timeout) : timeout_(timeout) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const auto err = std::string(std::strerror(errno));
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw std::runtime_error("cannot connect to " + path + ": " + err);
    }
}

unix_http_client::~unix_http_client() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

unix_http_client::unix_http_client(unix_http_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_), in_(std::move(other.in_)) {}

bool unix_http_client::send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void unix_http_client::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

bool unix_http_client::fill(steady_clock::time_point deadline) {
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
        return false;
    }
    char buf[16384];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
        return false;
    }
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
}

std::optional<http_answer> unix_http_client::read_answer() {
    const auto deadline = steady_clock::now() + timeout_;
    std::size_t end_of_head;
    while ((end_of_head = in_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(deadline)) {
            return std::nullopt;
        }
    }
    http_answer a;
    const std::string head = in_.substr(0, end_of_head);
    a.status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos < head.size()) {
        const auto next = head.find("\r\n", pos + 2);
        const auto line = head.substr(pos + 2, (next == std::string::npos ? head.size() : next) - pos - 2);
        if (const auto colon = line.find(':'); colon != std::string::npos) {
            auto name = line.substr(0, colon);
            std::transform(
                name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            a.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        pos = next;
    }
    const auto length = std::stoul(a.header("content-length").empty() ? "0" : a.header("content-length"));
    while (in_.size() < end_of_head + 4 + length) {
        if (!fill(deadline)) {
            return std::nullopt;
        }
    }
    a.body = in_.substr(end_of_head + 4, length);
    in_.erase(0, end_of_head + 4 + length);
    return a;
}

http_answer unix_http_client::request(std::string_view method,
                                      std::string_view target,
                                      std::string_view body,
                                      std::string_view content_type,
                                      const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n";
    if (method == "POST" || !body.empty()) {
        req += "Content-Type: " + std::string(content_type) + "\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    for (const auto& [name, value] : headers) {
        req += name + ": " + value + "\r\n";
    }
    req += "\r\n";
    req += body;
    if (!send_raw(req)) {
        throw std::runtime_error("the daemon closed the connection before the request was sent");
    }
    auto answer = read_answer();
    if (!answer) {
        throw std::runtime_error("no answer to " + std::string(method) + " " + std::string(target));
    }
    return *answer;
}

bool unix_http_client::wait_readable(milliseconds timeout) {
    if (!in_.empty()) {
        return true;
    }
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

bool unix_http_client::wait_closed(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        pollfd p{fd_, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
            return false;
        }
        char buf[4096];
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            return true;
        }
        in_.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace nhpush::testing
