#pragma once
/** @file A token bucket (pure: the caller passes the time). */

#include <chrono>

namespace nhpush {

/**
 * @brief Admits at most `rate` events a second on average, with bursts of up to `burst`.
 *
 * Not thread-safe: the sender keeps one per worker thread.
 */
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    /// `rate` ≤ 0 admits everything at once.
    token_bucket(double rate, double burst) noexcept;

    /// Takes one token and returns how long to wait before using it (zero when one was there).
    clock::duration reserve(clock::time_point now) noexcept;

private:
    double rate_;
    double burst_;
    double tokens_;
    clock::time_point last_{};
};

}  // namespace nhpush
