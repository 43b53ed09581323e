#include "nhpush/retry.hpp"
#include "nhpush/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace nhpush {

using namespace std::chrono;

milliseconds backoff_delay(const retry_config& config,
                           int retry,
                           std::optional<seconds> retry_after,
                           double jitter) noexcept {
    if (retry_after) {
        return std::min(duration_cast<milliseconds>(*retry_after), config.backoff_cap);
    }
    const int doublings = std::clamp(retry - 1, 0, 30);
    const double full =
        std::min(static_cast<double>(config.backoff_base.count()) * std::ldexp(1.0, doublings),
                 static_cast<double>(config.backoff_cap.count()));
    return milliseconds{static_cast<milliseconds::rep>(full * (0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0)))};
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
