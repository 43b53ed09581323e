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
    /// No delay exceeds this, Retry-After included.
    std::chrono::milliseconds backoff_cap{60'000};
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

}  // namespace nhpush
