#include <nhpush/request.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/beast/http/write.hpp>

#include <sstream>

using namespace std::chrono;
using namespace nhpush;
using testing::HasSubstr;

namespace {

const auto cs = parse_connection_string(
    "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=k");
const auto ep = make_hub_endpoint(cs, "myhub");

notification apple(std::string payload = R"({"aps":{"alert":"Hello"}})") {
    notification n;
    n.format = notification_format::apple;
    n.payload = std::move(payload);
    return n;
}

hub_request build(const notification& n) {
    hub_request req;
    build_send_request(ep, n, "SharedAccessSignature sr=x&sig=y&se=1&skn=n", req);
    return req;
}

std::string wire(const hub_request& req) {
    std::ostringstream out;
    out << req;
    return out.str();
}

// Sample bug 5: api-version 2013-10.
TEST(hub_endpoint, sample_bug_5_uses_api_version_2020_06_and_computes_targets_once) {
    EXPECT_EQ(ep.messages_target, "/myhub/messages?api-version=2020-06");
    EXPECT_EQ(ep.direct_target, "/myhub/messages?api-version=2020-06&direct");
    EXPECT_EQ(ep.test_target, "/myhub/messages?api-version=2020-06&test");
    EXPECT_EQ(ep.batch_target, "/myhub/messages/$batch?api-version=2020-06&direct");
    EXPECT_EQ(ep.scheduled_target, "/myhub/schedulednotifications?api-version=2020-06");
    EXPECT_EQ(ep.resource_uri, "https://myns.servicebus.windows.net/myhub");
    EXPECT_EQ(ep.host_header, "myns.servicebus.windows.net");
}

TEST(hub_endpoint, keeps_a_port_in_host_and_resource_and_takes_an_api_version) {
    const auto local = make_hub_endpoint(
        parse_connection_string("Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=n;SharedAccessKey=k"),
        "hub",
        "2017-04");
    EXPECT_EQ(local.host_header, "127.0.0.1:8443");
    EXPECT_EQ(local.resource_uri, "https://127.0.0.1:8443/hub");
    EXPECT_EQ(local.messages_target, "/hub/messages?api-version=2017-04");
}

TEST(hub_endpoint, refuses_bad_hub_names) {
    EXPECT_THROW(make_hub_endpoint(cs, ""), std::invalid_argument);
    EXPECT_THROW(make_hub_endpoint(cs, "my hub"), std::invalid_argument);
    EXPECT_THROW(make_hub_endpoint(cs, "hub?x=1"), std::invalid_argument);
    EXPECT_THROW(make_hub_endpoint(cs, "hub", "2020 06"), std::invalid_argument);
}

TEST(build_send_request, tag_send_has_every_header_the_service_needs) {
    auto n = apple();
    n.tags = "(sports || news) && !muted";
    n.headers = {{"apns-push-type", "alert"}, {"apns-priority", "10"}};
    const auto req = build(n);
    EXPECT_EQ(req.method(), boost::beast::http::verb::post);
    EXPECT_EQ(req.target(), "/myhub/messages?api-version=2020-06");
    EXPECT_EQ(req["Host"], "myns.servicebus.windows.net");
    EXPECT_EQ(req["Authorization"], "SharedAccessSignature sr=x&sig=y&se=1&skn=n");
    EXPECT_EQ(req["Content-Type"], "application/json;charset=utf-8");
    EXPECT_EQ(req["ServiceBusNotification-Format"], "apple");
    EXPECT_EQ(req["ServiceBusNotification-Tags"], "(sports || news) && !muted");
    EXPECT_EQ(req["apns-push-type"], "alert");
    EXPECT_EQ(req["apns-priority"], "10");
    EXPECT_EQ(req["User-Agent"], "nhpush/" NHPUSH_VERSION);
    EXPECT_EQ(req["Content-Length"], std::to_string(n.payload.size()));
    EXPECT_EQ(req.body(), n.payload);
}

// Sample bug 8: tags=None put a None header in; an empty expression must mean broadcast, no header.
TEST(build_send_request, sample_bug_8_broadcast_has_no_tags_header) {
    const auto req = build(apple());
    EXPECT_EQ(req.find("ServiceBusNotification-Tags"), req.end());
    EXPECT_EQ(req.find("ServiceBusNotification-DeviceHandle"), req.end());
}

TEST(build_send_request, direct_test_and_scheduled_targets) {
    auto direct = apple();
    direct.device_handle = "abcdef0123";
    auto req = build(direct);
    EXPECT_EQ(req.target(), "/myhub/messages?api-version=2020-06&direct");
    EXPECT_EQ(req["ServiceBusNotification-DeviceHandle"], "abcdef0123");

    auto test = apple();
    test.test = true;
    EXPECT_EQ(build(test).target(), "/myhub/messages?api-version=2020-06&test");

    auto scheduled = apple();
    scheduled.tags = "a";
    scheduled.schedule_at = sys_days{year{2026} / 12 / 1} + hours{9} + minutes{30};
    req = build(scheduled);
    EXPECT_EQ(req.target(), "/myhub/schedulednotifications?api-version=2020-06");
    EXPECT_EQ(req["ServiceBusNotification-ScheduleTime"], "2026-12-01T09:30:00Z");
}

TEST(build_send_request, wns_content_types) {
    notification n;
    n.format = notification_format::windows;
    n.payload = "<toast/>";
    n.headers = {{"X-WNS-Type", "wns/toast"}};
    auto req = build(n);
    EXPECT_EQ(req["Content-Type"], "application/xml");
    EXPECT_EQ(req["X-WNS-Type"], "wns/toast");
    EXPECT_EQ(req["ServiceBusNotification-Format"], "windows");
    n.headers = {{"X-WNS-Type", "wns/raw"}};
    EXPECT_EQ(build(n)["Content-Type"], "application/octet-stream");
}

TEST(build_send_request, batch_body_is_byte_exact_multipart) {
    auto n = apple(R"({"aps":{"alert":"Hi"}})");
    n.device_handles = {"handle1", "hand\"le2"};
    n.headers = {{"apns-priority", "5"}};
    const auto req = build(n);
    EXPECT_EQ(req.target(), "/myhub/messages/$batch?api-version=2020-06&direct");
    EXPECT_EQ(req["Content-Type"], "multipart/mixed; boundary=\"nh-batch-multipart-boundary\"");
    EXPECT_EQ(req["apns-priority"], "5");  // platform headers on the outer request
    EXPECT_EQ(req.body(),
              "--nh-batch-multipart-boundary\r\n"
              "Content-type: application/json;charset=utf-8\r\n"
              "Content-Disposition: inline; name=notification\r\n"
              "\r\n"
              "{\"aps\":{\"alert\":\"Hi\"}}\r\n"
              "--nh-batch-multipart-boundary\r\n"
              "Content-type: application/json\r\n"
              "Content-Disposition: inline; name=devices\r\n"
              "\r\n"
              "[\"handle1\",\"hand\\\"le2\"]\r\n"
              "--nh-batch-multipart-boundary--");
    EXPECT_EQ(req["Content-Length"], std::to_string(req.body().size()));
}

TEST(build_send_request, reuses_the_request_object_without_leftovers) {
    hub_request req;
    auto tagged = apple();
    tagged.tags = "a";
    build_send_request(ep, tagged, "auth", req);
    build_send_request(ep, apple(), "auth", req);
    EXPECT_EQ(req.find("ServiceBusNotification-Tags"), req.end());
}

TEST(build_send_request, serialises_as_http_1_1) {
    const auto text = wire(build(apple()));
    EXPECT_THAT(text, testing::StartsWith("POST /myhub/messages?api-version=2020-06 HTTP/1.1\r\n"));
    EXPECT_THAT(text, testing::EndsWith("\r\n\r\n{\"aps\":{\"alert\":\"Hello\"}}"));
}

TEST(build_other_requests, cancel_and_outcome_details) {
    const auto cancel = build_cancel_scheduled_request(ep, "id/1", "auth");
    EXPECT_EQ(cancel.method(), boost::beast::http::verb::delete_);
    EXPECT_EQ(cancel.target(), "/myhub/schedulednotifications/id%2F1?api-version=2020-06");
    EXPECT_EQ(cancel["Authorization"], "auth");
    const auto details = build_outcome_details_request(ep, "42", "auth");
    EXPECT_EQ(details.method(), boost::beast::http::verb::get);
    EXPECT_EQ(details.target(), "/myhub/messages/42?api-version=2020-06");
}

}  // namespace
