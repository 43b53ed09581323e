#include <nhpush/header_field.hpp>
#include <nhpush/notification.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

using namespace nhpush;
using testing::HasSubstr;

namespace {

// The longest header value Beast can hold; every limit must stay far below it.
constexpr std::size_t beast_max_field_bytes = 65534;

std::string problem(std::string_view value, const header_value_rule& rule) {
    const auto e = check_header_value("f", value, rule);
    return e ? e->message : "ok";
}

bool has_control_byte(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x20 || b == 0x7f;
    });
}

struct hostile_case {
    std::string value;
    std::string expected;  // a substring of the message
};

const hostile_case hostile_values[] = {
    {"ab\rcd", "byte 0x0D (CR) at position 3"},
    {"ab\ncd", "byte 0x0A (LF) at position 3"},
    {"ab\r\nX-Injected: 1", "byte 0x0D (CR) at position 3"},
    {std::string("ab\0cd", 5), "byte 0x00 (NUL) at position 3"},
    {"ab\x01", "byte 0x01 at position 3"},
    {"ab\x7f", "byte 0x7F (DEL) at position 3"},
    {"ab\vcd", "byte 0x0B (VT) at position 3"},
    {"ab\fcd", "byte 0x0C (FF) at position 3"},
    {"\r\nX-Anything:x || user:42", "byte 0x0D (CR) at position 1"},
};

const header_value_rule* const every_rule[] = {
    &tags_rule, &device_handle_rule, &platform_header_rule, &notification_id_rule, &authorization_rule};

TEST(header_gate, refuses_control_bytes_in_values) {
    for (const auto* rule : every_rule) {
        for (const auto& c : hostile_values) {
            const auto message = problem(c.value, *rule);
            EXPECT_THAT(message, HasSubstr(c.expected)) << rule->what;
            EXPECT_THAT(message, HasSubstr(rule->what));
            EXPECT_FALSE(has_control_byte(message)) << "the message repeats a hostile byte: " << message;
        }
    }
}

TEST(header_gate, allows_space_and_tab_only_where_the_value_is_text) {
    EXPECT_EQ(problem("a\t|| b", tags_rule), "ok");
    EXPECT_EQ(problem("SharedAccessSignature sr=x&sig=y", authorization_rule), "ok");
    EXPECT_EQ(problem("a b\tc", platform_header_rule), "ok");
    EXPECT_THAT(problem("abc def", device_handle_rule),
                HasSubstr("byte 0x20 (SP) at position 4: a device handle may hold only visible ASCII"));
    EXPECT_THAT(problem("abc\tdef", device_handle_rule), HasSubstr("byte 0x09 (HTAB) at position 4"));
    EXPECT_THAT(problem("id 1", notification_id_rule), HasSubstr("byte 0x20 (SP) at position 3"));
}

// RFC 9110 keeps obs-text (0x80-0xFF) in field values for old senders; NH tags and handles are ASCII.
TEST(header_gate, non_ascii_only_in_platform_header_values) {
    const std::string e_acute = "caf\xC3\xA9";
    EXPECT_EQ(problem(e_acute, platform_header_rule), "ok");
    EXPECT_THAT(problem(e_acute, tags_rule), HasSubstr("byte 0xC3 at position 4"));
    EXPECT_THAT(problem(e_acute, device_handle_rule), HasSubstr("byte 0xC3 at position 4"));
    EXPECT_THAT(problem(e_acute, notification_id_rule), HasSubstr("byte 0xC3 at position 4"));
}

TEST(header_gate, every_limit_holds_at_the_limit_and_refuses_one_byte_past_it) {
    const std::pair<const header_value_rule*, std::size_t> limits[] = {
        {&tags_rule, 4096},
        {&device_handle_rule, 2048},
        {&platform_header_rule, 1024},
        {&notification_id_rule, 512},
        {&authorization_rule, 4096},
    };
    for (const auto& [rule, limit] : limits) {
        EXPECT_EQ(rule->max_bytes, limit) << rule->what;
        EXPECT_EQ(problem(std::string(limit, 'a'), *rule), "ok") << rule->what;
        EXPECT_EQ(problem(std::string(limit + 1, 'a'), *rule),
                  fmt::format("{} is {} bytes long; the limit is {}", rule->what, limit + 1, limit));
        EXPECT_LE(limit * 8, beast_max_field_bytes) << rule->what << ": not far below Beast's limit";
    }
}

TEST(header_gate, a_value_padded_past_beasts_field_limit_is_refused_by_length) {
    const auto padded = "a" + std::string(beast_max_field_bytes, ' ') + "|| b";
    EXPECT_EQ(problem(padded, tags_rule),
              fmt::format("a tag expression is {} bytes long; the limit is 4096", padded.size()));
}

std::string name_problem(std::string name) {
    const auto e = check_platform_header({std::move(name), "v"});
    return e ? e->field + ": " + e->message : "ok";
}

TEST(header_gate, header_names_are_rfc_9110_tokens) {
    EXPECT_EQ(name_problem("apns-priority"), "ok");
    EXPECT_EQ(name_problem("X-WNS-Cache-Policy"), "ok");
    EXPECT_EQ(name_problem("Bad Name"),
              "headers: header name is not a valid HTTP token: byte 0x20 (SP) at position 4");
    EXPECT_EQ(name_problem("X-A:b"), "headers: header name is not a valid HTTP token: ':' at position 4");
    EXPECT_EQ(name_problem("X-A\r\nHost"),
              "headers: header name is not a valid HTTP token: byte 0x0D (CR) at position 4");
    EXPECT_EQ(name_problem(std::string("X\0", 2)),
              "headers: header name is not a valid HTTP token: byte 0x00 (NUL) at position 2");
    EXPECT_EQ(name_problem(""), "headers: a header name is empty");
    EXPECT_EQ(name_problem(std::string(64, 'x')), "ok");
    EXPECT_EQ(name_problem(std::string(65, 'x')), "headers: a header name is 65 bytes long; the limit is 64");
}

// A caller's copy of these would replace the SAS token or Host, or reframe the body on a pooled
// connection.
TEST(header_gate, headers_nhpush_sets_itself_cannot_be_given) {
    for (std::string name : {"Authorization",
                             "host",
                             "Content-Length",
                             "transfer-encoding",
                             "Connection",
                             "Content-Type",
                             "ServiceBusNotification-Tags",
                             "ServiceBusNotification-DeviceHandle"}) {
        EXPECT_EQ(name_problem(name),
                  fmt::format("headers.{}: header '{}' is set by nhpush and cannot be given", name, name));
    }
}

std::string field_of(const notification& n) {
    const auto e = check_header_fields(n);
    return e ? e->field : "ok";
}

TEST(header_gate, checks_every_field_of_a_notification_and_names_it) {
    notification n;
    n.tags = "a || b";
    n.headers = {{"apns-topic", "com.example"}, {"apns-id", "x"}};
    EXPECT_EQ(field_of(n), "ok");

    auto tags = n;
    tags.tags = "a\r\nX-Anything:x || user:42";
    EXPECT_EQ(field_of(tags), "tags");

    notification direct;
    direct.device_handle = "0123abc\n";
    EXPECT_EQ(field_of(direct), "device_handle");

    notification batch;
    batch.device_handles = {"h0", "h1", "h2", "h3\x01", "h4"};
    EXPECT_EQ(field_of(batch), "device_handles[3]");

    auto header_value = n;
    header_value.headers[0].value = "com.example\r\nContent-Length: 0";
    EXPECT_EQ(field_of(header_value), "headers.apns-topic");

    auto too_many = n;
    too_many.headers.clear();
    for (int i = 0; i < 16; ++i) {
        too_many.headers.push_back({fmt::format("X-Custom-{}", i), "v"});
    }
    EXPECT_EQ(field_of(too_many), "ok");
    too_many.headers.push_back({"X-Custom-16", "v"});
    const auto e = check_header_fields(too_many);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->field, "headers");
    EXPECT_EQ(e->message, "17 platform headers; the limit is 16");
}

}  // namespace
