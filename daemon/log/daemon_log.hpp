#pragma once
/** @file nhpushd's log: lines on stderr with syslog priority prefixes, and rate limiting of repeats. */

#include <nhpush/logger.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace nhpush::log {

/** @brief Where finished lines go: a level and the message (one line, without the prefix). */
using log_sink = std::function<void(log_level, std::string_view)>;

/** @brief `<6>message\n`: the syslog priority prefix journald reads; line breaks become spaces. */
std::string format_log_line(log_level level, std::string_view message);

/** @brief Writes format_log_line() to stderr in one write(2), so lines of several threads never mix. */
void stderr_sink(log_level level, std::string_view message);

/**
 * @brief The daemon's logger: a level a reload may change while other threads log, and a sink.
 *
 * Messages below the level are not formatted. Thread-safe. Never give it a secret to log.
 */
class daemon_log {
public:
    explicit daemon_log(log_level level, log_sink sink = stderr_sink)
        : level_(level), sink_(std::move(sink)) {}

    void set_level(log_level level) noexcept { level_.store(level, std::memory_order_relaxed); }
    log_level level() const noexcept { return level_.load(std::memory_order_relaxed); }
    bool enabled(log_level l) const noexcept { return static_cast<int>(l) <= static_cast<int>(level()); }

    template <class... Args>
    void log(log_level l, fmt::format_string<Args...> format, Args&&... args) const {
        if (enabled(l)) {
            sink_(l, fmt::format(format, std::forward<Args>(args)...));
        }
    }

    /** @brief A library logger with the current level and the same sink (for notification_hub). */
    nhpush::logger library_logger() const { return nhpush::logger{level(), sink_}; }

private:
    std::atomic<log_level> level_;
    log_sink sink_;
};

/**
 * @brief Lets one message through per interval and counts the ones held back, so a storm of the same
 * warning (refused peers, a full queue) costs a line every few seconds rather than flooding the journal.
 *
 * Thread-safe. Pure apart from its lock: the caller passes the time.
 */
class log_throttle {
public:
    explicit log_throttle(std::chrono::steady_clock::duration interval = std::chrono::seconds{10})
        : interval_(interval) {}

    /**
     * @brief True when this occurrence should be logged; then `suppressed` is how many were held back
     * since the last one logged.
     */
    bool allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed);

private:
    std::mutex mutex_;
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point last_{};
    bool logged_once_ = false;
    std::uint64_t held_back_ = 0;
};

/** @brief `" (N more since the last warning)"`, or nothing when none were held back. */
std::string suppressed_note(std::uint64_t suppressed);

}  // namespace nhpush::log
