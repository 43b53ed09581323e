#include "api/batch_answer.hpp"
#include "submission/submission.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_names.hpp"

#include <string>

using namespace std::chrono;
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
    nhpush::api::batch_answer answer;
    answer.accept(1, "a1");
    answer.reject(2, api_error{api_errc::invalid_tags, "bad \"tag\"", "tags"});
    answer.accept(3, "a3");
    EXPECT_EQ(answer.finish(),
              R"({"accepted":[{"line":1,"id":"a1"},{"line":3,"id":"a3"}],)"
              R"("rejected":[{"line":2,"code":"invalid_tags","message":"bad \"tag\"","field":"tags"}],)"
              R"("rejected_count":1,"rejected_by_code":{"invalid_tags":1},"rejected_truncated":false})");
    nhpush::api::batch_answer empty;
    EXPECT_EQ(empty.finish(),
              R"({"accepted":[],"rejected":[],"rejected_count":0,"rejected_by_code":{},)"
              R"("rejected_truncated":false})");
}

TEST(ndjson, ndjson_answer_is_bounded_for_a_body_of_bad_lines) {
    // 4 MiB of "1\n": two million bad lines. The answer lists the first 100 and counts the rest.
    std::string body;
    for (std::size_t i = 0; i < 2 * 1024 * 1024; ++i) {
        body += "1\n";
    }
    const auto body_size = body.size();
    submission_parser parser({"main"});
    nhpush::api::batch_answer answer;
    parser.parse_ndjson_lines(body, now, [&](std::size_t line, auto& r) {
        answer.reject(line, std::move(std::get<api_error>(r)));
    });
    const auto json = answer.finish();
    EXPECT_LT(json.size(), 32u * 1024) << "the answer no longer grows with the number of bad lines";
    EXPECT_LT(json.size(), body_size);
    EXPECT_THAT(json,
                testing::HasSubstr(R"("rejected_count":2097152,"rejected_by_code":{"invalid_json":2097152},)"
                                   R"("rejected_truncated":true})"));
    EXPECT_THAT(json, testing::HasSubstr(R"({"line":100,"code":"invalid_json")"));
    EXPECT_THAT(json, testing::Not(testing::HasSubstr(R"({"line":101,)")));
}

TEST(ndjson, streaming_parse_hands_over_lines_in_order) {
    std::string body = good1 + "\n\nnot json\n" + good2;
    submission_parser parser({"main"});
    std::vector<std::pair<std::size_t, bool>> seen;
    parser.parse_ndjson_lines(body, now, [&](std::size_t line, auto& r) {
        seen.emplace_back(line, std::holds_alternative<nhpush::api::submission>(r));
    });
    EXPECT_EQ(seen, (std::vector<std::pair<std::size_t, bool>>{{1, true}, {3, false}, {4, true}}));
}

}  // namespace
