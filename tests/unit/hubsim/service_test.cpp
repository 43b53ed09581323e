// The service logic driven with plain request objects: no sockets, no threads.

#include "hubsim/service.hpp"

#include <nhpush/sas_token.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace nhpush::hubsim {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono;

const auto now = system_clock::time_point{seconds{1'700'000'000}};

struct hubsim_service : ::testing::Test {
    hubsim_config config = [] {
        hubsim_config c;
        c.credentials = {{"Full", "secret"}};
        c.seed = 1;
        return c;
    }();
    std::unique_ptr<shared_state> shared;
    std::unique_ptr<request_handler> handler;
    connection_state conn;
    reply out;

    void start() {
        shared = std::make_unique<shared_state>(config, 1);
        shared->authority = "127.0.0.1:8443";
        handler = std::make_unique<request_handler>(*shared, 0);
    }
    void SetUp() override { start(); }

    request send(std::string_view hub = "hub", std::string_view query = "") {
        request req{http::verb::post, fmt::format("/{}/messages?api-version=2020-06{}", hub, query), 11};
        req.set(http::field::host, "127.0.0.1:8443");
        req.set(
            http::field::authorization,
            make_sas_token("Full", "secret", fmt::format("https://127.0.0.1:8443/{}", hub), 1'700'003'600));
        req.set(http::field::content_type, "application/json;charset=utf-8");
        req.set("ServiceBusNotification-Format", "apple");
        req.body() = R"({"aps":{"alert":"hi"}})";
        return req;
    }
    unsigned answer(const request& req) {
        handler->handle(req, conn, now, out);
        return out.res.result_int();
    }
    stats_snapshot stats() const { return shared->stats.merged(); }
};

TEST_F(hubsim_service, AcceptsWith201LocationTrackingIdAndEmptyBody) {
    ASSERT_EQ(answer(send()), 201u) << out.res.body();
    const std::string location(out.res[http::field::location]);
    EXPECT_TRUE(location.starts_with("https://127.0.0.1:8443/hub/messages/" + shared->id_prefix)) << location;
    EXPECT_TRUE(location.ends_with("?api-version=2020-06"));
    EXPECT_EQ(out.res["TrackingId"].size(), 36u);
    EXPECT_TRUE(out.res.body().empty());
    EXPECT_EQ(out.res[http::field::content_length], "0");
    EXPECT_TRUE(out.res.keep_alive());
    EXPECT_EQ(stats().accepted, 1u);
    EXPECT_EQ(stats().by_status[201], 1u);
}

TEST_F(hubsim_service, OrderOfChecks) {
    auto req = send();
    req.target("/hub/messages");  // no api-version, and a wrong key: the version is checked first
    req.set(http::field::authorization,
            make_sas_token("Full", "wrong", "https://127.0.0.1:8443/hub", 1'700'003'600));
    EXPECT_EQ(answer(req), 400u);
    req.target("/hub/messages?api-version=2020-06");
    EXPECT_EQ(answer(req), 401u);
    EXPECT_EQ(stats().auth_failures[static_cast<std::size_t>(auth_failure::invalid_signature)], 1u);
    req = send();
    req.set(http::field::content_type, "text/plain");
    EXPECT_EQ(answer(req), 400u);
    req.method(http::verb::put);
    EXPECT_EQ(answer(req), 405u);
    req.target("/hub/nothing?api-version=2020-06");
    EXPECT_EQ(answer(req), 404u);
}

TEST_F(hubsim_service, ListedHubsOnly) {
    config.hubs = {"hub"};
    start();
    EXPECT_EQ(answer(send("hub")), 201u);
    EXPECT_EQ(answer(send("other")), 404u);
    EXPECT_NE(out.res.body().find("EntityNotFound"), std::string::npos);
}

TEST_F(hubsim_service, InjectedStatusesComeAfterAuthentication) {
    config.faults.fail_503 = 1;
    config.faults.retry_after_503 = seconds{9};
    start();
    EXPECT_EQ(answer(send()), 503u);
    EXPECT_EQ(out.res[http::field::retry_after], "9");
    auto bad = send();
    bad.erase(http::field::authorization);
    EXPECT_EQ(answer(bad), 401u);
    EXPECT_EQ(stats().faults[static_cast<std::size_t>(fault_counter::error_503)], 1u);
    EXPECT_EQ(stats().accepted, 0u);
}

TEST_F(hubsim_service, RstStreamRefusedIsNotProcessedInternalIs) {
    config.faults.rst_stream = 1;
    start();
    answer(send());
    ASSERT_TRUE(out.reset);
    EXPECT_EQ(*out.reset, stream_reset_code::refused_stream);
    EXPECT_EQ(stats().accepted, 0u);
    shared->faults.set({.rst_stream = 1, .rst_stream_code = stream_reset_code::internal_error});
    EXPECT_EQ(answer(send()), 201u);  // processed, then the session resets instead of answering
    ASSERT_TRUE(out.reset);
    EXPECT_EQ(*out.reset, stream_reset_code::internal_error);
    EXPECT_EQ(stats().accepted, 1u);
    EXPECT_EQ(stats().faults[static_cast<std::size_t>(fault_counter::stream_reset)], 2u);
    EXPECT_EQ(stats().by_status[201], 0u);  // a reset is not an answer
    shared->faults.set({});
    answer(send());
    EXPECT_FALSE(out.reset);
}

TEST_F(hubsim_service, RequestsAreCountedByProtocol) {
    answer(send());
    connection_state h2{.protocol = http_protocol::h2};
    handler->handle(send(), h2, now, out);
    handler->handle(send(), h2, now, out);
    handler->reject_too_large(20, now, out, http_protocol::h2);
    EXPECT_EQ(stats().requests, 4u);
    EXPECT_EQ(stats().requests_http1, 1u);
    EXPECT_EQ(stats().requests_h2, 3u);
}

TEST_F(hubsim_service, DelayDropAndCloseAreHandedToTheSession) {
    config.faults.latency = milliseconds{25};
    config.faults.drop = 1;
    start();
    EXPECT_EQ(answer(send()), 201u);
    EXPECT_EQ(out.delay, milliseconds{25});
    EXPECT_TRUE(out.drop);
    shared->faults.set({.close_after = 2});
    EXPECT_EQ(answer(send()), 201u);
    EXPECT_FALSE(out.drop);
    EXPECT_TRUE(out.close_after);  // the second answer on this connection
}

TEST_F(hubsim_service, RateLimitIsSharedAndPerSecond) {
    config.faults.rate_limit = 2;
    start();
    EXPECT_EQ(answer(send()), 201u);
    EXPECT_EQ(answer(send()), 201u);
    EXPECT_EQ(answer(send()), 429u);
    EXPECT_EQ(out.res[http::field::retry_after], "1");
    handler->handle(send(), conn, now + seconds{1}, out);
    EXPECT_EQ(out.res.result_int(), 201u);
}

TEST_F(hubsim_service, AdminNeedsNoTokenAndIsNotCounted) {
    request get{http::verb::get, "/$admin/faults", 11};
    EXPECT_EQ(answer(get), 200u);
    request set{http::verb::post, "/$admin/faults", 11};
    set.body() = R"({"fail_429": 1})";
    EXPECT_EQ(answer(set), 200u);
    EXPECT_EQ(answer(send()), 429u);
    set.method(http::verb::patch);
    set.body() = R"({"retry_after_429": 6})";
    EXPECT_EQ(answer(set), 200u);
    EXPECT_EQ(answer(send()), 429u);
    EXPECT_EQ(out.res[http::field::retry_after], "6");
    set.body() = R"({"fail_429": "all"})";
    EXPECT_EQ(answer(set), 400u);
    EXPECT_NE(out.res.body().find("fail_429"), std::string::npos);
    request stats_req{http::verb::get, "/$stats", 11};
    EXPECT_EQ(answer(stats_req), 200u);
    rapidjson::Document d;
    d.Parse(out.res.body().c_str());
    EXPECT_EQ(d["requests"].GetUint64(), 2u);
    EXPECT_EQ(d["faults"]["throttled_429"].GetUint64(), 2u);
}

TEST_F(hubsim_service, TooLargeClosesTheConnection) {
    handler->reject_too_large(11, now, out);
    EXPECT_EQ(out.res.result_int(), 413u);
    EXPECT_FALSE(out.res.keep_alive());
    EXPECT_NE(out.res.body().find("64 Kb"), std::string::npos);
}

}  // namespace
}  // namespace nhpush::hubsim
