#pragma once
/** @file Fault injection: what to inject (fault_config), the pure per-request decision, and the
 * lock-free shared pieces (rate limiter, versioned settings) that workers read on the hot path. */

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace nhpush::hubsim {

/** @brief The HTTP/2 error code of an injected RST_STREAM (values are the RFC 9113 codes). */
enum class stream_reset_code : std::uint32_t {
    internal_error = 0x2,  ///< INTERNAL_ERROR: the request may have been processed
    refused_stream = 0x7   ///< REFUSED_STREAM: refused before any processing, safe to retry
};

/** @brief `refused` or `internal`, as the command line and the admin JSON spell the code. */
std::string_view to_string(stream_reset_code c) noexcept;

/** @brief Reads `refused` or `internal`; false for anything else. */
bool parse_stream_reset_code(std::string_view text, stream_reset_code& out) noexcept;

/**
 * @brief The faults hubsim injects. Every field is off at its default.
 *
 * Fractions are probabilities in [0, 1] per request; the four status fractions together must not
 * exceed 1. The same names are used by the command line (`--fail-429`) and the admin JSON
 * (`"fail_429"`).
 */
struct fault_config {
    double fail_429 = 0;                          ///< fraction answered 429 Too Many Requests
    std::chrono::seconds retry_after_429{1};      ///< Retry-After of those 429s; 0 omits the header
    double fail_403 = 0;                          ///< fraction answered 403 + Retry-After (legacy throttling)
    std::chrono::seconds retry_after_403{1};      ///< Retry-After of those 403s; 0 omits the header
    double fail_500 = 0;                          ///< fraction answered 500 Internal Server Error
    double fail_503 = 0;                          ///< fraction answered 503 Service Unavailable
    std::chrono::seconds retry_after_503{0};      ///< Retry-After of 503s; 0 (default) omits the header
    std::chrono::milliseconds latency{0};         ///< added before every answer
    std::chrono::milliseconds latency_jitter{0};  ///< latency ± uniform 0..jitter, never below 0
    std::uint32_t close_after = 0;                ///< close a connection after its Nth answer; 0: never
    double drop = 0;                              ///< fraction of answers cut off mid-response
    std::uint32_t rate_limit = 0;                 ///< requests per second admitted; 0: unlimited
    std::chrono::seconds retry_after_rate_limit{1};  ///< Retry-After of rate-limit 429s
    /// Fraction of requests answered with RST_STREAM instead of a response (HTTP/1.1: the
    /// connection is closed unanswered).
    double rst_stream = 0;
    /// refused_stream: reset before processing; internal_error: processed, then reset.
    stream_reset_code rst_stream_code = stream_reset_code::refused_stream;

    /// True when no fault of any kind is configured.
    bool none() const noexcept;
    bool operator==(const fault_config&) const = default;
};

/** @brief The first problem of `c` as a sentence naming the field, or an empty string. */
std::string validate(const fault_config& c);

/** @brief `c` as the JSON object the admin endpoint serves (every field, flat). */
std::string to_json(const fault_config& c);

/**
 * @brief Reads a JSON object of fault fields on top of `base` (absent fields keep `base`'s value).
 * @throws std::invalid_argument naming the field that is unknown, mistyped or out of range.
 */
fault_config parse_fault_json(std::string_view json, const fault_config& base);

/** @brief Which injected fault shaped an answer. */
enum class fault_kind : std::uint8_t {
    none,
    throttled_429,  ///< from fail_429
    throttled_403,  ///< from fail_403
    error_500,      ///< from fail_500
    error_503,      ///< from fail_503
    rate_limited    ///< over rate_limit
};

/** @brief What to do to one answer. */
struct fault_decision {
    fault_kind kind = fault_kind::none;
    unsigned status = 0;                  ///< the status to answer instead, 0 for none
    std::chrono::seconds retry_after{0};  ///< 0: no Retry-After header
    std::chrono::milliseconds delay{0};   ///< wait this long before answering
    bool drop = false;                    ///< cut the answer off and close the connection
    bool reset_stream = false;            ///< answer with RST_STREAM (rst_stream_code)
};

/**
 * @brief A small, fast, seedable random source (xoshiro256**, seeded through splitmix64).
 * Not thread-safe: one per worker thread.
 */
class fault_rng {
public:
    explicit fault_rng(std::uint64_t seed) noexcept;
    /// A uniform 64-bit value.
    std::uint64_t next() noexcept;
    /// A uniform double in [0, 1).
    double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t s_[4];
};

/**
 * @brief `latency` plus a uniform random whole number of milliseconds in [-jitter, +jitter],
 * never below 0. Draws from `rng` only when `jitter` is positive.
 */
std::chrono::milliseconds jittered_latency(std::chrono::milliseconds latency,
                                           std::chrono::milliseconds jitter,
                                           fault_rng& rng) noexcept;

/**
 * @brief Decides the faults of one request. Pure apart from drawing from `rng`, and draws nothing
 * when no fraction or jitter is set (so the fault-free path costs nothing).
 * @param over_rate_limit the rate limiter refused this request.
 */
fault_decision decide_faults(const fault_config& c, fault_rng& rng, bool over_rate_limit) noexcept;

/** @brief True when a connection that has answered `answered` requests must now be closed. */
inline bool should_close(const fault_config& c, std::uint64_t answered) noexcept {
    return c.close_after != 0 && answered >= c.close_after;
}

/** @brief State of the one-second window rate limiter. */
struct rate_window {
    std::uint32_t second = 0;  ///< which second the count belongs to
    std::uint32_t count = 0;   ///< requests admitted in that second
    bool operator==(const rate_window&) const = default;
};

/** @brief Result of offering one request to a rate_window. */
struct rate_step {
    bool admitted;
    rate_window next;
};

/**
 * @brief Pure step of the rate limiter: at most `limit` requests are admitted per whole second
 * `now_second`; refused requests are not counted.
 */
rate_step rate_window_step(rate_window w, std::uint32_t now_second, std::uint32_t limit) noexcept;

/** @brief rate_window_step shared by all workers through one atomic word (no lock). */
class rate_limiter {
public:
    /// Offers one request at `now_second`; true if it is admitted.
    bool admit(std::uint32_t now_second, std::uint32_t limit) noexcept;
    void reset() noexcept { state_.store(0, std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> state_{0};
};

/**
 * @brief The fault settings of the running process, changed by the admin endpoint.
 *
 * Thread-safety: set() and get() take a mutex and are for the admin path; workers keep a copy
 * (fault_view) and compare version() on each request, a single atomic load.
 */
class fault_settings {
public:
    explicit fault_settings(fault_config initial) : config_(initial) {}

    /// Replaces the settings and restarts the rate limiter's window.
    void set(const fault_config& c);
    fault_config get() const;
    std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
    rate_limiter& limiter() noexcept { return limiter_; }

private:
    mutable std::mutex mutex_;
    fault_config config_;
    std::atomic<std::uint64_t> version_{1};
    rate_limiter limiter_;
};

/** @brief One worker's cached copy of fault_settings, refreshed when the version moves. */
class fault_view {
public:
    explicit fault_view(fault_settings& s) : settings_(s), config_(s.get()), version_(s.version()) {}

    /// The current settings; takes the settings' mutex only right after they changed.
    const fault_config& current() {
        if (settings_.version() != version_) {
            version_ = settings_.version();
            config_ = settings_.get();
        }
        return config_;
    }

private:
    fault_settings& settings_;
    fault_config config_;
    std::uint64_t version_;
};

}  // namespace nhpush::hubsim
