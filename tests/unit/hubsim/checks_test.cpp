#include "hubsim/checks.hpp"

#include <gtest/gtest.h>

namespace nhpush::hubsim {
namespace {

namespace http = boost::beast::http;
using std::chrono::system_clock;

const auto now = system_clock::time_point{std::chrono::seconds{1'700'000'000}};

struct hubsim_send_checks : ::testing::Test {
    route r;
    request req{http::verb::post, "/h/messages?api-version=2020-06", 11};
    accepted_notification out;

    void SetUp() override {
        req.set("ServiceBusNotification-Format", "apple");
        req.set(http::field::content_type, "application/json;charset=utf-8");
        req.body() = R"({"aps":{"alert":"hi"}})";
    }
    std::optional<check_error> check() {
        EXPECT_TRUE(parse_route(req.method(), req.target(), r));
        return check_notification(r, req, now, out);
    }
    unsigned status() {
        auto e = check();
        return e ? e->status : 201;
    }
};

TEST(hubsim_content_type, MatchesTheFormat) {
    using f = notification_format;
    EXPECT_TRUE(content_type_matches(f::apple, "application/json;charset=utf-8", ""));
    EXPECT_TRUE(content_type_matches(f::template_, "application/json", ""));  // the Python sample
    EXPECT_TRUE(content_type_matches(f::fcmv1, " Application/JSON ; charset=UTF-8", ""));
    EXPECT_FALSE(content_type_matches(f::apple, "application/xml", ""));
    EXPECT_FALSE(content_type_matches(f::apple, "text/plain", ""));
    EXPECT_TRUE(content_type_matches(f::baidu, "application/x-www-form-urlencoded", ""));
    EXPECT_FALSE(content_type_matches(f::adm, "application/x-www-form-urlencoded", ""));
    EXPECT_TRUE(content_type_matches(f::windows, "application/xml", "wns/toast"));
    EXPECT_TRUE(content_type_matches(f::windows, "text/xml", "wns/tile"));
    EXPECT_FALSE(content_type_matches(f::windows, "application/json", "wns/toast"));
    EXPECT_TRUE(content_type_matches(f::windows, "application/octet-stream", "wns/raw"));
    EXPECT_FALSE(content_type_matches(f::windows, "application/xml", "wns/raw"));
    EXPECT_TRUE(content_type_matches(f::windowsphone, "application/xml;charset=utf-8", ""));
}

TEST(hubsim_multipart, BoundaryParameter) {
    EXPECT_EQ(multipart_boundary(R"(multipart/mixed; boundary = "nh-boundary-1")"), "nh-boundary-1");  // JS
    EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=nh-batch-multipart-boundary"),
              "nh-batch-multipart-boundary");
    EXPECT_EQ(multipart_boundary("multipart/mixed; charset=x; BOUNDARY=b"), "b");
    EXPECT_FALSE(multipart_boundary("multipart/mixed"));
    EXPECT_FALSE(multipart_boundary("multipart/mixed; boundary="));
}

TEST(hubsim_multipart, SplitsTheSdkBody) {
    const std::string body =
        "--b\r\nContent-type: application/json;charset=utf-8\r\nContent-Disposition: inline; "
        "name=notification\r\n\r\n"
        "{\"aps\":{}}\r\n--b\r\nContent-type: application/json\r\nContent-Disposition: inline; "
        "name=devices\r\n\r\n"
        "[\"a\",\"b\"]\r\n--b--";
    std::vector<multipart_part> parts;
    ASSERT_FALSE(parse_multipart(body, "b", parts));
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "notification");
    EXPECT_EQ(parts[0].content_type, "application/json;charset=utf-8");
    EXPECT_EQ(parts[0].body, "{\"aps\":{}}");
    EXPECT_EQ(parts[1].name, "devices");
    EXPECT_EQ(parts[1].body, "[\"a\",\"b\"]");
}

TEST(hubsim_multipart, RejectsBrokenBodies) {
    std::vector<multipart_part> parts;
    EXPECT_TRUE(parse_multipart("no boundary here", "b", parts));
    EXPECT_TRUE(parse_multipart("--b\r\nContent-type: x\r\n\r\nbody", "b", parts));       // never closed
    EXPECT_TRUE(parse_multipart("--b\r\nContent-type: x\r\nbody\r\n--b--", "b", parts));  // no blank line
    EXPECT_TRUE(parse_multipart("--b--", "b", parts));                                    // no parts
}

TEST_F(hubsim_send_checks, AcceptsAGoodSend) {
    req.set("ServiceBusNotification-Tags", "(a || b) && !c");
    req.set("X-Nhpush-Id", "n1");
    EXPECT_FALSE(check());
    EXPECT_EQ(out.format, notification_format::apple);
    EXPECT_EQ(out.tags, "(a || b) && !c");
    EXPECT_EQ(out.client_id, "n1");
    EXPECT_EQ(out.payload, req.body());
}

TEST_F(hubsim_send_checks, FormatAndContentType) {
    req.set("ServiceBusNotification-Format", "Apple");  // case matters, as in the service
    EXPECT_EQ(status(), 400u);
    req.erase("ServiceBusNotification-Format");
    EXPECT_EQ(status(), 400u);
    req.set("ServiceBusNotification-Format", "apple");
    req.set(http::field::content_type, "application/xml");
    EXPECT_EQ(status(), 400u);
    req.erase(http::field::content_type);
    EXPECT_EQ(status(), 400u);
}

TEST_F(hubsim_send_checks, SizeLimits) {
    req.body() = std::string(4096, 'a');
    EXPECT_EQ(status(), 201u);
    req.body() = std::string(4097, 'a');
    EXPECT_EQ(status(), 400u);  // APNs: 4 KB
    req.set("ServiceBusNotification-Format", "template");
    EXPECT_EQ(status(), 201u);
    req.body() = std::string(64 * 1024, 'a');
    EXPECT_EQ(status(), 201u);
    req.body() = std::string(64 * 1024 + 1, 'a');
    EXPECT_EQ(status(), 413u);
    req.body().clear();
    EXPECT_EQ(status(), 400u);
}

TEST_F(hubsim_send_checks, WindowsNeedsXWnsType) {
    req.set("ServiceBusNotification-Format", "windows");
    req.set(http::field::content_type, "application/xml");
    req.body() = "<toast/>";
    EXPECT_EQ(status(), 400u);
    req.set("X-WNS-Type", "wns/popup");
    EXPECT_EQ(status(), 400u);
    req.set("X-WNS-Type", "wns/badge");
    EXPECT_EQ(status(), 201u);
    req.set("X-WNS-Type", "wns/raw");
    req.set(http::field::content_type, "application/octet-stream");
    req.body() = std::string(5 * 1024 + 1, 'r');
    EXPECT_EQ(status(), 400u);
}

TEST_F(hubsim_send_checks, TagExpressionsWithinNhLimits) {
    req.set("ServiceBusNotification-Tags", "a || b || c || d || e || f || g || h || i || j || k || l");
    EXPECT_EQ(status(), 201u);
    req.set("ServiceBusNotification-Tags", "a && b && c && d && e && f && g");
    EXPECT_EQ(status(), 400u);
    req.set("ServiceBusNotification-Tags", "$InstallationId:{abc} && t");
    EXPECT_EQ(status(), 201u);
    req.set("ServiceBusNotification-Tags", "bad tag");
    const auto e = check();
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.find("tag expression"), std::string::npos);
    req.set("ServiceBusNotification-Tags", "  ");
    EXPECT_EQ(status(), 201u);  // blank: a broadcast
    EXPECT_TRUE(out.tags.empty());
}

TEST_F(hubsim_send_checks, DirectSendNeedsAHandle) {
    req.target("/h/messages?api-version=2020-06&direct");
    EXPECT_EQ(status(), 400u);
    req.set("ServiceBusNotification-DeviceHandle", "tok");
    EXPECT_EQ(status(), 201u);
    EXPECT_EQ(out.device_handle, "tok");
}

TEST_F(hubsim_send_checks, ScheduledSendNeedsATimeWithinSevenDays) {
    req.target("/h/schedulednotifications?api-version=2020-06");
    EXPECT_EQ(status(), 400u);
    req.set("ServiceBusNotification-ScheduleTime", "tomorrow");
    EXPECT_EQ(status(), 400u);
    req.set("ServiceBusNotification-ScheduleTime", "2023-11-15T00:00:00.000Z");  // JS toISOString()
    EXPECT_EQ(status(), 201u);
    req.set("ServiceBusNotification-ScheduleTime", "2023-11-15T00:00:00");  // .NET, no zone
    EXPECT_EQ(status(), 201u);
    req.set("ServiceBusNotification-ScheduleTime", "2023-11-30T00:00:00Z");
    EXPECT_EQ(status(), 400u);
}

TEST_F(hubsim_send_checks, BatchChecks) {
    req.target("/h/messages/$batch?api-version=2020-06&direct");
    const auto body = [](std::string_view type, std::string_view devices) {
        return "--b\r\nContent-type: " + std::string(type) +
               "\r\nContent-Disposition: inline; "
               "name=notification\r\n\r\n{\"aps\":{}}\r\n--b\r\nContent-type: "
               "application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n" +
               std::string(devices) + "\r\n--b--";
    };
    req.set(http::field::content_type, "multipart/mixed; boundary=b");
    req.body() = body("application/json", R"(["h1","h2"])");
    EXPECT_EQ(status(), 201u);
    EXPECT_EQ(out.device_handles, (std::vector<std::string>{"h1", "h2"}));
    EXPECT_EQ(out.payload, "{\"aps\":{}}");
    req.body() = body("application/xml", R"(["h1"])");
    EXPECT_EQ(status(), 400u);
    req.body() = body("application/json", "[]");
    EXPECT_EQ(status(), 400u);
    req.body() = body("application/json", R"(["h1", 2])");
    EXPECT_EQ(status(), 400u);
    req.body() = body("application/json", R"(["h1"])");
    req.set(http::field::content_type, "application/json");
    EXPECT_EQ(status(), 400u);
    req.set(http::field::content_type, "multipart/mixed");
    EXPECT_EQ(status(), 400u);
    req.set(http::field::content_type, "multipart/mixed; boundary=b");
    req.target("/h/messages/$batch?api-version=2020-06");  // no direct
    EXPECT_EQ(status(), 400u);
}

TEST(hubsim_api_version, RequiredWellFormedAndNewEnough) {
    route r;
    const auto problem = [&](std::string_view target) {
        EXPECT_TRUE(parse_route(http::verb::post, target, r));
        return check_api_version(r).has_value();
    };
    EXPECT_FALSE(problem("/h/messages?api-version=2020-06"));
    EXPECT_FALSE(problem("/h/messages?api-version=2013-10"));
    EXPECT_FALSE(problem("/h/messages?api-version=2023-10-01-preview"));
    EXPECT_TRUE(problem("/h/messages"));
    EXPECT_TRUE(problem("/h/messages?api-version=latest"));
    EXPECT_TRUE(problem("/h/messages?api-version=2013-10&direct"));  // direct needs 2015-04
    EXPECT_FALSE(problem("/h/messages?api-version=2015-04&direct"));
    EXPECT_TRUE(problem("/h/messages/$batch?api-version=2015-04&direct"));  // batch needs 2015-08
}

}  // namespace
}  // namespace nhpush::hubsim
