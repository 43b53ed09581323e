// The sender's retry rule, table-tested with a fake clock: no sockets, no timers.
#include "sender/send_decision.hpp"

#include <gtest/gtest.h>

using namespace nhpush;
using namespace nhpush::detail;
using namespace std::chrono_literals;
using action = send_decision::action;

namespace {

const steady::time_point t0{steady::duration{1'000'000'000'000}};
const retry_config retry{
    .max_attempts = 3, .backoff_base = 100ms, .backoff_cap = 5'000ms, .throttle_default_pause = 2'000ms};

send_context at(int attempts_before, steady::time_point deadline = t0 + 1h, int free_resends_before = 0) {
    return {.attempts_before = attempts_before,
            .free_resends_before = free_resends_before,
            .retry = retry,
            .now = t0,
            .deadline = deadline,
            .jitter = 0.5};
}

hub_response answer(response_kind kind,
                    unsigned status,
                    bool throttled = false,
                    std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    hub_response r;
    r.kind = kind;
    r.status = status;
    r.throttled = throttled;
    r.retry_after = retry_after;
    return r;
}

}  // namespace

TEST(send_decision, a_201_finishes_the_notification_as_sent_and_counts_the_attempt) {
    const auto a = answer(response_kind::success, 201);
    const auto d = decide_after(request_end::answered, &a, at(0));
    EXPECT_EQ(d.what, action::finish);
    EXPECT_FALSE(d.error);
    EXPECT_TRUE(d.attempt);
    EXPECT_EQ(d.hub_pause, 0ms);
}

TEST(send_decision, a_permanent_answer_is_never_retried) {
    for (unsigned status : {400u, 401u, 404u, 413u}) {
        const auto a = answer(response_kind::permanent, status);
        const auto d = decide_after(request_end::answered, &a, at(0));
        EXPECT_EQ(d.what, action::finish) << status;
        EXPECT_EQ(d.error, errc::hub_rejected) << status;
    }
}

TEST(send_decision, a_retriable_answer_is_retried_after_the_backoff_until_attempts_run_out) {
    const auto a = answer(response_kind::retriable, 503);
    const auto first = decide_after(request_end::answered, &a, at(0));
    EXPECT_EQ(first.what, action::retry_later);
    EXPECT_EQ(first.delay, backoff_delay(retry, 1, std::nullopt, 0.5));
    EXPECT_TRUE(first.attempt);
    const auto last = decide_after(request_end::answered, &a, at(2));
    EXPECT_EQ(last.what, action::finish);
    EXPECT_EQ(last.error, errc::retries_exhausted);
}

TEST(send_decision, a_throttle_pauses_the_whole_hub_and_retries_after_the_pause) {
    const auto with_retry_after = answer(response_kind::retriable, 429, true, 3s);
    const auto d = decide_after(request_end::answered, &with_retry_after, at(0));
    EXPECT_EQ(d.what, action::retry_later);
    EXPECT_EQ(d.hub_pause, 3000ms);
    EXPECT_EQ(d.delay, 3000ms);
    const auto without = answer(response_kind::retriable, 429, true);
    EXPECT_EQ(decide_after(request_end::answered, &without, at(0)).hub_pause, retry.throttle_default_pause);
    // The pause holds even when this notification has no attempt left.
    const auto exhausted = decide_after(request_end::answered, &with_retry_after, at(2));
    EXPECT_EQ(exhausted.error, errc::retries_exhausted);
    EXPECT_EQ(exhausted.hub_pause, 3000ms);
}

TEST(send_decision, a_retry_that_would_land_past_the_deadline_fails_now) {
    const auto a = answer(response_kind::retriable, 500);
    const auto d = decide_after(request_end::answered, &a, at(0, t0 + 10ms));
    EXPECT_EQ(d.what, action::finish);
    EXPECT_EQ(d.error, errc::deadline_expired);
}

TEST(send_decision, what_the_hub_did_not_process_is_resent_at_once_without_an_attempt) {
    // A REFUSED_STREAM, a stream above a GOAWAY, a kept-alive connection closed before answering.
    for (int before : {0, 2, 3}) {
        const auto d = decide_after(request_end::not_processed, nullptr, at(before));
        EXPECT_EQ(d.what, action::resend_now) << before;
        EXPECT_FALSE(d.attempt);
    }
    const auto late = decide_after(request_end::not_processed, nullptr, at(0, t0));
    EXPECT_EQ(late.error, errc::deadline_expired);
}

TEST(send_decision, a_failure_on_the_wire_or_a_failed_connect_costs_an_attempt) {
    for (auto end : {request_end::failed, request_end::connect_failed}) {
        const auto d = decide_after(end, nullptr, at(0));
        EXPECT_EQ(d.what, action::retry_later);
        EXPECT_TRUE(d.attempt);
        EXPECT_EQ(d.delay, backoff_delay(retry, 1, std::nullopt, 0.5));
        EXPECT_EQ(decide_after(end, nullptr, at(2)).error, errc::retries_exhausted);
    }
}

TEST(send_decision, a_hub_that_keeps_refusing_costs_attempts_after_a_few_free_resends) {
    // Without a bound, a hub answering REFUSED_STREAM to everything would get the notification
    // again at full speed until its deadline.
    for (int free = 0; free < max_free_resends; ++free) {
        EXPECT_EQ(decide_after(request_end::not_processed, nullptr, at(0, t0 + 1h, free)).what,
                  action::resend_now);
    }
    const auto counted = decide_after(request_end::not_processed, nullptr, at(0, t0 + 1h, max_free_resends));
    EXPECT_EQ(counted.what, action::retry_later);
    EXPECT_TRUE(counted.attempt);
    EXPECT_GT(counted.delay, 0ms);
    EXPECT_EQ(decide_after(request_end::not_processed, nullptr, at(2, t0 + 1h, max_free_resends)).error,
              errc::retries_exhausted);
}

TEST(send_decision, streams_above_a_goaway_are_resent_however_often_without_an_attempt) {
    // Each GOAWAY ends a connection, so these resends cannot spin; a hub that drains its
    // connections often must not turn them into failed attempts.
    const auto d = decide_after(request_end::above_goaway, nullptr, at(3, t0 + 1h, 100));
    EXPECT_EQ(d.what, action::resend_now);
    EXPECT_FALSE(d.attempt);
    EXPECT_EQ(decide_after(request_end::above_goaway, nullptr, at(0, t0)).error, errc::deadline_expired);
}
