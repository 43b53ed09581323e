#include <nhpush/request.hpp>

#include "wire_request.hpp"

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

TEST(build_send_request, a_platform_header_given_twice_is_sent_once_with_its_last_value) {
    auto n = apple();
    n.headers = {{"apns-priority", "10"}, {"apns-push-type", "alert"}, {"APNS-Priority", "5"}};
    const auto req = build(n);
    EXPECT_EQ(req.count("apns-priority"), 1u);
    EXPECT_EQ(req["apns-priority"], "5");
    const auto w = wire(req);
    EXPECT_LT(w.find("apns-push-type: alert"), w.find("APNS-Priority: 5"));  // in the place of the last
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

// What build_send_request throws for `n`, or "built".
std::string refusal(const notification& n, std::string_view authorization = "SharedAccessSignature sr=x") {
    hub_request req;
    try {
        build_send_request(ep, n, authorization, req);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "built";
}

// async_send_prepared skips prepare_notification: the request builder is the last gate.
TEST(request, build_refuses_injected_tags_even_when_validation_was_skipped) {
    hub_request req;
    auto previous = apple();
    previous.tags = "a";
    build_send_request(ep, previous, "auth", req);

    auto n = apple();
    n.tags = "\r\nX-Anything:x || user:42";
    EXPECT_THROW(build_send_request(ep, n, "auth", req), std::invalid_argument);
    EXPECT_EQ(refusal(n),
              "tags: byte 0x0D (CR) at position 1: a tag expression may hold only visible ASCII characters, "
              "spaces and tabs");
    EXPECT_EQ(req["ServiceBusNotification-Tags"], "a") << "a refused build leaves the request as it was";
}

TEST(request, build_refuses_hostile_bytes_in_every_header_field) {
    const std::string hostile[] = {
        "x\r", "x\n", "x\r\nContent-Length: 0", std::string("x\0", 2), "x\x01", "x\x7f", "x\v", "x\f"};
    for (const auto& bad : hostile) {
        auto tags = apple();
        tags.tags = "a" + bad;
        EXPECT_THAT(refusal(tags), testing::StartsWith("tags: byte 0x")) << bad;

        auto direct = apple();
        direct.device_handle = "h" + bad;
        EXPECT_THAT(refusal(direct), testing::StartsWith("device_handle: byte 0x")) << bad;

        auto batch = apple();
        batch.device_handles = {"h0", "h1", "h2", "h" + bad};
        EXPECT_THAT(refusal(batch), testing::StartsWith("device_handles[3]: byte 0x")) << bad;

        auto header = apple();
        header.headers = {{"apns-topic", "com.example" + bad}};
        EXPECT_THAT(refusal(header), testing::StartsWith("headers.apns-topic: byte 0x")) << bad;

        auto name = apple();
        name.headers = {{"apns-topic" + bad, "v"}};
        EXPECT_THAT(refusal(name), testing::StartsWith("headers: header name is not a valid HTTP token"))
            << bad;

        EXPECT_THAT(refusal(apple(), "SharedAccessSignature sr=x" + bad),
                    testing::StartsWith("Authorization: byte 0x"))
            << bad;
    }
    auto reframed = apple();
    reframed.headers = {{"Transfer-Encoding", "chunked"}};
    EXPECT_EQ(refusal(reframed),
              "headers.Transfer-Encoding: header 'Transfer-Encoding' is set by nhpush and cannot be given");
}

// A connection reuses one wire_request: a token passed once is not checked again, a new one is.
TEST(request, a_reused_wire_request_still_refuses_a_bad_token_after_a_good_one) {
    detail::wire_request w;
    detail::make_send_request(ep, apple(), "SharedAccessSignature sr=x", w);
    detail::make_send_request(ep, apple(), "SharedAccessSignature sr=x", w);
    EXPECT_THROW(detail::make_send_request(ep, apple(), "SharedAccessSignature sr=x\r\nX: y", w),
                 std::invalid_argument);
    EXPECT_EQ(w.fields.at(2).second, "SharedAccessSignature sr=x");  // left as it was
}

// Beast throws std::length_error for a field of 65,534 bytes or more; the gate refuses long before.
TEST(request, oversized_device_handle_is_refused_not_thrown_by_beast) {
    auto direct = apple();
    direct.device_handle = std::string(70000, 'a');
    EXPECT_EQ(refusal(direct), "device_handle: a device handle is 70000 bytes long; the limit is 2048");

    auto padded = apple();
    padded.tags = "a" + std::string(65534, ' ') + "|| b";
    EXPECT_THAT(refusal(padded), HasSubstr("tags: a tag expression is 65539 bytes long; the limit is 4096"));

    auto header = apple();
    header.headers = {{"apns-collapse-id", std::string(70000, 'x')}};
    EXPECT_EQ(refusal(header),
              "headers.apns-collapse-id: a header value is 70000 bytes long; the limit is 1024");

    auto at_limits = apple();
    at_limits.device_handle = std::string(2048, 'a');
    at_limits.headers = {{"apns-collapse-id", std::string(1024, 'x')}};
    EXPECT_EQ(refusal(at_limits), "built");
}

TEST(request, cancel_and_details_refuse_bad_ids) {
    using builder = hub_request (*)(const hub_endpoint&, std::string_view, std::string_view);
    for (builder build :
         {builder{&build_cancel_scheduled_request}, builder{&build_outcome_details_request}}) {
        EXPECT_NO_THROW(build(ep, std::string(512, 'i'), "auth"));
        EXPECT_THROW(build(ep, "", "auth"), std::invalid_argument);
        EXPECT_THROW(build(ep, "id\r\nHost: evil", "auth"), std::invalid_argument);
        EXPECT_THROW(build(ep, std::string(513, 'i'), "auth"), std::invalid_argument);
        EXPECT_THROW(build(ep, "42", "auth\r\nX: y"), std::invalid_argument);
    }
    try {
        build_cancel_scheduled_request(ep, "a b", "auth");
        ADD_FAILURE() << "an id with a space was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(
            e.what(),
            "id: byte 0x20 (SP) at position 2: a notification id may hold only visible ASCII characters");
    }
}

}  // namespace
