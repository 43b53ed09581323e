#include "api/submission.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_names.hpp"

#include <string>

using namespace std::chrono;
using nhpush::api::accepted_line;
using nhpush::api::api_errc;
using nhpush::api::api_error;
using nhpush::api::line_error;
using nhpush::api::ndjson_batch;
using nhpush::api::submission_parser;

namespace {

const auto now = sys_days{year{2026} / 11 / 28} + hours{12};

const std::string good1 = R"({"hub":"main","format":"template","payload":{"n":"1"}})";
const std::string good2 = R"({"hub":"main","format":"template","payload":{"n":"2"},"id":"two"})";

ndjson_batch parse(std::string body) {
    submission_parser parser({"main"});
    return parser.parse_ndjson(body, now);
}

std::vector<std::size_t> accepted_lines(const ndjson_batch& b) {
    std::vector<std::size_t> lines;
    for (const auto& a : b.accepted) {
        lines.push_back(a.line);
    }
    return lines;
}

std::vector<std::size_t> rejected_lines(const ndjson_batch& b) {
    std::vector<std::size_t> lines;
    for (const auto& r : b.rejected) {
        lines.push_back(r.line);
    }
    return lines;
}

struct batch_case {
    std::string name;
    std::string body;
    std::vector<std::size_t> accepted;
    std::vector<std::size_t> rejected;
};

void PrintTo(const batch_case& c, std::ostream* os) {
    *os << c.name;
}

class ndjson_lines : public testing::TestWithParam<batch_case> {};

TEST_P(ndjson_lines, are_numbered_from_one) {
    const auto& c = GetParam();
    const auto batch = parse(c.body);
    EXPECT_EQ(accepted_lines(batch), c.accepted);
    EXPECT_EQ(rejected_lines(batch), c.rejected);
}

INSTANTIATE_TEST_SUITE_P(
    table,
    ndjson_lines,
    testing::Values(
        batch_case{"two lines", good1 + "\n" + good2 + "\n", {1, 2}, {}},
        batch_case{"no final newline", good1 + "\n" + good2, {1, 2}, {}},
        batch_case{"crlf", good1 + "\r\n" + good2 + "\r\n", {1, 2}, {}},
        batch_case{"crlf without final newline", good1 + "\r\n" + good2, {1, 2}, {}},
        batch_case{"blank lines are skipped but counted", "\n" + good1 + "\n  \n\t\r\n" + good2, {2, 5}, {}},
        batch_case{"bad lines among good ones", good1 + "\n{\n" + good2 + "\nnull\n", {1, 3}, {2, 4}},
        batch_case{"empty body", "", {}, {}},
        batch_case{"only blank lines", "\n\r\n \n", {}, {}},
        batch_case{"one line", good1, {1}, {}}),
    [](const auto& info) { return nhpush::test::case_name(info.index, info.param.name); });

TEST(ndjson, line_errors_carry_code_message_and_field) {
    const auto batch =
        parse(good1 + "\n" + R"({"hub":"main","format":"template","payload":{},"tgs":"a"})" + "\n" +
              R"({"hub":"nope","format":"template","payload":{}})" + "\r\n" + "not json\n");
    ASSERT_EQ(batch.rejected.size(), 3u);
    EXPECT_EQ(batch.rejected[0],
              (line_error{2, api_error{api_errc::unknown_field, "unknown field 'tgs'", "tgs"}}));
    EXPECT_EQ(batch.rejected[1],
              (line_error{
                  3, api_error{api_errc::unknown_hub, "unknown hub 'nope'; configured hubs: main", "hub"}}));
    EXPECT_EQ(batch.rejected[2].line, 4u);
    EXPECT_EQ(batch.rejected[2].error.code, api_errc::invalid_json);
    EXPECT_EQ(batch.rejected[2].error.message, "invalid JSON at byte 1: Invalid value.");
}

TEST(ndjson, accepted_lines_hold_their_submissions) {
    const auto batch = parse(good1 + "\n" + good2 + "\n");
    ASSERT_EQ(batch.accepted.size(), 2u);
    EXPECT_EQ(batch.accepted[0].value.notification.payload, R"({"n":"1"})");
    EXPECT_EQ(batch.accepted[1].value.client_id, "two");
}

TEST(ndjson, a_line_cannot_run_into_the_next) {
    // An object split over two lines is two bad lines, not one good object.
    const auto batch = parse(R"({"hub":"main","format":"template",)"
                             "\n"
                             R"("payload":{}})"
                             "\n");
    EXPECT_TRUE(batch.accepted.empty());
    EXPECT_EQ(rejected_lines(batch), (std::vector<std::size_t>{1, 2}));
}

TEST(ndjson, batch_answer_body) {
    const std::vector<accepted_line> accepted{{1, "a1"}, {3, "a3"}};
    const std::vector<line_error> rejected{{2, api_error{api_errc::invalid_tags, "bad \"tag\"", "tags"}}};
    EXPECT_EQ(nhpush::api::render_batch_answer(accepted, rejected),
              R"({"accepted":[{"line":1,"id":"a1"},{"line":3,"id":"a3"}],)"
              R"("rejected":[{"line":2,"code":"invalid_tags","message":"bad \"tag\"","field":"tags"}]})");
    EXPECT_EQ(nhpush::api::render_batch_answer({}, {}), R"({"accepted":[],"rejected":[]})");
}

}  // namespace
