#pragma once
/** @file When to try again, and after how long (pure). */

#include <chrono>
#include <optional>

namespace nhpush {

/** @brief Retry policy of a hub's sends. */
struct retry_config {
    /// Attempts in all, the first included; 1 means never retry.
    int max_attempts = 4;
    /// Delay before the first retry; doubled for each further one.
    std::chrono::milliseconds backoff_base{500};
    /// No retry delay and no hub-wide pause exceeds this, Retry-After included.
    std::chrono::milliseconds backoff_cap{60'000};
    /// The hub-wide pause after a throttling answer (429, or 403 with Retry-After) that carries no
    /// usable Retry-After; the .NET SDK waits 10 s too. Capped by backoff_cap; 0 = no pause.
    std::chrono::milliseconds throttle_default_pause{10'000};
};

/**
 * @brief The delay before retry number `retry` (1 for the first retry).
 *
 * Exponential: base × 2^(retry-1), capped, with "equal jitter" (between half and all of it) so
 * that connections failing together do not retry together. A hub's `Retry-After` wins when given,
 * capped too. `jitter` is a uniform random number in [0, 1).
 */
std::chrono::milliseconds backoff_delay(const retry_config& config,
                                        int retry,
                                        std::optional<std::chrono::seconds> retry_after,
                                        double jitter) noexcept;

/**
 * @brief How long the whole hub pauses after a throttling answer: its `Retry-After`, or
 * `throttle_default_pause` without one; never more than `backoff_cap`. Any `retry_after` is safe,
 * however large.
 */
std::chrono::milliseconds throttle_pause(const retry_config& config,
                                         std::optional<std::chrono::seconds> retry_after) noexcept;

/** @brief What a retriable answer, or a failed attempt, leads to. */
struct retry_plan {
    std::chrono::milliseconds delay{0};      ///< before this notification's next attempt
    std::chrono::milliseconds hub_pause{0};  ///< every connection of the hub waits this long; 0: none
};

/**
 * @brief The throttle and retry rule in one place.
 *
 * A throttling answer pauses the whole hub for throttle_pause() and the notification is retried
 * after that same pause; anything else is retried after backoff_delay(). `attempts` is the
 * number of attempts made so far (1 after the first). Every value is at most `backoff_cap`.
 */
retry_plan plan_retry(const retry_config& config,
                      int attempts,
                      bool throttled,
                      std::optional<std::chrono::seconds> retry_after,
                      double jitter) noexcept;

}  // namespace nhpush
