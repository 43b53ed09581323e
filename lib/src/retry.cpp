#include "nhpush/retry.hpp"
#include "nhpush/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace nhpush {

using namespace std::chrono;

namespace {

// Compared in seconds first: a Retry-After of many digits would overflow as milliseconds.
milliseconds capped(seconds wanted, milliseconds cap) noexcept {
    if (wanted <= seconds::zero()) {
        return milliseconds::zero();
    }
    return wanted >= ceil<seconds>(cap) ? cap : std::min(duration_cast<milliseconds>(wanted), cap);
}

}  // namespace

milliseconds backoff_delay(const retry_config& config,
                           int retry,
                           std::optional<seconds> retry_after,
                           double jitter) noexcept {
    if (retry_after) {
        return capped(*retry_after, config.backoff_cap);
    }
    const int doublings = std::clamp(retry - 1, 0, 30);
    const double full =
        std::min(static_cast<double>(config.backoff_base.count()) * std::ldexp(1.0, doublings),
                 static_cast<double>(config.backoff_cap.count()));
    return milliseconds{static_cast<milliseconds::rep>(full * (0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0)))};
}

milliseconds throttle_pause(const retry_config& config, std::optional<seconds> retry_after) noexcept {
    if (retry_after) {
        return capped(*retry_after, config.backoff_cap);
    }
    return std::clamp(config.throttle_default_pause, milliseconds::zero(), config.backoff_cap);
}

retry_plan plan_retry(const retry_config& config,
                      int attempts,
                      bool throttled,
                      std::optional<seconds> retry_after,
                      double jitter) noexcept {
    if (throttled) {
        // The retry waits out the same pause as the hub: sooner, it would only meet the pause.
        const auto pause = throttle_pause(config, retry_after);
        return {pause, pause};
    }
    return {backoff_delay(config, attempts, retry_after, jitter), milliseconds::zero()};
}

token_bucket::token_bucket(double rate, double burst) noexcept
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(std::max(burst, 1.0)) {}

token_bucket::clock::duration token_bucket::reserve(clock::time_point now) noexcept {
    if (rate_ <= 0) {
        return clock::duration::zero();
    }
    if (last_ != clock::time_point{}) {
        tokens_ = std::min(burst_, tokens_ + duration<double>(now - last_).count() * rate_);
    }
    last_ = now;
    tokens_ -= 1;
    if (tokens_ >= 0) {
        return clock::duration::zero();
    }
    // In debt: the caller waits until the debt is paid back.
    return duration_cast<clock::duration>(duration<double>(-tokens_ / rate_));
}

}  // namespace nhpush
