#include "hubs/hub_health.hpp"

#include <gtest/gtest.h>

using namespace nhpush::hubs;
using nhpush::errc;
using nhpush::send_result;

namespace {

send_result with_status(unsigned status) {
    send_result r;
    r.http_status = status;
    return r;
}

TEST(hub_health, healthy_until_auth_fails_repeatedly_and_healthy_again_after_a_success) {
    hub_health h;
    for (std::uint32_t i = 0; i < unhealthy_after_failures - 1; ++i) {
        h.record(errc::hub_rejected, with_status(401));
    }
    const auto sample = [&] { return hub_health_sample::of("main", h); };
    EXPECT_TRUE(evaluate_health(false, std::vector{sample()}).healthy);
    h.record(errc::hub_rejected, with_status(401));
    const auto report = evaluate_health(false, std::vector{sample()});
    EXPECT_FALSE(report.healthy);
    ASSERT_EQ(report.reasons.size(), 1u);
    EXPECT_NE(report.reasons[0].find("hub main"), std::string::npos);
    EXPECT_NE(report.reasons[0].find("401"), std::string::npos);
    h.record({}, with_status(201));
    EXPECT_TRUE(evaluate_health(false, std::vector{sample()}).healthy);
}

TEST(hub_health, other_failures_do_not_count_as_authentication) {
    hub_health h;
    for (int i = 0; i < 10; ++i) {
        h.record(errc::hub_rejected, with_status(400));
        h.record(errc::retries_exhausted, with_status(503));
    }
    EXPECT_EQ(h.consecutive_auth_failures.load(), 0u);
    for (int i = 0; i < 3; ++i) {
        h.record(errc::tls_verify_failed, {});
    }
    const auto report = evaluate_health(false, std::vector{hub_health_sample::of("x", h)});
    EXPECT_FALSE(report.healthy);
    EXPECT_NE(report.reasons[0].find("certificate"), std::string::npos);
}

TEST(hub_health, stopping_is_unhealthy_and_rendered_with_reasons) {
    const auto report = evaluate_health(true, {});
    EXPECT_FALSE(report.healthy);
    EXPECT_EQ(render_health(report), R"({"status":"unhealthy","reasons":["nhpushd is stopping"]})");
    EXPECT_EQ(render_health(evaluate_health(false, {})), R"({"status":"ok"})");
}

}  // namespace
