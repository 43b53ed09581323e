#include <nhpush/notification.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace std::chrono;
using namespace nhpush;
using testing::HasSubstr;

namespace {

const auto now = sys_days{year{2026} / 11 / 28} + hours{12};

notification make(notification_format f, std::string payload, std::vector<header> headers = {}) {
    notification n;
    n.format = f;
    n.payload = std::move(payload);
    n.headers = std::move(headers);
    return n;
}

std::optional<validation_error> prepare(notification& n) {
    return prepare_notification(n, now);
}

std::string field_of(notification n) {
    auto e = prepare(n);
    return e ? e->field : "ok";
}

std::string message_of(notification n) {
    auto e = prepare(n);
    return e ? e->message : "ok";
}

TEST(format, round_trips_every_wire_name) {
    for (auto f : all_formats) {
        EXPECT_EQ(parse_format(to_string(f)), f);
    }
    EXPECT_EQ(to_string(notification_format::template_), "template");
}

// Sample bug 7: substring matching accepted e.g. "applepie"; fcmv1, browser and xiaomi were missing.
TEST(format, sample_bug_7_exact_names_and_current_formats) {
    EXPECT_FALSE(parse_format("applepie"));
    EXPECT_FALSE(parse_format("app"));
    EXPECT_FALSE(parse_format("Apple"));
    EXPECT_TRUE(parse_format("fcmv1"));
    EXPECT_TRUE(parse_format("browser"));
    EXPECT_TRUE(parse_format("xiaomi"));
    EXPECT_FALSE(parse_format("fcm"));  // .NET sends it as gcm; never a wire value
}

TEST(format, deprecated_formats_say_why) {
    EXPECT_THAT(deprecation_notice(notification_format::gcm), HasSubstr("fcmv1"));
    EXPECT_THAT(deprecation_notice(notification_format::windowsphone), HasSubstr("MPNS"));
    EXPECT_TRUE(deprecation_notice(notification_format::apple).empty());
    EXPECT_TRUE(deprecation_notice(notification_format::fcmv1).empty());
}

TEST(content_type, per_format) {
    EXPECT_EQ(content_type_of(make(notification_format::apple, "{}")), "application/json;charset=utf-8");
    EXPECT_EQ(content_type_of(make(notification_format::template_, "{}")), "application/json;charset=utf-8");
    EXPECT_EQ(content_type_of(make(notification_format::windows, "<toast/>", {{"X-WNS-Type", "wns/toast"}})),
              "application/xml");
    EXPECT_EQ(content_type_of(make(notification_format::windows, "raw", {{"X-WNS-Type", "wns/raw"}})),
              "application/octet-stream");
    EXPECT_EQ(content_type_of(make(notification_format::windowsphone, "<x/>")),
              "application/xml;charset=utf-8");
}

TEST(prepare, accepts_a_payload_of_every_format) {
    const std::pair<notification_format, std::string> ok[] = {
        {notification_format::template_, R"({"greeting_en":"Hello","greeting_fr":"Salut"})"},
        {notification_format::apple, R"({"aps":{"alert":"Hello"}})"},
        {notification_format::fcmv1, R"({"message":{"notification":{"title":"Hi"}}})"},
        {notification_format::gcm, R"({"data":{"msg":"Hello"}})"},
        {notification_format::windows, "<toast><visual><binding template=\"ToastText01\"/></visual></toast>"},
        {notification_format::windowsphone,
         "<?xml version=\"1.0\"?><wp:Notification><wp:Toast/></wp:Notification>"},
        {notification_format::adm, R"({"data":{"msg":"Hello"}})"},
        {notification_format::baidu, R"({"title":"Hello"})"},
        {notification_format::browser, R"({"title":"Hello"})"},
        {notification_format::xiaomi, R"({"title":"Hello"})"},
    };
    for (const auto& [f, payload] : ok) {
        EXPECT_EQ(field_of(make(f, payload)), "ok") << to_string(f);
    }
}

TEST(prepare, infers_wns_type_from_the_xml_root) {
    for (std::string_view root : {"toast", "tile", "badge"}) {
        auto n = make(notification_format::windows,
                      "<" + std::string(root) + "><visual/></" + std::string(root) + ">");
        ASSERT_FALSE(prepare(n));
        ASSERT_NE(find_header(n, "X-WNS-Type"), nullptr);
        EXPECT_EQ(*find_header(n, "X-WNS-Type"), "wns/" + std::string(root));
    }
}

TEST(prepare, wns_root_inference_skips_declaration_and_comments_and_ignores_substrings) {
    auto n = make(notification_format::windows,
                  "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- <tile> --><badge value=\"1\"/>");
    ASSERT_FALSE(prepare(n));
    EXPECT_EQ(*find_header(n, "X-WNS-Type"), "wns/badge");
    // The sample's substring test would call this a toast.
    EXPECT_EQ(field_of(make(notification_format::windows, "<foo><toast></toast></foo>")),
              "headers.X-WNS-Type");
}

TEST(prepare, explicit_wns_type_wins_and_raw_is_bytes) {
    auto n = make(notification_format::windows, "not xml at all", {{"X-WNS-Type", "wns/raw"}});
    ASSERT_FALSE(prepare(n));
    EXPECT_EQ(content_type_of(n), "application/octet-stream");
    EXPECT_THAT(
        message_of(make(notification_format::windows, std::string(5121, 'x'), {{"X-WNS-Type", "wns/raw"}})),
        HasSubstr("WNS allows 5120"));
    EXPECT_EQ(field_of(make(notification_format::windows, "<toast/>", {{"X-WNS-Type", "wns/popup"}})),
              "headers.X-WNS-Type");
}

TEST(prepare, mpns_headers_as_the_sample_sets_them) {
    auto toast = make(notification_format::windowsphone, "<wp:Notification><wp:Toast/></wp:Notification>");
    ASSERT_FALSE(prepare(toast));
    EXPECT_EQ(*find_header(toast, "X-WindowsPhone-Target"), "toast");
    EXPECT_EQ(*find_header(toast, "X-NotificationClass"), "2");
    auto tile = make(notification_format::windowsphone, "<wp:Notification><wp:Tile/></wp:Notification>");
    ASSERT_FALSE(prepare(tile));
    EXPECT_EQ(*find_header(tile, "X-WindowsPhone-Target"), "tile");
    EXPECT_EQ(*find_header(tile, "X-NotificationClass"), "1");
    EXPECT_EQ(field_of(make(notification_format::windowsphone, "<x/>")), "headers.X-WindowsPhone-Target");
}

TEST(notification, windows_payload_that_is_not_xml_is_invalid) {
    const std::pair<std::string, std::string> refused[] = {
        {"<toast>", "Start-end tags mismatch at byte 6"},
        {"<toast></tile>", "Start-end tags mismatch at byte 9"},
        {"<toast><visual></toast>", "Start-end tags mismatch"},
        {"<toast/>trailing", "text outside the root element at byte 8"},
        {"<toast/><toast/>", "a second root element <toast> at byte 9"},
        {"<toast a=\"1/>", "Error parsing element attribute at byte 10"},
        {"plain text", "text outside the root element at byte 0"},
        {"   ", "no root element"},
    };
    for (const auto& [payload, expected] : refused) {
        for (auto headers : {std::vector<header>{}, std::vector<header>{{"X-WNS-Type", "wns/toast"}}}) {
            auto n = make(notification_format::windows, payload, headers);
            const auto e = prepare(n);
            ASSERT_TRUE(e) << payload;
            EXPECT_EQ(e->field, "payload") << payload;
            EXPECT_THAT(e->message, HasSubstr("is not well-formed XML: " + expected)) << payload;
        }
    }
    // Raw WNS notifications are bytes, not XML.
    EXPECT_EQ(field_of(make(notification_format::windows, "<toast>", {{"X-WNS-Type", "wns/raw"}})), "ok");
}

TEST(notification, windowsphone_payload_that_is_not_xml_is_invalid) {
    EXPECT_THAT(message_of(make(notification_format::windowsphone, "<wp:Notification><wp:Toast>")),
                HasSubstr("a windowsphone payload is not well-formed XML"));
    EXPECT_EQ(field_of(make(notification_format::windowsphone,
                            "<wp:Toast/>",
                            {{"X-WindowsPhone-Target", "toast"}, {"X-NotificationClass", "2"}})),
              "ok");
    EXPECT_EQ(field_of(make(notification_format::windowsphone,
                            "not xml",
                            {{"X-WindowsPhone-Target", "toast"}, {"X-NotificationClass", "2"}})),
              "payload");
}

TEST(notification, wns_type_is_inferred_from_the_parsed_root_element) {
    // Attributes, line breaks and entities inside the root do not confuse the inference.
    auto n = make(notification_format::windows,
                  "<tile\n  version=\"3\"><visual><binding template=\"a&amp;b\"/></visual></tile>");
    ASSERT_FALSE(prepare(n));
    EXPECT_EQ(*find_header(n, "X-WNS-Type"), "wns/tile");
    // 9,000 levels (63 KB) parse without recursion.
    std::string deep = "<toast>";
    for (int i = 0; i < 9000; ++i) {
        deep += "<a>";
    }
    for (int i = 0; i < 9000; ++i) {
        deep += "</a>";
    }
    EXPECT_EQ(field_of(make(notification_format::windows, deep + "</toast>")), "ok");
    // A root whose name only starts with "toast" is not a toast.
    EXPECT_EQ(field_of(make(notification_format::windows, "<toaster/>")), "headers.X-WNS-Type");
}

// Sample bug 8: json.dumps encoded a payload that was already a JSON string a second time.
TEST(prepare, sample_bug_8_payload_is_sent_as_given_never_encoded_twice) {
    const std::string payload = R"({"aps":{"alert":"Hi \"there\""}})";
    auto n = make(notification_format::apple, payload);
    ASSERT_FALSE(prepare(n));
    EXPECT_EQ(n.payload, payload);
    // A JSON string (an encoded payload) is not a JSON object, so it is refused rather than double-sent.
    EXPECT_THAT(message_of(make(notification_format::apple, R"("{\"aps\":{}}")")),
                HasSubstr("must be a JSON object"));
}

TEST(prepare, payload_checks_name_the_problem) {
    EXPECT_THAT(message_of(make(notification_format::apple, "")), HasSubstr("payload is empty"));
    EXPECT_THAT(message_of(make(notification_format::apple, "{\"aps\":")), HasSubstr("not valid JSON"));
    EXPECT_EQ(field_of(make(notification_format::template_, R"({"n":1})")), "payload.n");
    EXPECT_THAT(message_of(make(notification_format::fcmv1, R"({"data":{}})")),
                HasSubstr("{\"message\":{…}}"));
    EXPECT_THAT(message_of(make(notification_format::apple,
                                R"({"aps":{"alert":")" + std::string(4100, 'x') + "\"}}")),
                HasSubstr("APNs allows 4096"));
    EXPECT_THAT(
        message_of(make(notification_format::template_, R"({"a":")" + std::string(70000, 'x') + "\"}")),
        HasSubstr("Notification Hubs allows 65536"));
}

TEST(prepare, payload_shape_is_checked_without_recursion) {
    EXPECT_THAT(message_of(make(notification_format::apple, "[1,2]")), HasSubstr("must be a JSON object"));
    EXPECT_EQ(field_of(make(notification_format::template_, R"({"a":"x","b":{"c":"d"}})")), "payload.b");
    EXPECT_EQ(field_of(make(notification_format::template_, R"({"a":["x"]})")), "payload.a");
    EXPECT_THAT(message_of(make(notification_format::fcmv1, R"({"message":"text"})")),
                HasSubstr("{\"message\":{…}}"));
    EXPECT_THAT(message_of(make(notification_format::apple, R"({"aps":{}} trailing)")),
                HasSubstr("not valid JSON"));
    // 30,000 levels of nesting (60 KB, valid JSON) are accepted without a stack overflow.
    EXPECT_EQ(field_of(make(notification_format::adm,
                            "{\"a\":" + std::string(30000, '[') + std::string(30000, ']') + "}")),
              "ok");
}

TEST(prepare, validates_apns_header_values) {
    const auto apple = [](header h) {
        return make(notification_format::apple, R"({"aps":{}})", {std::move(h)});
    };
    EXPECT_EQ(field_of(apple({"apns-priority", "10"})), "ok");
    EXPECT_EQ(field_of(apple({"apns-priority", "5"})), "ok");
    EXPECT_EQ(field_of(apple({"apns-priority", "7"})), "headers.apns-priority");
    EXPECT_EQ(field_of(apple({"apns-push-type", "background"})), "ok");
    EXPECT_THAT(message_of(apple({"apns-push-type", "push"})), HasSubstr("is not one of: alert, background"));
    EXPECT_EQ(field_of(apple({"apns-expiration", "1767225600"})), "ok");
    EXPECT_EQ(field_of(apple({"apns-expiration", "tomorrow"})), "headers.apns-expiration");
    EXPECT_EQ(field_of(apple({"ServiceBusNotification-Apns-Expiry", "2026-12-01T10:00:00Z"})), "ok");
    EXPECT_EQ(field_of(apple({"ServiceBusNotification-Apns-Expiry", "1997-07-16T19:20:00+01:00"})), "ok");
    EXPECT_EQ(field_of(apple({"ServiceBusNotification-Apns-Expiry", "12/01/2026"})),
              "headers.ServiceBusNotification-Apns-Expiry");
}

// Sample bug 6: the comment named the header ServiceBusNotification-ApnsExpiry.
TEST(prepare, sample_bug_6_misspelled_apns_expiry_header_is_refused_with_the_right_name) {
    EXPECT_THAT(
        message_of(make(notification_format::apple, "{}", {{"ServiceBusNotification-ApnsExpiry", "x"}})),
        HasSubstr("ServiceBusNotification-Apns-Expiry"));
}

TEST(prepare, refuses_header_injection_and_reserved_headers) {
    EXPECT_THAT(message_of(make(notification_format::apple, "{}", {{"apns-id", "a\r\nAuthorization: x"}})),
                HasSubstr("byte 0x0D (CR) at position 2"));
    EXPECT_THAT(message_of(make(notification_format::apple, "{}", {{"Bad Name", "x"}})),
                HasSubstr("not a valid HTTP token"));
    EXPECT_THAT(message_of(make(notification_format::apple, "{}", {{"authorization", "x"}})),
                HasSubstr("set by nhpush"));
    EXPECT_THAT(message_of(make(notification_format::apple, "{}", {{"ServiceBusNotification-Tags", "x"}})),
                HasSubstr("set by nhpush"));
    EXPECT_THAT(message_of(make(notification_format::apple, "{}", {{"apns-id", "1"}, {"APNS-ID", "2"}})),
                HasSubstr("given twice"));
}

// prepare_notification runs the same gate as build_send_request, and names the field.
TEST(prepare, refuses_hostile_bytes_in_every_header_field) {
    const std::string hostile[] = {
        "\r", "\n", "\r\nX-Anything: x", std::string("\0", 1), "\x01", "\x7f", "\v", "\f"};
    for (const auto& bad : hostile) {
        auto tags = make(notification_format::apple, "{}");
        tags.tags = "user:42" + bad;
        EXPECT_EQ(field_of(tags), "tags");
        EXPECT_THAT(message_of(tags), HasSubstr("at position 8: a tag expression may hold only"));

        auto direct = make(notification_format::apple, "{}");
        direct.device_handle = "0123" + bad;
        EXPECT_EQ(field_of(direct), "device_handle");
        EXPECT_THAT(message_of(direct), HasSubstr("at position 5: a device handle may hold only"));

        auto batch = make(notification_format::apple, "{}");
        batch.device_handles = {"h0", "h1", "h2", bad + "h3"};
        EXPECT_EQ(field_of(batch), "device_handles[3]");

        EXPECT_EQ(field_of(make(notification_format::apple, "{}", {{"apns-topic", "com.example" + bad}})),
                  "headers.apns-topic");
    }
    auto injected = make(notification_format::template_, R"({"m":"x"})");
    injected.tags = "\r\nX-Anything:x || user:42";
    EXPECT_EQ(message_of(injected),
              "byte 0x0D (CR) at position 1: a tag expression may hold only visible ASCII characters, spaces "
              "and tabs");
}

TEST(prepare, fields_over_their_limit_are_refused_with_length_and_limit) {
    auto direct = make(notification_format::apple, "{}");
    direct.device_handle = std::string(70000, 'a');
    EXPECT_EQ(message_of(direct), "a device handle is 70000 bytes long; the limit is 2048");
    direct.device_handle = std::string(2048, 'a');
    EXPECT_EQ(field_of(direct), "ok");

    auto padded = make(notification_format::apple, "{}");
    padded.tags = "a" + std::string(4095, ' ');
    EXPECT_EQ(field_of(padded), "ok");
    padded.tags += " ";
    EXPECT_EQ(message_of(padded), "a tag expression is 4097 bytes long; the limit is 4096");

    EXPECT_EQ(
        message_of(make(notification_format::apple, "{}", {{"apns-collapse-id", std::string(1025, 'x')}})),
        "a header value is 1025 bytes long; the limit is 1024");
}

// X-WNS-Type or the two MPNS headers that prepare adds count like the caller's own.
TEST(prepare, inferred_headers_count_towards_the_header_limit) {
    std::vector<header> fifteen;
    for (int i = 0; i < 15; ++i) {
        fifteen.push_back({"X-Custom-" + std::to_string(i), "v"});
    }
    auto toast = make(notification_format::windows, "<toast/>", fifteen);
    EXPECT_EQ(field_of(toast), "ok");  // 15 + X-WNS-Type
    auto mpns =
        make(notification_format::windowsphone, "<wp:Notification><wp:Toast/></wp:Notification>", fifteen);
    EXPECT_EQ(message_of(mpns), "17 platform headers; the limit is 16");
}

TEST(prepare, targeting_combinations) {
    auto n = make(notification_format::apple, "{}");
    n.device_handle = "token";
    n.tags = "a";
    EXPECT_EQ(field_of(n), "device_handle");
    n.tags.clear();
    n.test = true;
    EXPECT_THAT(message_of(n), HasSubstr("test sends are for tag and broadcast"));
    n.test = false;
    EXPECT_EQ(field_of(n), "ok");

    auto batch = make(notification_format::apple, "{}");
    batch.device_handles.assign(1000, "h");
    EXPECT_EQ(field_of(batch), "ok");
    batch.device_handles.push_back("h");
    EXPECT_THAT(message_of(batch), HasSubstr("1001 device handles; a batch allows at most 1000"));
    batch.device_handles = {"h", " "};
    EXPECT_EQ(field_of(batch), "device_handles[1]");

    auto tagged = make(notification_format::apple, "{}");
    tagged.tags = "a && (b";
    EXPECT_EQ(field_of(tagged), "tags");
}

TEST(prepare, schedule_time_within_seven_days) {
    auto n = make(notification_format::apple, "{}");
    n.tags = "a";
    n.schedule_at = now + hours{24 * 7};
    EXPECT_EQ(field_of(n), "ok");
    n.schedule_at = now + hours{24 * 7} + seconds{1};
    EXPECT_THAT(message_of(n), HasSubstr("more than 7 days ahead"));
    n.schedule_at = now - hours{1};
    EXPECT_THAT(message_of(n), HasSubstr("in the past"));
    n.schedule_at = now + hours{1};
    n.device_handle = "h";
    n.tags.clear();
    EXPECT_EQ(field_of(n), "schedule_at");
}

TEST(time, formats_and_parses_utc) {
    const auto t = sys_days{year{2024} / 5 / 1} + hours{12};
    EXPECT_EQ(format_utc_iso8601(t), "2024-05-01T12:00:00Z");
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:00Z"), t);
    EXPECT_EQ(parse_rfc3339("2024-05-01T14:30:00+02:30"), t);
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:00.000Z"), t);
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:00.5Z"), t + milliseconds{500});
    EXPECT_FALSE(parse_rfc3339("2024-02-30T12:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("1011-11-15T12:00:00Z"));  // outside system_clock's range (fuzz_submission)
    EXPECT_FALSE(parse_rfc3339("2024-05-01 12:00:00"));
    EXPECT_FALSE(parse_rfc3339("2024-05-01T12:00:00"));
    EXPECT_FALSE(parse_rfc3339("2024-05-01T12:00:00Zjunk"));
}

}  // namespace
