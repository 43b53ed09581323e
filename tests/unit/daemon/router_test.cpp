#include "api/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace nhpush::api;

namespace {

route ok(method m, std::string_view target) {
    auto r = route_request(m, target);
    EXPECT_TRUE(std::holds_alternative<route>(r)) << target;
    return std::holds_alternative<route>(r) ? std::get<route>(r) : route{};
}

route_error refused(method m, std::string_view target) {
    auto r = route_request(m, target);
    EXPECT_TRUE(std::holds_alternative<route_error>(r)) << target;
    return std::holds_alternative<route_error>(r) ? std::get<route_error>(r) : route_error{};
}

TEST(router, endpoints) {
    EXPECT_EQ(ok(method::post, "/v1/notifications"), (route{endpoint::submit, {}, false}));
    EXPECT_EQ(ok(method::post, "/v1/notifications?wait=true"), (route{endpoint::submit, {}, true}));
    EXPECT_EQ(ok(method::post, "/v1/notifications?wait=1"), (route{endpoint::submit, {}, true}));
    EXPECT_EQ(ok(method::post, "/v1/notifications?wait=false"), (route{endpoint::submit, {}, false}));
    EXPECT_EQ(ok(method::post, "/v1/notifications?"), (route{endpoint::submit, {}, false}));
    EXPECT_EQ(ok(method::get, "/v1/notifications/abc-1"),
              (route{endpoint::notification_status, "abc-1", false}));
    EXPECT_EQ(ok(method::get, "/v1/notifications/user%3A42%40x"),
              (route{endpoint::notification_status, "user:42@x", false}));
    EXPECT_EQ(ok(method::get, "/v1/stats"), (route{endpoint::stats}));
    EXPECT_EQ(ok(method::get, "/metrics"), (route{endpoint::metrics}));
    EXPECT_EQ(ok(method::get, "/healthz"), (route{endpoint::health}));
    EXPECT_EQ(ok(method::get, "/healthz?probe=1"), (route{endpoint::health}));
}

TEST(router, the_notifications_life_and_dead_letters) {
    EXPECT_EQ(ok(method::del, "/v1/notifications/abc-1"), (route{endpoint::notification_cancel, "abc-1"}));
    EXPECT_EQ(ok(method::get, "/v1/notifications/a%3Ab/details"),
              (route{endpoint::notification_details, "a:b"}));
    EXPECT_EQ(ok(method::get, "/v1/dead-letters"),
              (route{.target = endpoint::dead_letters_list, .limit = default_dead_letter_limit}));
    EXPECT_EQ(ok(method::get, "/v1/dead-letters?limit=5&after=n%2D1"),
              (route{.target = endpoint::dead_letters_list, .limit = 5, .after = "n-1"}));
    EXPECT_EQ(ok(method::del, "/v1/dead-letters"), (route{endpoint::dead_letters_purge}));
    EXPECT_EQ(ok(method::post, "/v1/dead-letters/n-1/requeue"), (route{endpoint::dead_letter_requeue, "n-1"}));

    EXPECT_EQ(refused(method::post, "/v1/notifications/x/details").allow, "GET");
    EXPECT_EQ(refused(method::get, "/v1/dead-letters/x/requeue").allow, "POST");
    EXPECT_EQ(refused(method::post, "/v1/dead-letters").allow, "GET, DELETE");
    EXPECT_EQ(refused(method::get, "/v1/dead-letters/x").error.code, api_errc::not_found);
    EXPECT_EQ(refused(method::post, "/v1/dead-letters//requeue").error.code, api_errc::not_found);
    for (auto query : {"limit=0", "limit=1001", "limit=x", "limit=", "after=", "wait=true"}) {
        const auto e = refused(method::get, std::string("/v1/dead-letters?") + query);
        EXPECT_EQ(e.error.code, api_errc::bad_request) << query;
    }
    EXPECT_THAT(refused(method::get, "/v1/dead-letters?limit=0").error.message,
                ::testing::HasSubstr("limit must be a number from 1 to 1000"));
}

TEST(router, unknown_paths_are_404) {
    for (auto target : {"/",
                        "/v1",
                        "/v1/notification",
                        "/v1/notifications/",
                        "/v1/notifications/a/b",
                        "/v2/stats",
                        "/metrics/x",
                        "healthz"}) {
        const auto e = refused(method::get, target);
        EXPECT_EQ(e.error.code, api_errc::not_found) << target;
        EXPECT_TRUE(e.allow.empty());
    }
}

TEST(router, other_methods_are_405_with_allow) {
    auto e = refused(method::get, "/v1/notifications");
    EXPECT_EQ(e.error.code, api_errc::method_not_allowed);
    EXPECT_EQ(e.allow, "POST");
    e = refused(method::post, "/v1/notifications/x");
    EXPECT_EQ(e.allow, "GET, DELETE");
    for (auto m : {method::post, method::put, method::del, method::head, method::other}) {
        EXPECT_EQ(refused(m, "/metrics").error.code, api_errc::method_not_allowed);
    }
}

TEST(router, bad_queries_are_400) {
    EXPECT_EQ(refused(method::post, "/v1/notifications?wait=yes").error.code, api_errc::bad_request);
    EXPECT_EQ(refused(method::post, "/v1/notifications?wait").error.code, api_errc::bad_request);
    const auto e = refused(method::post, "/v1/notifications?wiat=true");
    EXPECT_EQ(e.error.code, api_errc::bad_request);
    EXPECT_NE(e.error.message.find("wiat"), std::string::npos);
}

TEST(router, content_types) {
    EXPECT_EQ(std::get<body_kind>(classify_content_type("application/json")), body_kind::json);
    EXPECT_EQ(std::get<body_kind>(classify_content_type("Application/JSON; charset=utf-8")), body_kind::json);
    EXPECT_EQ(std::get<body_kind>(classify_content_type("")), body_kind::json);
    EXPECT_EQ(std::get<body_kind>(classify_content_type("application/x-ndjson")), body_kind::ndjson);
    for (auto ct : {"text/plain", "application/x-www-form-urlencoded", "application/jsonx", ";"}) {
        const auto r = classify_content_type(ct);
        ASSERT_TRUE(std::holds_alternative<api_error>(r)) << ct;
        EXPECT_EQ(std::get<api_error>(r).code, api_errc::unsupported_media_type);
        EXPECT_EQ(http_status_of(std::get<api_error>(r).code), 415u);
    }
}

TEST(router, retry_after_follows_the_rate_limit) {
    EXPECT_EQ(retry_after_seconds(1000, 0), 1u);
    EXPECT_EQ(retry_after_seconds(10, 100), 1u);
    EXPECT_EQ(retry_after_seconds(250, 100), 3u);
    EXPECT_EQ(retry_after_seconds(100000, 1), 60u);
    EXPECT_EQ(retry_after_seconds(0, 5), 1u);
}

}  // namespace
