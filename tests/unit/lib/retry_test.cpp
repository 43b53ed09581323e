#include <nhpush/rate_limiter.hpp>
#include <nhpush/response.hpp>
#include <nhpush/retry.hpp>

#include <gtest/gtest.h>

using namespace std::chrono;
using nhpush::backoff_delay;
using nhpush::parse_retry_after;
using nhpush::plan_retry;
using nhpush::retry_config;
using nhpush::throttle_pause;
using nhpush::token_bucket;

namespace {

const retry_config policy{4, milliseconds{500}, milliseconds{8'000}};

TEST(backoff_delay, doubles_per_retry_between_half_and_all_of_it) {
    EXPECT_EQ(backoff_delay(policy, 1, std::nullopt, 0.0), milliseconds{250});
    EXPECT_EQ(backoff_delay(policy, 1, std::nullopt, 1.0), milliseconds{500});
    EXPECT_EQ(backoff_delay(policy, 2, std::nullopt, 1.0), milliseconds{1'000});
    EXPECT_EQ(backoff_delay(policy, 3, std::nullopt, 0.5), milliseconds{1'500});
    EXPECT_EQ(backoff_delay(policy, 4, std::nullopt, 1.0), milliseconds{4'000});
}

TEST(backoff_delay, is_capped) {
    EXPECT_EQ(backoff_delay(policy, 10, std::nullopt, 1.0), milliseconds{8'000});
    EXPECT_EQ(backoff_delay(policy, 1000, std::nullopt, 1.0), milliseconds{8'000});
}

TEST(backoff_delay, retry_after_wins_and_is_capped_too) {
    EXPECT_EQ(backoff_delay(policy, 1, seconds{3}, 0.0), milliseconds{3'000});
    EXPECT_EQ(backoff_delay(policy, 3, seconds{0}, 1.0), milliseconds{0});
    EXPECT_EQ(backoff_delay(policy, 1, seconds{3600}, 0.0), milliseconds{8'000});
}

// The throttle rule, from the Retry-After header text as the hub sends it to the hub-wide pause.
const retry_config throttle_policy{4, milliseconds{500}, milliseconds{60'000}, milliseconds{10'000}};
// 2026-11-28 12:00:00 UTC, a plain value: the HTTP-date rows are relative to it.
const auto fixed_now = std::chrono::system_clock::time_point{seconds{1'795'867'200}};

struct throttle_row {
    const char* name;
    std::optional<std::string> retry_after;  // the header, if sent
    milliseconds pause;
};

TEST(throttle_pause, follows_retry_after_within_the_cap_and_defaults_without_it) {
    const throttle_row rows[] = {
        {"no Retry-After: the default", std::nullopt, milliseconds{10'000}},
        {"delta-seconds", "3", milliseconds{3'000}},
        {"zero", "0", milliseconds{0}},
        {"HTTP-date ahead", "Sat, 28 Nov 2026 12:00:45 GMT", milliseconds{45'000}},
        {"HTTP-date in the past", "Sat, 28 Nov 2026 11:00:00 GMT", milliseconds{0}},
        {"beyond the cap", "3600", milliseconds{60'000}},
        {"HTTP-date beyond the cap", "Fri, 31 Dec 9999 23:59:59 GMT", milliseconds{60'000}},
        {"18 digits: capped, no overflow", "999999999999999999", milliseconds{60'000}},
        {"40 digits: capped, no overflow", std::string(40, '9'), milliseconds{60'000}},
        {"negative: the default", "-5", milliseconds{10'000}},
        {"garbage: the default", "soon", milliseconds{10'000}},
        {"empty: the default", "", milliseconds{10'000}},
    };
    for (const auto& row : rows) {
        const auto parsed =
            row.retry_after ? parse_retry_after(*row.retry_after, fixed_now) : std::optional<seconds>{};
        EXPECT_EQ(throttle_pause(throttle_policy, parsed), row.pause) << row.name;
    }
}

TEST(throttle_pause, default_is_capped_too) {
    const retry_config small_cap{4, milliseconds{20}, milliseconds{200}, milliseconds{10'000}};
    EXPECT_EQ(throttle_pause(small_cap, std::nullopt), milliseconds{200});
    EXPECT_EQ(throttle_pause(small_cap, seconds{1}), milliseconds{200});
    EXPECT_EQ(throttle_pause(small_cap, seconds{std::numeric_limits<seconds::rep>::max()}),
              milliseconds{200});
}

TEST(plan_retry, a_throttled_answer_pauses_the_hub_and_the_retry_waits_the_same) {
    struct row {
        const char* name;
        int attempts;
        bool throttled;
        std::optional<seconds> retry_after;
        double jitter;
        milliseconds delay, hub_pause;
    };
    const row rows[] = {
        {"throttled, no Retry-After", 1, true, std::nullopt, 0.0, milliseconds{10'000}, milliseconds{10'000}},
        {"throttled, Retry-After 2", 3, true, seconds{2}, 1.0, milliseconds{2'000}, milliseconds{2'000}},
        {"throttled, Retry-After huge",
         1,
         true,
         seconds{999'999'999},
         0.5,
         milliseconds{60'000},
         milliseconds{60'000}},
        {"503, no Retry-After: back-off", 1, false, std::nullopt, 1.0, milliseconds{500}, milliseconds{0}},
        {"503, Retry-After 7: no hub pause", 2, false, seconds{7}, 0.0, milliseconds{7'000}, milliseconds{0}},
        {"timeout, third retry", 3, false, std::nullopt, 0.0, milliseconds{1'000}, milliseconds{0}},
    };
    for (const auto& r : rows) {
        const auto plan = plan_retry(throttle_policy, r.attempts, r.throttled, r.retry_after, r.jitter);
        EXPECT_EQ(plan.delay, r.delay) << r.name;
        EXPECT_EQ(plan.hub_pause, r.hub_pause) << r.name;
    }
}

TEST(token_bucket, admits_a_burst_then_spaces_by_the_rate) {
    token_bucket bucket(100, 5);  // 100/s, bursts of 5
    const auto t0 = token_bucket::clock::time_point{} + seconds{10};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(bucket.reserve(t0), token_bucket::clock::duration::zero()) << i;
    }
    EXPECT_EQ(duration_cast<milliseconds>(bucket.reserve(t0)), milliseconds{10});
    EXPECT_EQ(duration_cast<milliseconds>(bucket.reserve(t0)), milliseconds{20});
    // After a quiet second the bucket is full again, but never above its burst.
    const auto t1 = t0 + seconds{1};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(bucket.reserve(t1), token_bucket::clock::duration::zero()) << i;
    }
    EXPECT_GT(bucket.reserve(t1), token_bucket::clock::duration::zero());
}

TEST(token_bucket, sustained_rate_matches_the_limit) {
    token_bucket bucket(1000, 1);
    auto t = token_bucket::clock::time_point{} + seconds{1};
    int admitted = 0;
    // Simulate a caller that waits as told: 2000 reservations must span about two seconds.
    for (int i = 0; i < 2000; ++i) {
        t += bucket.reserve(t);
        ++admitted;
    }
    EXPECT_EQ(admitted, 2000);
    EXPECT_NEAR(duration<double>(t - (token_bucket::clock::time_point{} + seconds{1})).count(), 2.0, 0.01);
}

TEST(token_bucket, zero_rate_admits_everything) {
    token_bucket bucket(0, 0);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(bucket.reserve(token_bucket::clock::time_point{}), token_bucket::clock::duration::zero());
    }
}

}  // namespace
