#include <nhpush/connection_string.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

using nhpush::parse_connection_string;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* portal =
    "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=DefaultFullSharedAccessSignature;"
    "SharedAccessKey=abc+/def==";

std::string error_of(std::string_view text) {
    try {
        parse_connection_string(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no error";
}

TEST(connection_string, parses_the_portal_form) {
    const auto cs = parse_connection_string(portal);
    EXPECT_EQ(cs.endpoint, "https://myns.servicebus.windows.net/");
    EXPECT_EQ(cs.host, "myns.servicebus.windows.net");
    EXPECT_EQ(cs.port, "443");
    EXPECT_EQ(cs.key_name, "DefaultFullSharedAccessSignature");
    EXPECT_EQ(cs.key, "abc+/def==");
}

// Sample bug 1: exactly three parts were required.
TEST(connection_string, sample_bug_1_trailing_semicolon_and_extra_keys_are_accepted) {
    const auto cs = parse_connection_string(std::string(portal) + ";EntityPath=myhub;;");
    EXPECT_EQ(cs.key, "abc+/def==");
    EXPECT_EQ(cs.key_name, "DefaultFullSharedAccessSignature");
}

// Sample bug 2: 'https' + part[11:] assumed the literal prefix "Endpoint=sb".
TEST(connection_string, sample_bug_2_whitespace_case_and_https_endpoint) {
    const auto cs = parse_connection_string(
        "  endpoint = https://MyNs.ServiceBus.Windows.net ; sharedaccesskeyname=Rule ;SHAREDACCESSKEY= k= ");
    EXPECT_EQ(cs.endpoint, "https://myns.servicebus.windows.net/");
    EXPECT_EQ(cs.key_name, "Rule");
    EXPECT_EQ(cs.key, "k=");
}

// Sample bug 3: 'SharedAccessKeyName=…' also starts with 'SharedAccessKey', so the key was clobbered
// unless the key came last.
TEST(connection_string, sample_bug_3_key_is_not_clobbered_by_key_name_in_any_order) {
    const auto cs = parse_connection_string(
        "SharedAccessKey=secret=;SharedAccessKeyName=Rule;Endpoint=sb://ns.servicebus.windows.net/");
    EXPECT_EQ(cs.key, "secret=");
    EXPECT_EQ(cs.key_name, "Rule");
}

TEST(connection_string, keeps_a_port_and_ensures_trailing_slash) {
    const auto cs =
        parse_connection_string("Endpoint=sb://127.0.0.1:8443;SharedAccessKeyName=n;SharedAccessKey=k");
    EXPECT_EQ(cs.endpoint, "https://127.0.0.1:8443/");
    EXPECT_EQ(cs.host, "127.0.0.1");
    EXPECT_EQ(cs.port, "8443");
}

TEST(connection_string, an_empty_port_is_the_default_port) {
    // Found by fuzz_connection_string (fuzz/regressions/fuzz_connection_string/): port was "".
    const auto cs =
        parse_connection_string("Endpoint=sb://ns.example:/;SharedAccessKeyName=n;SharedAccessKey=k");
    EXPECT_EQ(cs.endpoint, "https://ns.example/");
    EXPECT_EQ(cs.port, "443");
}

TEST(connection_string, values_are_split_at_the_first_equals_sign) {
    const auto cs = parse_connection_string("Endpoint=sb://ns/;SharedAccessKeyName=n;SharedAccessKey=a=b==");
    EXPECT_EQ(cs.key, "a=b==");
}

TEST(connection_string, errors_name_what_is_missing) {
    EXPECT_THAT(error_of("SharedAccessKeyName=n;SharedAccessKey=k"), HasSubstr("no Endpoint"));
    EXPECT_THAT(error_of("Endpoint=sb://ns/;SharedAccessKey=k"), HasSubstr("no SharedAccessKeyName"));
    EXPECT_THAT(error_of("Endpoint=sb://ns/;SharedAccessKeyName=n"), HasSubstr("no SharedAccessKey"));
    EXPECT_THAT(error_of("Endpoint=sb://ns/;SharedAccessKeyName=n;SharedAccessKey="),
                HasSubstr("no SharedAccessKey"));
    EXPECT_THAT(error_of(""), HasSubstr("no Endpoint"));
}

TEST(connection_string, errors_name_what_is_malformed) {
    EXPECT_THAT(error_of("Endpoint=ftp://ns/;SharedAccessKeyName=n;SharedAccessKey=k"),
                HasSubstr("sb:// or https://"));
    EXPECT_THAT(error_of("Endpoint=not a url;SharedAccessKeyName=n;SharedAccessKey=k"),
                HasSubstr("not a URL"));
    EXPECT_THAT(error_of("Endpoint=sb://ns/;SharedAccessKeyName=n;SharedAccessKey=k;garbage"),
                HasSubstr("without '='"));
}

TEST(connection_string, errors_never_echo_the_key) {
    const std::string secret = "TOPSECRETKEYVALUE=";
    EXPECT_THAT(error_of("Endpoint=ftp://ns/;SharedAccessKeyName=n;SharedAccessKey=" + secret),
                Not(HasSubstr(secret)));
    EXPECT_THAT(error_of("Endpoint=sb://ns/;SharedAccessKeyName=n;" + secret), Not(HasSubstr("TOPSECRET")));
}

}  // namespace
