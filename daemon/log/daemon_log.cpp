#include "log/daemon_log.hpp"

#include <unistd.h>

#include <cerrno>

namespace nhpush::log {

std::string format_log_line(log_level level, std::string_view message) {
    std::string line = fmt::format("<{}>", static_cast<int>(level));
    line.reserve(line.size() + message.size() + 1);
    for (const char c : message) {
        line.push_back(c == '\n' || c == '\r' ? ' ' : c);
    }
    line.push_back('\n');
    return line;
}

void stderr_sink(log_level level, std::string_view message) {
    const auto line = format_log_line(level, message);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const auto n = ::write(STDERR_FILENO, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;  // nowhere to report a failing log
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

bool log_throttle::allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(mutex_);
    if (logged_once_ && now - last_ < interval_) {
        ++held_back_;
        return false;
    }
    logged_once_ = true;
    last_ = now;
    suppressed = held_back_;
    held_back_ = 0;
    return true;
}

std::string suppressed_note(std::uint64_t suppressed) {
    return suppressed == 0 ? std::string{} : fmt::format(" ({} more since the last warning)", suppressed);
}

}  // namespace nhpush::log
