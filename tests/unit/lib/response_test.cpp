#include <nhpush/response.hpp>

#include <gtest/gtest.h>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

using namespace std::chrono;
using namespace nhpush;
namespace http = boost::beast::http;

namespace {

const auto now = sys_days{year{2026} / 11 / 28} + hours{12};

// Parses raw response bytes as Beast would read them off a socket.
hub_response_message parse(std::string_view raw) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(parser.is_done());
    return parser.release();
}

hub_response_message status_only(unsigned status, std::string retry_after = "") {
    hub_response_message res{static_cast<http::status>(status), 11};
    if (!retry_after.empty()) {
        res.set(http::field::retry_after, retry_after);
    }
    return res;
}

TEST(classify, created_is_success_with_id_and_tracking_id) {
    const auto r = classify_response(parse("HTTP/1.1 201 Created\r\n"
                                           "Location: "
                                           "https://myns.servicebus.windows.net/myhub/messages/"
                                           "3910748287917574712-6b13?api-version=2020-06\r\n"
                                           "TrackingId: 0f4c5a4d-aaaa-bbbb-cccc-1234567890ab\r\n"
                                           "Content-Length: 0\r\n\r\n"),
                                     now);
    EXPECT_EQ(r.kind, response_kind::success);
    EXPECT_EQ(r.status, 201u);
    EXPECT_FALSE(r.unexpected_success);
    EXPECT_EQ(r.notification_id, "3910748287917574712-6b13");
    EXPECT_EQ(r.tracking_id, "0f4c5a4d-aaaa-bbbb-cccc-1234567890ab");
}

TEST(classify, batch_location_takes_the_last_segment) {
    EXPECT_EQ(notification_id_from_location("https://ns/hub/messages/$batch/abc?api-version=2015-08"), "abc");
    EXPECT_EQ(notification_id_from_location("https://ns/hub/messages/abc/"), "abc");
    EXPECT_EQ(notification_id_from_location(""), "");
    EXPECT_EQ(notification_id_from_location("https://ns/hub/messages/a%2Fb%20c?x=1"),
              "a/b c");  // decoded once
    EXPECT_EQ(notification_id_from_location(
                  " https://ns.servicebus.windows.net/hub/messages/id-1?api-version=2015-04 "),
              "id-1");
    EXPECT_EQ(notification_id_from_location("/hub/messages/id-2"), "id-2") << "a relative reference";
    EXPECT_EQ(notification_id_from_location("//ns/hub/messages/id-3#f"), "id-3");
    EXPECT_EQ(notification_id_from_location("https://ns"), "") << "no path: the host is no id";
    EXPECT_EQ(notification_id_from_location("https://ns?x=/y"), "");
    EXPECT_EQ(notification_id_from_location("https://ns/hub/messages/bad%zz"), "") << "not percent-encoded";
}

// Sample bug 10: only 201 counted, and in debug mode nothing did.
TEST(classify, sample_bug_10_other_2xx_is_success_but_flagged) {
    const auto r = classify_response(status_only(200), now);
    EXPECT_EQ(r.kind, response_kind::success);
    EXPECT_TRUE(r.unexpected_success);
}

TEST(classify, permanent_and_retriable_statuses) {
    for (unsigned s : {400u, 401u, 404u, 413u, 403u, 501u, 505u, 302u}) {
        EXPECT_EQ(classify_response(status_only(s), now).kind, response_kind::permanent) << s;
    }
    for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u}) {
        EXPECT_EQ(classify_response(status_only(s), now).kind, response_kind::retriable) << s;
    }
}

TEST(classify, forbidden_is_throttling_only_with_retry_after) {
    const auto quota = classify_response(status_only(403, "30"), now);
    EXPECT_EQ(quota.kind, response_kind::retriable);
    EXPECT_TRUE(quota.throttled);
    EXPECT_EQ(quota.retry_after, seconds{30});
    const auto auth = classify_response(status_only(403), now);
    EXPECT_EQ(auth.kind, response_kind::permanent);
    EXPECT_FALSE(auth.throttled);
}

TEST(classify, too_many_requests_is_throttling) {
    const auto r = classify_response(status_only(429, "7"), now);
    EXPECT_TRUE(r.throttled);
    EXPECT_EQ(r.retry_after, seconds{7});
    EXPECT_FALSE(classify_response(status_only(503, "7"), now).throttled);
}

TEST(retry_after, seconds_or_http_date) {
    EXPECT_EQ(parse_retry_after("120", now), seconds{120});
    EXPECT_EQ(parse_retry_after(" 0 ", now), seconds{0});
    EXPECT_EQ(parse_retry_after("Sat, 28 Nov 2026 12:00:45 GMT", now), seconds{45});
    EXPECT_EQ(parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now), seconds{0});  // in the past
    EXPECT_FALSE(parse_retry_after("soon", now));
    EXPECT_FALSE(parse_retry_after("-5", now));
    EXPECT_FALSE(parse_retry_after("Sat, 28 Foo 2026 12:00:45 GMT", now));
}

TEST(classify, reads_the_nh_error_body) {
    const std::string body =
        "<Error><Code>401</Code><Detail>ExpiredToken: The token is "
        "expired..TrackingId:abc,TimeStamp:11/28/2026</Detail>"
        "</Error>";
    const auto r = classify_response(
        parse("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/xml; charset=utf-8\r\n"
              "Content-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body),
        now);
    EXPECT_EQ(r.kind, response_kind::permanent);
    EXPECT_EQ(r.error_code, "401");
    EXPECT_EQ(r.error_detail, "ExpiredToken: The token is expired..TrackingId:abc,TimeStamp:11/28/2026");
}

TEST(classify, reads_an_error_body_with_namespace_and_entities) {
    hub_response_message res{http::status::bad_request, 11};
    res.body() =
        "<?xml version=\"1.0\"?><Error "
        "xmlns=\"http://schemas.microsoft.com/netservices/2010/10/servicebus/connect\">"
        "<Code>400</Code><Detail>The value &apos;x&apos; is &lt;invalid&gt; &amp; wrong</Detail></Error>";
    const auto r = classify_response(res, now);
    EXPECT_EQ(r.error_code, "400");
    EXPECT_EQ(r.error_detail, "The value 'x' is <invalid> & wrong");
}

TEST(classify, keeps_the_start_of_a_body_that_is_not_nh_xml) {
    hub_response_message res{http::status::bad_gateway, 11};
    res.body() = "  <html><body>502 Bad Gateway</body></html>" + std::string(1000, ' ') + "tail";
    const auto r = classify_response(res, now);
    EXPECT_EQ(r.kind, response_kind::retriable);
    EXPECT_EQ(r.error_detail.rfind("<html><body>502 Bad Gateway", 0), 0u);
    EXPECT_EQ(r.error_detail.find("tail"), std::string::npos);
}

TEST(classify, empty_and_chunked_bodies) {
    const auto empty =
        classify_response(parse("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"), now);
    EXPECT_EQ(empty.kind, response_kind::retriable);
    EXPECT_TRUE(empty.error_detail.empty());
    const auto chunked =
        classify_response(parse("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "10\r\n<Error><Code>400\r\n"
                                "2a\r\n</Code><Detail>Bad tag expression</Detail>\r\n"
                                "8\r\n</Error>\r\n"
                                "0\r\n\r\n"),
                          now);
    EXPECT_EQ(chunked.error_code, "400");
    EXPECT_EQ(chunked.error_detail, "Bad tag expression");
}

TEST(classify, parses_a_test_send_outcome) {
    hub_response_message res{http::status::created, 11};
    res.body() =
        "<NotificationOutcome xmlns=\"http://schemas.microsoft.com/netservices/2010/10/servicebus/connect\" "
        "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><Success>1</Success><Failure>1</"
        "Failure><Results>"
        "<RegistrationResult><ApplicationPlatform>apple</ApplicationPlatform><PnsHandle>abc</PnsHandle>"
        "<RegistrationId>1-2</RegistrationId><Outcome>The Notification was successfully sent to the Push "
        "Notification "
        "System</Outcome></RegistrationResult>"
        "<RegistrationResult><ApplicationPlatform>gcm</ApplicationPlatform><PnsHandle>def</PnsHandle>"
        "<RegistrationId>3-4</RegistrationId><Outcome>InvalidToken</Outcome></RegistrationResult>"
        "</Results></NotificationOutcome>";
    const auto r = classify_response(res, now);
    ASSERT_TRUE(r.test_outcome);
    EXPECT_EQ(r.test_outcome->success, 1);
    EXPECT_EQ(r.test_outcome->failure, 1);
    ASSERT_EQ(r.test_outcome->results.size(), 2u);
    EXPECT_EQ(r.test_outcome->results[0].platform, "apple");
    EXPECT_EQ(r.test_outcome->results[0].pns_handle, "abc");
    EXPECT_EQ(r.test_outcome->results[1].registration_id, "3-4");
    EXPECT_EQ(r.test_outcome->results[1].outcome, "InvalidToken");
}

TEST(classify, parses_a_test_send_with_no_targets) {
    const auto outcome = parse_test_send_outcome(
        "<NotificationOutcome xmlns=\"http://schemas.microsoft.com/netservices/2010/10/servicebus/connect\" "
        "xmlns:i=\"https://www.w3.org/2001/XMLSchema-instance\"><Success>0</Success><Failure>0</Failure>"
        "<Results i:nil=\"true\"/></NotificationOutcome>");
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->success, 0);
    EXPECT_TRUE(outcome->results.empty());
}

hub_response error_answer(std::string body) {
    hub_response_message res{http::status::bad_request, 11};
    res.body() = std::move(body);
    return classify_response(res, now);
}

TEST(response, parses_error_xml_with_pugixml_whatever_the_namespace_prefix) {
    const auto r = error_answer(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<a:Error xmlns:a=\"http://schemas.microsoft.com/netservices/2010/10/servicebus/connect\" "
        "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
        "  <a:Code>400</a:Code>\n  <a:Detail>Bad &quot;tags&quot; &#x26; more</a:Detail>\n</a:Error>");
    EXPECT_EQ(r.error_code, "400");
    EXPECT_EQ(r.error_detail, "Bad \"tags\" & more");
}

TEST(response, parses_error_xml_with_cdata_and_elements_in_any_order) {
    const auto r = error_answer("<Error><Detail><![CDATA[a <raw> detail]]></Detail><Code>413</Code></Error>");
    EXPECT_EQ(r.error_code, "413");
    EXPECT_EQ(r.error_detail, "a <raw> detail");
}

TEST(response, an_error_body_that_is_not_well_formed_xml_is_kept_as_text) {
    const auto truncated = error_answer("<Error><Code>400</Code><Detail>cut off");
    EXPECT_TRUE(truncated.error_code.empty());
    EXPECT_EQ(truncated.error_detail, "<Error><Code>400</Code><Detail>cut off");

    const auto other_root = error_answer("<Fault><Code>1</Code></Fault>");
    EXPECT_TRUE(other_root.error_code.empty());
    EXPECT_EQ(other_root.error_detail, "<Fault><Code>1</Code></Fault>");

    const auto html = error_answer("<html><body><h1>Error</h1>" + std::string(600, 'x') + "</body></html>");
    EXPECT_EQ(html.error_detail.size(), 512u);
}

TEST(response, parses_a_test_send_outcome_with_prefixes_and_whitespace) {
    const auto outcome = parse_test_send_outcome(
        "<s:NotificationOutcome "
        "xmlns:s=\"http://schemas.microsoft.com/netservices/2010/10/servicebus/connect\">\n"
        "  <s:Success> 2 </s:Success>\n  <s:Failure>0</s:Failure>\n  <s:Results>\n"
        "    <s:RegistrationResult><s:ApplicationPlatform>apple</s:ApplicationPlatform>"
        "<s:PnsHandle>ab</s:PnsHandle><s:RegistrationId>1</s:RegistrationId>"
        "<s:Outcome>sent &amp; done</s:Outcome></s:RegistrationResult>\n"
        "    <!-- a comment -->\n"
        "    "
        "<s:RegistrationResult><s:ApplicationPlatform>fcmv1</s:ApplicationPlatform></s:RegistrationResult>\n"
        "  </s:Results>\n</s:NotificationOutcome>");
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->success, 2);
    ASSERT_EQ(outcome->results.size(), 2u);
    EXPECT_EQ(outcome->results[0].outcome, "sent & done");
    EXPECT_EQ(outcome->results[1].platform, "fcmv1");
    EXPECT_TRUE(outcome->results[1].pns_handle.empty());
}

TEST(response, a_body_that_is_not_a_notification_outcome_has_no_test_outcome) {
    EXPECT_FALSE(parse_test_send_outcome(""));
    EXPECT_FALSE(parse_test_send_outcome("not xml"));
    EXPECT_FALSE(parse_test_send_outcome("<NotificationOutcome><Success>1</Success>"));
    EXPECT_FALSE(parse_test_send_outcome("<Error><Code>400</Code></Error>"));
}

}  // namespace
