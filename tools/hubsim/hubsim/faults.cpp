// Fault decisions (pure), the lock-free rate limiter, and the admin JSON of fault_config.

#include "hubsim/faults.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nhpush::hubsim {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string_view to_string(stream_reset_code c) noexcept {
    return c == stream_reset_code::internal_error ? "internal" : "refused";
}

bool parse_stream_reset_code(std::string_view text, stream_reset_code& out) noexcept {
    if (text == "refused" || text == "internal") {
        out = text == "refused" ? stream_reset_code::refused_stream : stream_reset_code::internal_error;
        return true;
    }
    return false;
}

bool fault_config::none() const noexcept {
    return *this == fault_config{.retry_after_429 = retry_after_429,
                                 .retry_after_403 = retry_after_403,
                                 .retry_after_503 = retry_after_503,
                                 .retry_after_rate_limit = retry_after_rate_limit,
                                 .rst_stream_code = rst_stream_code};
}

std::string validate(const fault_config& c) {
    const std::pair<const char*, double> fractions[] = {{"fail_429", c.fail_429},
                                                        {"fail_403", c.fail_403},
                                                        {"fail_500", c.fail_500},
                                                        {"fail_503", c.fail_503},
                                                        {"drop", c.drop},
                                                        {"rst_stream", c.rst_stream}};
    for (const auto& [name, value] : fractions) {
        if (!(value >= 0 && value <= 1)) {
            return fmt::format("{} must be a fraction between 0 and 1", name);
        }
    }
    if (c.fail_429 + c.fail_403 + c.fail_500 + c.fail_503 > 1 + 1e-9) {
        return "fail_429 + fail_403 + fail_500 + fail_503 must not exceed 1";
    }
    const std::pair<const char*, seconds> waits[] = {{"retry_after_429", c.retry_after_429},
                                                     {"retry_after_403", c.retry_after_403},
                                                     {"retry_after_503", c.retry_after_503},
                                                     {"retry_after_rate_limit", c.retry_after_rate_limit}};
    for (const auto& [name, value] : waits) {
        if (value < seconds{0} || value > seconds{86400}) {
            return fmt::format("{} must be between 0 and 86400 seconds", name);
        }
    }
    const std::pair<const char*, milliseconds> delays[] = {{"latency_ms", c.latency},
                                                           {"latency_jitter_ms", c.latency_jitter}};
    for (const auto& [name, value] : delays) {
        if (value < milliseconds{0} || value > milliseconds{600'000}) {
            return fmt::format("{} must be between 0 and 600000", name);
        }
    }
    return {};
}

std::string to_json(const fault_config& c) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartObject();
    w.Key("fail_429"), w.Double(c.fail_429);
    w.Key("retry_after_429"), w.Int64(c.retry_after_429.count());
    w.Key("fail_403"), w.Double(c.fail_403);
    w.Key("retry_after_403"), w.Int64(c.retry_after_403.count());
    w.Key("fail_500"), w.Double(c.fail_500);
    w.Key("fail_503"), w.Double(c.fail_503);
    w.Key("retry_after_503"), w.Int64(c.retry_after_503.count());
    w.Key("latency_ms"), w.Int64(c.latency.count());
    w.Key("latency_jitter_ms"), w.Int64(c.latency_jitter.count());
    w.Key("close_after"), w.Uint(c.close_after);
    w.Key("drop"), w.Double(c.drop);
    w.Key("rate_limit"), w.Uint(c.rate_limit);
    w.Key("retry_after_rate_limit"), w.Int64(c.retry_after_rate_limit.count());
    w.Key("rst_stream"), w.Double(c.rst_stream);
    const auto code = to_string(c.rst_stream_code);
    w.Key("rst_stream_code"), w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
    w.EndObject();
    return out.GetString();
}

namespace {

double fraction_of(const rapidjson::Value& v, std::string_view name) {
    if (!v.IsNumber()) {
        throw std::invalid_argument(fmt::format("{} must be a number", name));
    }
    return v.GetDouble();
}

std::int64_t integer_of(const rapidjson::Value& v, std::string_view name, std::int64_t max) {
    if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > max) {
        throw std::invalid_argument(fmt::format("{} must be an integer between 0 and {}", name, max));
    }
    return v.GetInt64();
}

void apply_field(fault_config& c, std::string_view name, const rapidjson::Value& v) {
    constexpr std::int64_t max_u32 = 0xffffffff;
    if (name == "fail_429") {
        c.fail_429 = fraction_of(v, name);
    } else if (name == "retry_after_429") {
        c.retry_after_429 = seconds{integer_of(v, name, 86400)};
    } else if (name == "fail_403") {
        c.fail_403 = fraction_of(v, name);
    } else if (name == "retry_after_403") {
        c.retry_after_403 = seconds{integer_of(v, name, 86400)};
    } else if (name == "fail_500") {
        c.fail_500 = fraction_of(v, name);
    } else if (name == "fail_503") {
        c.fail_503 = fraction_of(v, name);
    } else if (name == "retry_after_503") {
        c.retry_after_503 = seconds{integer_of(v, name, 86400)};
    } else if (name == "latency_ms") {
        c.latency = milliseconds{integer_of(v, name, 600'000)};
    } else if (name == "latency_jitter_ms") {
        c.latency_jitter = milliseconds{integer_of(v, name, 600'000)};
    } else if (name == "close_after") {
        c.close_after = static_cast<std::uint32_t>(integer_of(v, name, max_u32));
    } else if (name == "drop") {
        c.drop = fraction_of(v, name);
    } else if (name == "rate_limit") {
        c.rate_limit = static_cast<std::uint32_t>(integer_of(v, name, max_u32));
    } else if (name == "retry_after_rate_limit") {
        c.retry_after_rate_limit = seconds{integer_of(v, name, 86400)};
    } else if (name == "rst_stream") {
        c.rst_stream = fraction_of(v, name);
    } else if (name == "rst_stream_code") {
        if (!v.IsString() ||
            !parse_stream_reset_code({v.GetString(), v.GetStringLength()}, c.rst_stream_code)) {
            throw std::invalid_argument("rst_stream_code must be \"refused\" or \"internal\"");
        }
    } else {
        throw std::invalid_argument(fmt::format("unknown fault setting '{}'", name));
    }
}

}  // namespace

fault_config parse_fault_json(std::string_view json, const fault_config& base) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        throw std::invalid_argument("the fault settings must be a JSON object");
    }
    fault_config c = base;
    for (const auto& m : doc.GetObject()) {
        apply_field(c, {m.name.GetString(), m.name.GetStringLength()}, m.value);
    }
    if (auto problem = validate(c); !problem.empty()) {
        throw std::invalid_argument(problem);
    }
    return c;
}

namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
}

}  // namespace

fault_rng::fault_rng(std::uint64_t seed) noexcept {
    for (auto& s : s_) {
        s = splitmix64(seed);
    }
}

std::uint64_t fault_rng::next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

milliseconds jittered_latency(milliseconds latency, milliseconds jitter, fault_rng& rng) noexcept {
    if (jitter.count() <= 0) {
        return latency;
    }
    // One draw, uniform over the 2 * jitter + 1 whole milliseconds from -jitter to +jitter.
    const auto span = static_cast<std::uint64_t>(2 * jitter.count() + 1);
    const auto offset = static_cast<milliseconds::rep>(rng.next() % span) - jitter.count();
    return std::max(milliseconds{0}, latency + milliseconds{offset});
}

fault_decision decide_faults(const fault_config& c, fault_rng& rng, bool over_rate_limit) noexcept {
    fault_decision d;
    if (over_rate_limit) {
        d = {fault_kind::rate_limited, 429, c.retry_after_rate_limit};
    } else if (c.fail_429 + c.fail_403 + c.fail_500 + c.fail_503 > 0) {
        // One draw picks at most one status: [0,f429) 429, then 403, then 500, then 503.
        double u = rng.unit();
        if ((u -= c.fail_429) < 0) {
            d = {fault_kind::throttled_429, 429, c.retry_after_429};
        } else if ((u -= c.fail_403) < 0) {
            d = {fault_kind::throttled_403, 403, c.retry_after_403};
        } else if ((u -= c.fail_500) < 0) {
            d = {fault_kind::error_500, 500, seconds{0}};
        } else if ((u -= c.fail_503) < 0) {
            d = {fault_kind::error_503, 503, c.retry_after_503};
        }
    }
    d.delay = jittered_latency(c.latency, c.latency_jitter, rng);
    d.drop = c.drop > 0 && rng.unit() < c.drop;
    d.reset_stream = c.rst_stream > 0 && rng.unit() < c.rst_stream;
    return d;
}

rate_step rate_window_step(rate_window w, std::uint32_t now_second, std::uint32_t limit) noexcept {
    if (w.second != now_second) {
        w = {now_second, 0};
    }
    if (w.count >= limit) {
        return {false, w};
    }
    ++w.count;
    return {true, w};
}

bool rate_limiter::admit(std::uint32_t now_second, std::uint32_t limit) noexcept {
    auto packed = state_.load(std::memory_order_relaxed);
    for (;;) {
        const rate_window w{static_cast<std::uint32_t>(packed >> 32), static_cast<std::uint32_t>(packed)};
        const auto step = rate_window_step(w, now_second, limit);
        const auto next = (std::uint64_t{step.next.second} << 32) | step.next.count;
        if (next == packed || state_.compare_exchange_weak(packed, next, std::memory_order_relaxed)) {
            return step.admitted;
        }
    }
}

void fault_settings::set(const fault_config& c) {
    std::lock_guard lock(mutex_);
    config_ = c;
    limiter_.reset();
    version_.fetch_add(1, std::memory_order_release);
}

fault_config fault_settings::get() const {
    std::lock_guard lock(mutex_);
    return config_;
}

}  // namespace nhpush::hubsim
