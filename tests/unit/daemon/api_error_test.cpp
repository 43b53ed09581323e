#include "submission/api_error.hpp"

#include <gtest/gtest.h>

#include "test_names.hpp"

using nhpush::api::api_errc;
using nhpush::api::api_error;
using nhpush::api::http_status_of;
using nhpush::api::render_error_body;
using nhpush::api::to_string;

namespace {

TEST(api_error, body_has_code_message_and_field) {
    EXPECT_EQ(render_error_body({api_errc::unknown_hub, "unknown hub 'x'", "hub"}),
              R"({"error":{"code":"unknown_hub","message":"unknown hub 'x'","field":"hub"}})");
}

TEST(api_error, body_escapes_what_the_client_sent) {
    EXPECT_EQ(
        render_error_body({api_errc::unknown_field, "unknown field 'a\"b\\c\nd\x01'", "a\"b\\c\nd\x01"}),
        R"({"error":{"code":"unknown_field","message":"unknown field 'a\"b\\c\nd\u0001'",)"
        R"("field":"a\"b\\c\nd\u0001"}})");
}

TEST(api_error, body_without_a_field) {
    EXPECT_EQ(render_error_body({api_errc::queue_full, "the queue of hub 'main' is full", ""}),
              R"({"error":{"code":"queue_full","message":"the queue of hub 'main' is full","field":""}})");
}

struct code_case {
    api_errc code;
    const char* name;
    unsigned status;
};

void PrintTo(const code_case& c, std::ostream* os) {
    *os << c.name;
}

class api_error_codes : public testing::TestWithParam<code_case> {};

TEST_P(api_error_codes, have_a_wire_name_and_a_status) {
    EXPECT_EQ(to_string(GetParam().code), GetParam().name);
    EXPECT_EQ(http_status_of(GetParam().code), GetParam().status);
}

INSTANTIATE_TEST_SUITE_P(
    table,
    api_error_codes,
    testing::Values(code_case{api_errc::invalid_json, "invalid_json", 400},
                    code_case{api_errc::unknown_field, "unknown_field", 400},
                    code_case{api_errc::invalid_field, "invalid_field", 400},
                    code_case{api_errc::missing_field, "missing_field", 400},
                    code_case{api_errc::unknown_format, "unknown_format", 400},
                    code_case{api_errc::unknown_hub, "unknown_hub", 400},
                    code_case{api_errc::payload_too_large, "payload_too_large", 413},
                    code_case{api_errc::invalid_payload, "invalid_payload", 400},
                    code_case{api_errc::invalid_tags, "invalid_tags", 400},
                    code_case{api_errc::invalid_header, "invalid_header", 400},
                    code_case{api_errc::bad_request, "bad_request", 400},
                    code_case{api_errc::unsupported_media_type, "unsupported_media_type", 415},
                    code_case{api_errc::body_too_large, "body_too_large", 413},
                    code_case{api_errc::headers_too_large, "headers_too_large", 431},
                    code_case{api_errc::not_found, "not_found", 404},
                    code_case{api_errc::method_not_allowed, "method_not_allowed", 405},
                    code_case{api_errc::queue_full, "queue_full", 503},
                    code_case{api_errc::shutting_down, "shutting_down", 503},
                    code_case{api_errc::duplicate_id, "duplicate_id", 409},
                    code_case{api_errc::spool_off, "spool_off", 404},
                    code_case{api_errc::cannot_cancel, "cannot_cancel", 409},
                    code_case{api_errc::hub_error, "hub_error", 502}),
    [](const auto& info) { return nhpush::test::case_name(info.index, info.param.name); });

}  // namespace
