#include <nhpush/rate_limiter.hpp>
#include <nhpush/retry.hpp>

#include <gtest/gtest.h>

using namespace std::chrono;
using nhpush::backoff_delay;
using nhpush::retry_config;
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
