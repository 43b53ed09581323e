// Fault injection end to end: each kind, from flags and through /$admin/faults, in scripted phases.

#include "nh_requests.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace nhpush::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

TEST(hubsim_faults, Throttles429FromTheCommandLine) {
    hubsim_process hub({.args = {"--fail-429", "1", "--retry-after-429", "7"}});
    auto c = hub.client();
    const auto res = c.request(nh_send(hub));
    EXPECT_EQ(res.result_int(), 429);
    EXPECT_EQ(res[http::field::retry_after], "7");
    EXPECT_EQ(xml_text(res.body(), "Code"), "429");
    EXPECT_EQ(hub.stat("/faults/throttled_429"), 1u);
    EXPECT_EQ(hub.stat("/accepted"), 0u);
}

TEST(hubsim_faults, Legacy403WithRetryAfter) {
    hubsim_process hub;
    hub.set_faults(R"({"fail_403": 1, "retry_after_403": 3})");
    auto c = hub.client();
    const auto res = c.request(nh_send(hub));
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_EQ(res[http::field::retry_after], "3");
    EXPECT_EQ(hub.stat("/faults/throttled_403"), 1u);
}

TEST(hubsim_faults, ServerErrors500And503) {
    hubsim_process hub({.args = {"--fail-500", "1"}});
    auto c = hub.client();
    auto res = c.request(nh_send(hub));
    EXPECT_EQ(res.result_int(), 500);
    EXPECT_EQ(res.find(http::field::retry_after), res.end());
    hub.set_faults(R"({"fail_503": 1, "retry_after_503": 2})");
    res = c.request(nh_send(hub));
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_EQ(res[http::field::retry_after], "2");
    EXPECT_EQ(hub.stat("/faults/error_500"), 1u);
    EXPECT_EQ(hub.stat("/faults/error_503"), 1u);
}

TEST(hubsim_faults, AFractionOfRequestsFails) {
    hubsim_process hub({.args = {"--fail-429", "0.5", "--seed", "42"}});
    auto c = hub.client();
    int throttled = 0;
    int accepted = 0;
    for (int i = 0; i < 200; ++i) {
        const auto status = c.request(nh_send(hub)).result_int();
        throttled += status == 429;
        accepted += status == 201;
    }
    EXPECT_EQ(throttled + accepted, 200);
    EXPECT_GT(throttled, 60);  // about 100; far outside these bounds only if the fraction is ignored
    EXPECT_GT(accepted, 60);
    EXPECT_EQ(hub.stat("/faults/throttled_429"), static_cast<std::uint64_t>(throttled));
}

TEST(hubsim_faults, AddedLatencyDelaysAnswers) {
    hubsim_process hub;
    auto c = hub.client();
    ASSERT_EQ(c.request(nh_send(hub)).result_int(), 201);  // connected and warm
    hub.set_faults(R"({"latency_ms": 300})");
    const auto start = steady_clock::now();
    EXPECT_EQ(c.request(nh_send(hub)).result_int(), 201);
    EXPECT_GE(steady_clock::now() - start, 300ms);
    hub.set_faults(R"({"latency_ms": 25, "latency_jitter_ms": 20})");  // 5..45 ms, never 0
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(c.request(nh_send(hub)).result_int(), 201);
    }
    EXPECT_EQ(hub.stat("/faults/delayed"), 6u);
}

TEST(hubsim_faults, ClosesTheConnectionAfterNAnswers) {
    hubsim_process hub({.args = {"--close-after", "3"}});
    auto c = hub.client();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(c.request(nh_send(hub)).result_int(), 201);
    }
    EXPECT_TRUE(c.wait_closed_by_server(5s));
    EXPECT_EQ(c.request(nh_send(hub)).result_int(), 201);
    EXPECT_EQ(c.connections_opened(), 2u);
    EXPECT_EQ(hub.stat("/faults/closed"), 1u);
}

TEST(hubsim_faults, DropsAConnectionMidResponse) {
    hubsim_process hub;
    hub.set_faults(R"({"drop": 1})");
    auto c = hub.client();
    http_response res;
    EXPECT_TRUE(c.send(nh_send(hub), res, 5s));  // the answer is cut off
    EXPECT_FALSE(c.connected());
    EXPECT_EQ(hub.stat("/faults/dropped"), 1u);
    hub.set_faults("{}");
    EXPECT_EQ(c.request(nh_send(hub)).result_int(), 201);
}

TEST(hubsim_faults, RateLimitAnswers429AboveTheRate) {
    hubsim_process hub({.args = {"--rate-limit", "5", "--retry-after-rate-limit", "2"}});
    auto c = hub.client();
    int accepted = 0;
    int limited = 0;
    std::string retry_after;
    for (int i = 0; i < 30; ++i) {
        const auto res = c.request(nh_send(hub));
        accepted += res.result_int() == 201;
        if (res.result_int() == 429) {
            ++limited;
            retry_after = res[http::field::retry_after];
        }
    }
    // 30 quick requests span one or two whole seconds: at most 5 admitted in each.
    EXPECT_LE(accepted, 10);
    EXPECT_GE(accepted, 5);
    EXPECT_EQ(accepted + limited, 30);
    EXPECT_EQ(retry_after, "2");
    EXPECT_EQ(hub.stat("/faults/rate_limited"), static_cast<std::uint64_t>(limited));
}

TEST(hubsim_faults, AuthenticationComesBeforeFaults) {
    hubsim_process hub({.args = {"--fail-429", "1"}});
    auto c = hub.client();
    auto req = nh_send(hub);
    req.set(http::field::authorization, hub.sas_token("myhub", std::chrono::hours{1}, "wrong"));
    EXPECT_EQ(c.request(req).result_int(), 401);
}

TEST(hubsim_admin, FaultsCanBeReadReplacedAndPatchedInPhases) {
    hubsim_process hub({.args = {"--fail-500", "0.25", "--latency", "5"}});
    rapidjson::Document d;
    d.Parse(hub.faults_json().c_str());
    EXPECT_EQ(d["fail_500"].GetDouble(), 0.25);
    EXPECT_EQ(d["latency_ms"].GetInt(), 5);

    auto c = hub.client();
    hub.set_faults(R"({"fail_503": 1})");  // phase 1: every send fails
    EXPECT_EQ(c.request(nh_send(hub)).result_int(), 503);
    d.Parse(hub.faults_json().c_str());
    EXPECT_EQ(d["fail_500"].GetDouble(), 0.0);      // POST replaced everything
    hub.patch_faults(R"({"retry_after_503": 4})");  // phase 2: same, with a Retry-After
    const auto res = c.request(nh_send(hub));
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_EQ(res[http::field::retry_after], "4");
    hub.set_faults("{}");  // phase 3: healthy again
    EXPECT_EQ(c.request(nh_send(hub)).result_int(), 201);
}

TEST(hubsim_admin, RejectsInvalidFaultSettings) {
    hubsim_process hub;
    auto c = hub.client();
    for (const char* body : {R"({"fail_429": 2})",
                             R"({"no_such_fault": 1})",
                             R"([1])",
                             "not json",
                             R"({"fail_429": 0.6, "fail_503": 0.6})",
                             R"({"close_after": -1})"}) {
        auto req = make_request(http::verb::post, "/$admin/faults", body);
        const auto res = c.request(req);
        EXPECT_EQ(res.result_int(), 400) << body;
        EXPECT_NE(res.body().find("\"error\""), std::string::npos) << res.body();
    }
    EXPECT_NE(c.request(make_request(http::verb::post, "/$admin/faults", R"({"no_such_fault": 1})"))
                  .body()
                  .find("no_such_fault"),
              std::string::npos);
}

}  // namespace
}  // namespace nhpush::testing
