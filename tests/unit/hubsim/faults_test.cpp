#include "hubsim/faults.hpp"

#include <gtest/gtest.h>

namespace nhpush::hubsim {
namespace {

using namespace std::chrono_literals;

/// Decides `n` requests and counts each kind.
std::map<fault_kind, int> tally(const fault_config& c, int n, std::uint64_t seed = 7) {
    fault_rng rng(seed);
    std::map<fault_kind, int> counts;
    for (int i = 0; i < n; ++i) {
        ++counts[decide_faults(c, rng, false).kind];
    }
    return counts;
}

TEST(hubsim_fault_decision, NothingWhenNothingIsConfigured) {
    fault_rng rng(1);
    const auto d = decide_faults({}, rng, false);
    EXPECT_EQ(d.kind, fault_kind::none);
    EXPECT_EQ(d.status, 0u);
    EXPECT_EQ(d.delay, 0ms);
    EXPECT_FALSE(d.drop);
    EXPECT_TRUE(fault_config{}.none());
    EXPECT_TRUE(fault_config{.retry_after_429 = 9s}.none());  // a Retry-After alone injects nothing
    EXPECT_FALSE(fault_config{.close_after = 1}.none());
}

TEST(hubsim_fault_decision, CertainFaultsAlwaysHappenWithTheirRetryAfter) {
    fault_rng rng(1);
    auto d = decide_faults({.fail_429 = 1, .retry_after_429 = 5s}, rng, false);
    EXPECT_EQ(d.status, 429u);
    EXPECT_EQ(d.retry_after, 5s);
    d = decide_faults({.fail_403 = 1, .retry_after_403 = 2s}, rng, false);
    EXPECT_EQ(d.status, 403u);
    EXPECT_EQ(d.retry_after, 2s);
    d = decide_faults({.fail_500 = 1}, rng, false);
    EXPECT_EQ(d.status, 500u);
    EXPECT_EQ(d.retry_after, 0s);
    d = decide_faults({.fail_503 = 1, .retry_after_503 = 3s}, rng, false);
    EXPECT_EQ(d.status, 503u);
    EXPECT_EQ(d.retry_after, 3s);
    d = decide_faults({.retry_after_rate_limit = 4s}, rng, true);
    EXPECT_EQ(d.kind, fault_kind::rate_limited);
    EXPECT_EQ(d.status, 429u);
    EXPECT_EQ(d.retry_after, 4s);
}

TEST(hubsim_fault_decision, FractionsSplitOneDraw) {
    const auto counts = tally({.fail_429 = 0.1, .fail_403 = 0.2, .fail_500 = 0.3, .fail_503 = 0.4}, 100'000);
    EXPECT_EQ(counts.count(fault_kind::none), 0u);  // the fractions add up to 1
    EXPECT_NEAR(counts.at(fault_kind::throttled_429), 10'000, 600);
    EXPECT_NEAR(counts.at(fault_kind::throttled_403), 20'000, 800);
    EXPECT_NEAR(counts.at(fault_kind::error_500), 30'000, 900);
    EXPECT_NEAR(counts.at(fault_kind::error_503), 40'000, 1000);
}

TEST(hubsim_fault_decision, SameSeedSameDecisions) {
    const fault_config c{.fail_429 = 0.5, .latency_jitter = 50ms, .drop = 0.1};
    fault_rng a(99), b(99), other(100);
    int differences = 0;
    for (int i = 0; i < 100; ++i) {
        const auto x = decide_faults(c, a, false);
        const auto y = decide_faults(c, b, false);
        const auto z = decide_faults(c, other, false);
        EXPECT_EQ(x.kind, y.kind);
        EXPECT_EQ(x.delay, y.delay);
        EXPECT_EQ(x.drop, y.drop);
        differences += x.kind != z.kind || x.delay != z.delay;
    }
    EXPECT_GT(differences, 10);
}

TEST(hubsim_fault_decision, LatencyIsFixedPlusOrMinusJitter) {
    fault_rng rng(3);
    std::chrono::milliseconds low{1000}, high{0};
    for (int i = 0; i < 2000; ++i) {
        const auto d = decide_faults({.latency = 10ms, .latency_jitter = 5ms}, rng, false);
        low = std::min(low, d.delay);
        high = std::max(high, d.delay);
    }
    EXPECT_EQ(low, 5ms);
    EXPECT_EQ(high, 15ms);
}

TEST(hubsim_fault_decision, JitterNeverMakesADelayNegative) {
    fault_rng rng(4);
    std::chrono::milliseconds low{1000}, high{0};
    int zeros = 0;
    for (int i = 0; i < 2000; ++i) {
        const auto d = jittered_latency(2ms, 10ms, rng);
        low = std::min(low, d);
        high = std::max(high, d);
        zeros += d == 0ms;
    }
    EXPECT_EQ(low, 0ms);
    EXPECT_EQ(high, 12ms);
    EXPECT_GT(zeros, 2000 * 8 / 21 / 2);  // -10..-2 all clamp to 0: about 9 in 21 draws
}

TEST(hubsim_fault_decision, NoJitterDrawsNothing) {
    fault_rng a(6), b(6);
    EXPECT_EQ(jittered_latency(30ms, 0ms, a), 30ms);
    EXPECT_EQ(a.next(), b.next());
}

TEST(hubsim_fault_decision, DropFraction) {
    fault_rng rng(5);
    int dropped = 0;
    for (int i = 0; i < 10'000; ++i) {
        dropped += decide_faults({.drop = 0.25}, rng, false).drop;
    }
    EXPECT_NEAR(dropped, 2500, 200);
}

TEST(hubsim_fault_decision, RstStreamFraction) {
    fault_rng rng(8);
    int reset = 0;
    for (int i = 0; i < 10'000; ++i) {
        reset += decide_faults({.rst_stream = 0.3}, rng, false).reset_stream;
    }
    EXPECT_NEAR(reset, 3000, 250);
    // Like a Retry-After, the code alone injects nothing.
    EXPECT_TRUE(fault_config{.rst_stream_code = stream_reset_code::internal_error}.none());
    EXPECT_FALSE(fault_config{.rst_stream = 0.1}.none());
}

TEST(hubsim_fault_decision, CloseAfterCountsAnswersOnAConnection) {
    EXPECT_FALSE(should_close({}, 1000));
    EXPECT_FALSE(should_close({.close_after = 3}, 2));
    EXPECT_TRUE(should_close({.close_after = 3}, 3));
}

TEST(hubsim_rate_window, AdmitsLimitPerSecond) {
    rate_window w;
    int admitted = 0;
    for (int i = 0; i < 10; ++i) {
        const auto step = rate_window_step(w, 100, 3);
        admitted += step.admitted;
        w = step.next;
    }
    EXPECT_EQ(admitted, 3);
    EXPECT_EQ(w, (rate_window{100, 3}));  // refusals are not counted
    const auto next_second = rate_window_step(w, 101, 3);
    EXPECT_TRUE(next_second.admitted);
    EXPECT_EQ(next_second.next, (rate_window{101, 1}));
}

TEST(hubsim_rate_window, SharedLimiterAcrossCallers) {
    rate_limiter limiter;
    int admitted = 0;
    for (int i = 0; i < 50; ++i) {
        admitted += limiter.admit(7, 20);
    }
    EXPECT_EQ(admitted, 20);
    EXPECT_TRUE(limiter.admit(8, 20));
    limiter.reset();
    EXPECT_TRUE(limiter.admit(8, 1));
    EXPECT_FALSE(limiter.admit(8, 1));
}

TEST(hubsim_fault_json, RoundTripsEveryField) {
    const fault_config c{.fail_429 = 0.1,
                         .retry_after_429 = 2s,
                         .fail_403 = 0.2,
                         .retry_after_403 = 3s,
                         .fail_500 = 0.05,
                         .fail_503 = 0.15,
                         .retry_after_503 = 4s,
                         .latency = 12ms,
                         .latency_jitter = 7ms,
                         .close_after = 100,
                         .drop = 0.01,
                         .rate_limit = 500,
                         .retry_after_rate_limit = 5s,
                         .rst_stream = 0.25,
                         .rst_stream_code = stream_reset_code::internal_error};
    EXPECT_EQ(parse_fault_json(to_json(c), {}), c);
}

TEST(hubsim_fault_json, MergesOverABaseAndNamesBadFields) {
    const fault_config base{.fail_500 = 0.5, .latency = 3ms};
    const auto merged = parse_fault_json(R"({"latency_ms": 9})", base);
    EXPECT_EQ(merged.fail_500, 0.5);
    EXPECT_EQ(merged.latency, 9ms);
    const auto throws_naming = [](std::string_view json, std::string_view name) {
        try {
            parse_fault_json(json, {});
            ADD_FAILURE() << json;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        }
    };
    throws_naming(R"({"fail_429": 1.5})", "fail_429");
    throws_naming(R"({"fail_429": "x"})", "fail_429");
    throws_naming(R"({"close_after": -1})", "close_after");
    throws_naming(R"({"latency_ms": 1.5})", "latency_ms");
    throws_naming(R"({"bogus": 1})", "bogus");
    throws_naming(R"({"fail_429": 0.7, "fail_500": 0.7})", "must not exceed 1");
    throws_naming("[]", "JSON object");
    throws_naming(R"({"rst_stream": 2})", "rst_stream");
    throws_naming(R"({"rst_stream_code": "cancel"})", "rst_stream_code");
    throws_naming(R"({"rst_stream_code": 7})", "rst_stream_code");
}

TEST(hubsim_fault_settings, WorkersSeeChangesThroughTheVersion) {
    fault_settings settings({.fail_429 = 1});
    fault_view view(settings);
    EXPECT_EQ(view.current().fail_429, 1);
    settings.set({.fail_503 = 1});
    EXPECT_EQ(view.current().fail_429, 0);
    EXPECT_EQ(view.current().fail_503, 1);
}

}  // namespace
}  // namespace nhpush::hubsim
