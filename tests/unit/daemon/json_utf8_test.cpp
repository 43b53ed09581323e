// Every string nhpushd writes into a JSON answer is valid UTF-8: the shared writer repairs it.

#include "submission/api_error.hpp"
#include "api/result_json.hpp"
#include "shared/json_output.hpp"
#include "shared/utf8.hpp"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace {

using nhpush::shared::is_valid_utf8;
using nhpush::shared::to_valid_utf8;

const std::string fffd = "\xEF\xBF\xBD";

/// True if RapidJSON, checking the encoding, accepts `json`.
bool parses_as_valid_utf8(const std::string& json) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str());
    return !d.HasParseError();
}

struct repair_case {
    const char* name;
    std::string in;
    std::string out;
};

class utf8_repair : public testing::TestWithParam<repair_case> {};

TEST_P(utf8_repair, replaces_each_invalid_byte_and_keeps_valid_text) {
    const auto& c = GetParam();
    EXPECT_EQ(to_valid_utf8(c.in), c.out);
    EXPECT_EQ(is_valid_utf8(c.in), c.in == c.out);
    EXPECT_TRUE(is_valid_utf8(to_valid_utf8(c.in)));
}

INSTANTIATE_TEST_SUITE_P(cases,
                         utf8_repair,
                         testing::Values(repair_case{"ascii", "order-7", "order-7"},
                                         repair_case{"empty", "", ""},
                                         repair_case{"ff",
                                                     "a\xFF"
                                                     "b",
                                                     "a" + fffd + "b"},
                                         repair_case{"overlong_nul", "\xC0\x80", fffd + fffd},
                                         repair_case{"truncated_two_bytes_at_end", "ab\xC3", "ab" + fffd},
                                         repair_case{"truncated_three_bytes_at_end", "\xE2\x82", fffd + fffd},
                                         repair_case{"truncated_before_ascii",
                                                     "\xE2\x82"
                                                     "x",
                                                     fffd + fffd + "x"},
                                         repair_case{"stray_continuation", "\x80", fffd},
                                         repair_case{"surrogate", "\xED\xA0\x80", fffd + fffd + fffd},
                                         repair_case{
                                             "above_10ffff", "\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},
                                         repair_case{"valid_multibyte", "Grüße €𝄞 日本", "Grüße €𝄞 日本"},
                                         repair_case{"valid_around_invalid", "é\xFF€", "é" + fffd + "€"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(json_output, error_answer_for_invalid_utf8_id_is_valid_utf8) {
    const auto body = nhpush::api::render_error_body({nhpush::api::api_errc::not_found,
                                                      "no notification '\xFF\xC0\x80\xE2\x82'",
                                                      "fi\xFF"
                                                      "eld"});
    EXPECT_TRUE(parses_as_valid_utf8(body)) << body;
    EXPECT_NE(body.find("no notification '" + fffd + fffd + fffd + fffd + fffd + "'"), std::string::npos)
        << body;
    EXPECT_NE(body.find("\"field\":\"fi" + fffd + "eld\""), std::string::npos) << body;
}

TEST(json_output, keys_and_hub_error_text_are_repaired_and_valid_text_kept) {
    std::string out;
    nhpush::shared::string_output stream{out};
    nhpush::shared::json_writer w(stream);
    w.StartObject();
    nhpush::shared::write_key(w, "x-h\xFF");
    nhpush::shared::write_string(w, "Grüße \xC0\x80");
    w.EndObject();
    EXPECT_TRUE(parses_as_valid_utf8(out)) << out;
    EXPECT_EQ(out, "{\"x-h" + fffd + "\":\"Grüße " + fffd + fffd + "\"}");
}

TEST(json_output, result_with_a_hubs_invalid_error_detail_is_valid_utf8) {
    nhpush::hubs::result_record r;
    r.hub = "main";
    r.state = nhpush::hubs::notification_state::failed;
    r.reason = "hub_rejected";
    r.error_detail = "Bad\xFF request: caf\xC3";
    const auto body = nhpush::api::render_result("id-\xFE", r);
    EXPECT_TRUE(parses_as_valid_utf8(body)) << body;
}

}  // namespace
