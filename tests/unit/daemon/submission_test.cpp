#include "submission/submission.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_names.hpp"

#include <fmt/format.h>

#include <string>

using namespace std::chrono;
using nhpush::notification_format;
using nhpush::api::api_errc;
using nhpush::api::api_error;
using nhpush::api::submission;
using nhpush::api::submission_parser;
using testing::HasSubstr;

namespace {

const auto now = sys_days{year{2026} / 11 / 28} + hours{12};

std::variant<submission, api_error> parse(std::string body) {
    submission_parser parser({"main", "other"});
    return parser.parse(body, now);
}

submission accepted(const std::string& body) {
    auto result = parse(body);
    if (const auto* e = std::get_if<api_error>(&result)) {
        ADD_FAILURE() << "rejected " << body << ": " << e->message;
        return {};
    }
    return std::get<submission>(std::move(result));
}

api_error rejected(const std::string& body) {
    auto result = parse(body);
    if (std::holds_alternative<submission>(result)) {
        ADD_FAILURE() << "accepted " << body;
        return {};
    }
    return std::get<api_error>(result);
}

TEST(submission, a_template_notification) {
    const auto s =
        accepted(R"({"hub":"main","format":"template","payload":{"message":"hi"},"id":"order-42"})");
    EXPECT_EQ(s.hub, "main");
    EXPECT_EQ(s.client_id, "order-42");
    EXPECT_EQ(s.notification.format, notification_format::template_);
    EXPECT_EQ(s.notification.payload, R"({"message":"hi"})");
    EXPECT_TRUE(s.notification.tags.empty());
}

TEST(submission, an_object_payload_is_serialized_compactly) {
    const auto s = accepted(R"({"hub":"main","format":"apple",
        "payload" : { "aps" : { "alert" : "caf\u00e9 \"quoted\"", "badge" : 3 , "sound":null} } })");
    EXPECT_EQ(s.notification.payload,
              "{\"aps\":{\"alert\":\"caf\xC3\xA9 \\\"quoted\\\"\",\"badge\":3,\"sound\":null}}");
}

TEST(submission, a_string_payload_is_the_body_verbatim) {
    const auto s =
        accepted(R"({"hub":"main","format":"apple","payload":"{ \"aps\" : {\"alert\":\"\\u00e9\"} }"})");
    EXPECT_EQ(s.notification.payload, R"({ "aps" : {"alert":"\u00e9"} })");
}

TEST(submission, an_xml_payload_for_windows) {
    const auto s =
        accepted(R"({"hub":"main","format":"windows",)"
                 R"("payload":"<toast><visual><binding template=\"ToastText01\"/></visual></toast>"})");
    EXPECT_EQ(s.notification.payload, R"(<toast><visual><binding template="ToastText01"/></visual></toast>)");
    // prepare_notification ran: the WNS type was inferred from the XML root.
    ASSERT_NE(nhpush::find_header(s.notification, "X-WNS-Type"), nullptr);
    EXPECT_EQ(*nhpush::find_header(s.notification, "X-WNS-Type"), "wns/toast");
}

TEST(submission, every_field) {
    const auto s = accepted(R"({"hub":"other","format":"apple","payload":{"aps":{"alert":"x"}},
        "tags":"sports && !news","headers":{"apns-priority":"10","apns-push-type":"alert"},
        "schedule_at":"2026-11-29T08:00:00+01:00","test":false})");
    EXPECT_EQ(s.hub, "other");
    EXPECT_EQ(s.notification.tags, "sports && !news");
    ASSERT_EQ(s.notification.headers.size(), 2u);
    EXPECT_EQ(s.notification.headers[0].name, "apns-priority");
    EXPECT_EQ(s.notification.headers[0].value, "10");
    EXPECT_EQ(s.notification.schedule_at, sys_days{year{2026} / 11 / 29} + hours{7});
    EXPECT_FALSE(s.notification.test);
}

TEST(submission, a_tag_array_becomes_an_or_expression) {
    const auto s =
        accepted(R"({"hub":"main","format":"fcmv1","payload":{"message":{}},"tags":["b","a","b"]})");
    EXPECT_EQ(s.notification.tags, "a || b");
}

TEST(submission, direct_and_batch_sends) {
    EXPECT_EQ(accepted(R"({"hub":"main","format":"fcmv1","payload":{"message":{}},"device_handle":"tok"})")
                  .notification.device_handle,
              "tok");
    EXPECT_EQ(
        accepted(R"({"hub":"main","format":"fcmv1","payload":{"message":{}},"device_handles":["a","b"]})")
            .notification.device_handles,
        (std::vector<std::string>{"a", "b"}));
}

TEST(submission, a_test_send) {
    EXPECT_TRUE(accepted(R"({"hub":"main","format":"template","payload":{},"test":true})").notification.test);
}

struct bad_submission {
    std::string body;
    api_errc code;
    std::string field;
    std::string message;  // a substring of the message
};

void PrintTo(const bad_submission& b, std::ostream* os) {
    *os << nhpush::api::to_string(b.code) << " " << b.field;
}

class submission_errors : public testing::TestWithParam<bad_submission> {};

TEST_P(submission_errors, say_which_field_and_why) {
    const auto& c = GetParam();
    const auto e = rejected(c.body);
    EXPECT_EQ(nhpush::api::to_string(e.code), nhpush::api::to_string(c.code));
    EXPECT_EQ(e.field, c.field);
    EXPECT_THAT(e.message, HasSubstr(c.message));
}

#define BASE R"("hub":"main","format":"template","payload":{"a":"b"})"

INSTANTIATE_TEST_SUITE_P(
    table,
    submission_errors,
    testing::Values(
        // Not a notification object at all.
        bad_submission{"", api_errc::invalid_json, "", "invalid JSON at byte 0: The document is empty."},
        bad_submission{R"({"hub":"main",)", api_errc::invalid_json, "", "invalid JSON at byte 14"},
        bad_submission{R"({"hub":"main"} {})",
                       api_errc::invalid_json,
                       "",
                       "The document root must not be followed by other values."},
        bad_submission{
            "[1,2]", api_errc::invalid_json, "", "a notification must be a JSON object, not an array"},
        bad_submission{"{\"hub\":\"ma\xFFin\"}", api_errc::invalid_json, "", "Invalid encoding"},
        // A text that ends inside a UTF-8 sequence (under ASan, also: nothing is read past the body).
        bad_submission{"{\"hub\":\"main-hub-\xE3", api_errc::invalid_json, "", "Invalid encoding"},
        bad_submission{"{\"hub\":\"main-hub-\xF0", api_errc::invalid_json, "", "Invalid encoding"},
        bad_submission{std::string("{\"hub\":\"main\"}\0{}", 16), api_errc::invalid_json, "", "NUL byte"},
        bad_submission{std::string(100000, '[') + std::string(100000, ']'),
                       api_errc::invalid_json,
                       "",
                       "a notification must be a JSON object, not an array"},
        // Fields the API does not have, or given twice.
        bad_submission{R"({)" BASE R"(,"tag":"a"})", api_errc::unknown_field, "tag", "unknown field 'tag'"},
        bad_submission{
            R"({)" BASE R"(,"hub":"other"})", api_errc::invalid_field, "hub", "hub is given twice"},
        // Required fields.
        bad_submission{
            R"({"format":"template","payload":{}})", api_errc::missing_field, "hub", "hub is required"},
        bad_submission{
            R"({"hub":"main","payload":{}})", api_errc::missing_field, "format", "format is required"},
        bad_submission{
            R"({"hub":"main","format":"apple"})", api_errc::missing_field, "payload", "payload is required"},
        // Wrong types name the field and the expected type.
        bad_submission{R"({"hub":1})", api_errc::invalid_field, "hub", "hub must be a string, not a number"},
        bad_submission{
            R"({"format":null})", api_errc::invalid_field, "format", "format must be a string, not null"},
        bad_submission{R"({"payload":[1]})",
                       api_errc::invalid_field,
                       "payload",
                       "payload must be an object or a string, not an array"},
        bad_submission{R"({"tags":{}})",
                       api_errc::invalid_field,
                       "tags",
                       "tags must be a string or an array of strings, not an object"},
        bad_submission{R"({"tags":["a",2]})",
                       api_errc::invalid_field,
                       "tags[1]",
                       "tags[1] must be a string, not a number"},
        bad_submission{R"({"device_handle":true})",
                       api_errc::invalid_field,
                       "device_handle",
                       "device_handle must be a string, not a boolean"},
        bad_submission{R"({"device_handles":"a"})",
                       api_errc::invalid_field,
                       "device_handles",
                       "device_handles must be an array of strings, not a string"},
        bad_submission{R"({"device_handles":["a",null]})",
                       api_errc::invalid_field,
                       "device_handles[1]",
                       "device_handles[1] must be a string, not null"},
        bad_submission{R"({"headers":["apns-priority"]})",
                       api_errc::invalid_field,
                       "headers",
                       "headers must be an object of strings, not an array"},
        bad_submission{R"({"headers":{"apns-priority":10}})",
                       api_errc::invalid_field,
                       "headers.apns-priority",
                       "headers.apns-priority must be a string, not a number"},
        bad_submission{R"({"schedule_at":1764331200})",
                       api_errc::invalid_field,
                       "schedule_at",
                       "schedule_at must be a string, not a number"},
        bad_submission{
            R"({"test":"yes"})", api_errc::invalid_field, "test", "test must be a boolean, not a string"},
        bad_submission{R"({"id":42})", api_errc::invalid_field, "id", "id must be a string, not a number"},
        // Bad values.
        bad_submission{R"({"hub":"mian"})",
                       api_errc::unknown_hub,
                       "hub",
                       "unknown hub 'mian'; configured hubs: main, other"},
        bad_submission{
            R"({"hub":"main","format":"Apple"})",
            api_errc::unknown_format,
            "format",
            "unknown format 'Apple'; formats: template, apple, fcmv1, gcm, windows, windowsphone, adm, "
            "baidu, browser, xiaomi"},
        bad_submission{R"({)" BASE R"(,"schedule_at":"tomorrow"})",
                       api_errc::invalid_field,
                       "schedule_at",
                       "schedule_at 'tomorrow' is not an RFC 3339 time such as 2026-05-01T12:00:00Z"},
        bad_submission{
            R"({)" BASE R"(,"id":""})", api_errc::invalid_field, "id", "id must be 1 to 128 characters"},
        bad_submission{
            R"({)" BASE R"(,"id":"a/b"})", api_errc::invalid_field, "id", "id must be 1 to 128 characters"},
        bad_submission{"{" BASE ",\"id\":\"" + std::string(129, 'x') + "\"}",
                       api_errc::invalid_field,
                       "id",
                       "id must be 1 to 128 characters"},
        bad_submission{R"({)" BASE R"(,"device_handle":""})",
                       api_errc::invalid_field,
                       "device_handle",
                       "device_handle is empty"},
        bad_submission{R"({)" BASE R"(,"device_handles":[]})",
                       api_errc::invalid_field,
                       "device_handles",
                       "device_handles is an empty array"},
        bad_submission{R"({)" BASE R"(,"device_handle":"a\u0000b"})",
                       api_errc::invalid_field,
                       "device_handle",
                       "byte 0x00 (NUL) at position 2: a device handle may hold only visible ASCII"},
        // Tags: an empty list must not turn into a broadcast.
        bad_submission{R"({)" BASE R"(,"tags":[]})",
                       api_errc::invalid_tags,
                       "tags",
                       "tags is an empty array; leave tags out to broadcast"},
        bad_submission{R"({)" BASE R"(,"tags":""})",
                       api_errc::invalid_tags,
                       "tags",
                       "tags is empty; leave tags out to broadcast"},
        bad_submission{
            R"({)" BASE R"(,"tags":["a",""]})", api_errc::invalid_tags, "tags[1]", "tags[1] is empty"},
        bad_submission{R"({)" BASE R"(,"tags":["a && b"]})",
                       api_errc::invalid_tags,
                       "tags[0]",
                       "tags[0] 'a && b' is an expression; a tags array holds single tags"},
        bad_submission{R"({)" BASE R"(,"tags":"a &&"})", api_errc::invalid_tags, "tags", "tag expression"},
        bad_submission{R"({)" BASE R"(,"tags":["t0","t1","t2","t3","t4","t5","t6","t7","t8","t9","t10","t11",
            "t12","t13","t14","t15","t16","t17","t18","t19","t20"]})",
                       api_errc::invalid_tags,
                       "tags",
                       "tag expression has 21 tags"},
        // What prepare_notification finds, in the same shape.
        bad_submission{R"({)" BASE R"(,"headers":{"apns-priority":"7"}})",
                       api_errc::invalid_header,
                       "headers.apns-priority",
                       "apns-priority must be 5 or 10"},
        bad_submission{R"({)" BASE R"(,"headers":{"Authorization":"x"}})",
                       api_errc::invalid_header,
                       "headers.Authorization",
                       "is set by nhpush"},
        bad_submission{R"({"hub":"main","format":"template","payload":{"a":1}})",
                       api_errc::invalid_payload,
                       "payload.a",
                       "template properties must be strings"},
        bad_submission{R"({"hub":"main","format":"fcmv1","payload":"not json"})",
                       api_errc::invalid_payload,
                       "payload",
                       "not valid JSON"},
        bad_submission{R"({"hub":"main","format":"windows","payload":"plain text"})",
                       api_errc::invalid_payload,
                       "payload",
                       "is not well-formed XML: text outside the root element at byte 0"},
        bad_submission{R"({"hub":"main","format":"windows","payload":"<toast>"})",
                       api_errc::invalid_payload,
                       "payload",
                       "is not well-formed XML: Start-end tags mismatch at byte 6"},
        bad_submission{R"({"hub":"main","format":"windows","payload":"<foo/>"})",
                       api_errc::invalid_header,
                       "headers.X-WNS-Type",
                       "X-WNS-Type is required"},
        // The library's header gate, in the same shape.
        bad_submission{R"({)" BASE R"(,"tags":"\r\nX-Anything:x || user:42"})",
                       api_errc::invalid_tags,
                       "tags",
                       "byte 0x0D (CR) at position 1"},
        bad_submission{R"({)" BASE R"(,"headers":{"apns-id":"a\r\nContent-Length: 0"}})",
                       api_errc::invalid_header,
                       "headers.apns-id",
                       "byte 0x0D (CR) at position 2"},
        bad_submission{R"({)" BASE R"(,"device_handles":["a","b\u007f"]})",
                       api_errc::invalid_field,
                       "device_handles[1]",
                       "byte 0x7F (DEL) at position 2"},
        bad_submission{R"({"hub":"main","format":"apple","payload":{"aps":{"alert":")" +
                           std::string(5000, 'x') + R"("}}})",
                       api_errc::payload_too_large,
                       "payload",
                       "APNs allows 4096"},
        bad_submission{R"({"hub":"main","format":"fcmv1","payload":{"message":{"data":{"x":")" +
                           std::string(70000, 'x') + R"("}}}})",
                       api_errc::payload_too_large,
                       "payload",
                       "Notification Hubs allows 65536"},
        bad_submission{R"({"hub":"main","format":"windows","headers":{"X-WNS-Type":"wns/raw"},"payload":")" +
                           std::string(6000, 'x') + R"("})",
                       api_errc::payload_too_large,
                       "payload",
                       "WNS allows 5120"},
        bad_submission{R"({)" BASE R"(,"device_handle":"tok","tags":"a"})",
                       api_errc::invalid_field,
                       "device_handle",
                       "cannot also have tags"},
        bad_submission{R"({)" BASE R"(,"schedule_at":"2020-01-01T00:00:00Z"})",
                       api_errc::invalid_field,
                       "schedule_at",
                       "schedule time is in the past"},
        // Deep nesting is refused before any recursive code sees it.
        bad_submission{R"({"hub":"main","format":"fcmv1","payload":{"message":)" + std::string(100, '[') +
                           std::string(100, ']') + "}}",
                       api_errc::invalid_payload,
                       "payload",
                       "payload nests deeper than 64 levels"},
        bad_submission{R"({"hub":"main","format":"fcmv1","payload":")" + std::string(60000, '[') + R"("})",
                       api_errc::invalid_payload,
                       "payload",
                       "payload nests deeper than 64 levels"}),
    [](const auto& info) {
        return nhpush::test::case_name(
            info.index, std::string(nhpush::api::to_string(info.param.code)) + "_" + info.param.field);
    });

TEST(submission, a_parser_serves_many_requests) {
    submission_parser parser({"main"});
    for (int i = 0; i < 100; ++i) {
        std::string body =
            R"({"hub":"main","format":"template","payload":{"n":")" + std::to_string(i) + R"("}})";
        auto result = parser.parse(body, now);
        ASSERT_TRUE(std::holds_alternative<submission>(result));
        EXPECT_EQ(std::get<submission>(result).notification.payload,
                  R"({"n":")" + std::to_string(i) + R"("})");
    }
}

TEST(submission, a_large_payload_object_outgrows_the_reused_memory) {
    std::string properties;
    for (int i = 0; i < 2000; ++i) {
        properties += fmt::format(R"({}"k{}":"v")", i == 0 ? "" : ",", i);
    }
    const auto s = accepted(R"({"hub":"main","format":"template","payload":{)" + properties + "}}");
    EXPECT_EQ(s.notification.payload, "{" + properties + "}");
}

}  // namespace
