// The connection's life and the pool's size, table-tested with a fake clock.
#include "sender/connection_machine.hpp"
#include "sender/pool_sizing.hpp"

#include "nhpush/error.hpp"

#include <gtest/gtest.h>

using namespace nhpush;
using namespace nhpush::detail;
using namespace std::chrono_literals;
using kind = connection_action::kind;

namespace {

const steady::time_point t0{steady::duration{1'000'000'000'000}};
const retry_config reconnect{.max_attempts = 0, .backoff_base = 100ms, .backoff_cap = 1'000ms};

}  // namespace

TEST(connection_machine, connects_serves_and_reconnects_after_the_connection_closed) {
    connection_machine m(reconnect, 300s);
    EXPECT_EQ(m.resume(connection_event::started, t0, 0).what, kind::connect);
    EXPECT_EQ(m.status(), connection_status::connecting);
    EXPECT_EQ(m.resume(connection_event::connected, t0, 0).what, kind::serve);
    EXPECT_EQ(m.status(), connection_status::serving);
    // The hub closed it, or a GOAWAY drained it: connect again at once, no back-off.
    EXPECT_EQ(m.resume(connection_event::closed, t0 + 1s, 0).what, kind::connect);
}

TEST(connection_machine, failed_connects_back_off_exponentially_and_a_success_resets_the_count) {
    connection_machine m(reconnect, 300s);
    m.resume(connection_event::started, t0, 0);
    const auto first = m.resume(connection_event::connect_failed, t0, 0.0);
    EXPECT_EQ(first.what, kind::wait_until);
    EXPECT_EQ(first.until, t0 + backoff_delay(reconnect, 1, std::nullopt, 0.0));
    EXPECT_EQ(m.resume(connection_event::wait_over, first.until, 0).what, kind::connect);
    const auto second = m.resume(connection_event::connect_failed, first.until, 0.0);
    EXPECT_EQ(second.until, first.until + backoff_delay(reconnect, 2, std::nullopt, 0.0));
    EXPECT_EQ(m.failures_in_a_row(), 2);
    m.resume(connection_event::wait_over, second.until, 0);
    m.resume(connection_event::connected, second.until, 0);
    EXPECT_TRUE(m.recovered());
    EXPECT_EQ(m.failures_in_a_row(), 0);
}

TEST(connection_machine, only_the_first_failure_of_a_series_is_logged_and_a_bad_certificate_fails_the_queue) {
    const auto refused = make_error_code(boost::system::errc::connection_refused);
    EXPECT_TRUE(effects_of_connect_failure(refused, 1).log_warning);
    EXPECT_FALSE(effects_of_connect_failure(refused, 2).log_warning);
    EXPECT_TRUE(effects_of_connect_failure(refused, 2).charge_one_item);
    EXPECT_FALSE(effects_of_connect_failure(refused, 2).fail_queue);
    const auto certificate = effects_of_connect_failure(make_error_code(errc::tls_verify_failed), 1);
    EXPECT_TRUE(certificate.fail_queue);
    EXPECT_FALSE(certificate.charge_one_item);
}

TEST(connection_machine, an_unexpected_failure_backs_off_before_a_fresh_connection) {
    connection_machine m(reconnect, 300s);
    m.resume(connection_event::started, t0, 0);
    m.resume(connection_event::connected, t0, 0);
    const auto a = m.resume(connection_event::failed_unexpectedly, t0, 0.0);
    EXPECT_EQ(a.what, kind::wait_until);
    EXPECT_GT(a.until, t0);
}

TEST(connection_machine, a_connection_turns_too_old_at_max_age_and_never_with_zero) {
    connection_machine m(reconnect, 300s);
    m.resume(connection_event::started, t0, 0);
    m.resume(connection_event::connected, t0, 0);
    EXPECT_FALSE(m.too_old(t0 + 299s));
    EXPECT_TRUE(m.too_old(t0 + 300s));
    connection_machine forever(reconnect, 0s);
    forever.resume(connection_event::started, t0, 0);
    forever.resume(connection_event::connected, t0, 0);
    EXPECT_FALSE(forever.too_old(t0 + 100h));
}

TEST(connection_machine, stop_and_idle_expiry_terminate_from_any_status) {
    for (auto last :
         {connection_event::started, connection_event::connected, connection_event::connect_failed}) {
        connection_machine m(reconnect, 300s);
        m.resume(connection_event::started, t0, 0);
        m.resume(last, t0, 0);
        EXPECT_EQ(m.resume(connection_event::stop, t0, 0).what, kind::terminate);
        EXPECT_EQ(m.status(), connection_status::terminated);
        // Nothing brings a terminated connection back.
        EXPECT_EQ(m.resume(connection_event::wait_over, t0, 0).what, kind::terminate);
    }
    connection_machine idle(reconnect, 300s);
    idle.resume(connection_event::started, t0, 0);
    idle.resume(connection_event::connected, t0, 0);
    EXPECT_EQ(idle.resume(connection_event::idle_expired, t0 + 60s, 0).what, kind::terminate);
}

TEST(pool_sizing, opens_what_the_outstanding_work_needs_between_min_and_max) {
    // Little's law: 1,000 in flight over HTTP/2 at 100 streams a connection is 10 connections.
    EXPECT_EQ(connections_to_open(
                  {.outstanding = 1000, .connections = 0, .per_connection = 100, .min = 1, .max = 32}),
              10u);
    EXPECT_EQ(connections_to_open(
                  {.outstanding = 1000, .connections = 4, .per_connection = 100, .min = 1, .max = 32}),
              6u);
    EXPECT_EQ(connections_to_open(
                  {.outstanding = 1001, .connections = 10, .per_connection = 100, .min = 1, .max = 32}),
              1u);
    // HTTP/1.1 carries one at a time: the maximum bounds the pool.
    EXPECT_EQ(connections_to_open(
                  {.outstanding = 1000, .connections = 0, .per_connection = 1, .min = 1, .max = 32}),
              32u);
    // No work: the minimum; enough open: none.
    EXPECT_EQ(
        connections_to_open({.outstanding = 0, .connections = 0, .per_connection = 100, .min = 2, .max = 32}),
        2u);
    EXPECT_EQ(connections_to_open(
                  {.outstanding = 50, .connections = 3, .per_connection = 100, .min = 1, .max = 32}),
              0u);
    // A nonsense capacity of 0 counts as 1.
    EXPECT_EQ(
        connections_to_open({.outstanding = 3, .connections = 0, .per_connection = 0, .min = 0, .max = 8}),
        3u);
}

TEST(pool_sizing, an_idle_connection_closes_only_above_the_minimum) {
    EXPECT_TRUE(may_close_idle(3, 2));
    EXPECT_FALSE(may_close_idle(2, 2));
    EXPECT_FALSE(may_close_idle(0, 0));
}
