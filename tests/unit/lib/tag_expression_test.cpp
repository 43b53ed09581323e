#include <nhpush/notification.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using nhpush::validate_tag_expression;
using testing::HasSubstr;

namespace {

std::string problem(std::string_view expr) {
    const auto e = validate_tag_expression(expr);
    return e ? e->message : "ok";
}

TEST(tag_expression, accepts_what_nh_accepts) {
    for (std::string_view ok : {
             "sports",
             "follows_RedSox",
             "a@b.c:d-e#f_g",
             "(follows_RedSox || follows_Cardinals) && location_Boston",
             "!muted",
             "(sports||news)&&!muted",
             "$InstallationId:{inst-1}",
             "$UserId:{user=1@example.com} && template1",
             "  a  ||  b  ",
             "((a))",
         }) {
        EXPECT_EQ(problem(ok), "ok") << ok;
    }
}

TEST(tag_expression, points_at_a_forbidden_character) {
    EXPECT_EQ(
        problem("sports || new%s"),
        "tag expression: tag 'new%' has a character Notification Hubs does not allow: '%' at position 14");
    EXPECT_THAT(problem("a || %b"), HasSubstr("'%' cannot start a tag"));
    EXPECT_THAT(problem("a || %b"), HasSubstr("position 6"));
}

// CR, LF, VT and FF end or fold a header line: in a tag expression only space and tab are whitespace.
TEST(tag_expression, cr_lf_is_not_whitespace) {
    EXPECT_EQ(problem("a\t||\tb"), "ok");
    const std::pair<std::string_view, std::string_view> refused[] = {
        {"\r\nX-Anything:x || user:42", "byte 0x0D (CR) cannot start a tag"},
        {"a\r\n|| b",
         "tag 'a' has a character Notification Hubs does not allow: byte 0x0D (CR) at position 2"},
        {"a ||\nb", "byte 0x0A (LF) cannot start a tag"},
        {"a\v|| b", "byte 0x0B (VT) at position 2"},
        {"a ||\fb", "byte 0x0C (FF) cannot start a tag"},
        {"a || b\r\n", "byte 0x0D (CR) at position 7"},
        {"(a)\n", "unexpected byte 0x0A (LF) at position 4"},
    };
    for (const auto& [expression, expected] : refused) {
        EXPECT_THAT(problem(expression), HasSubstr(expected)) << expression;
    }
}

TEST(tag_expression, checks_parentheses_and_operators) {
    EXPECT_EQ(problem("(a || b"), "tag expression: '(' is not closed at position 1");
    EXPECT_EQ(problem("a || b)"), "tag expression: unexpected ')' at position 7");
    EXPECT_THAT(problem("a ||"), HasSubstr("expression ended"));
    EXPECT_THAT(problem("a | b"), HasSubstr("unexpected '|' at position 3"));
    EXPECT_THAT(problem("a b"), HasSubstr("unexpected 'b' at position 3"));
    EXPECT_THAT(problem(""), HasSubstr("empty"));
}

TEST(tag_expression, limits_tag_length_to_120) {
    EXPECT_EQ(problem(std::string(120, 'x')), "ok");
    EXPECT_THAT(problem("a || " + std::string(121, 'x')),
                HasSubstr("121 characters long; the limit is 120 at position 6"));
}

std::string chain(int n, std::string_view op) {
    std::string s = "t0";
    for (int i = 1; i < n; ++i) {
        s += std::string(op) + "t" + std::to_string(i);
    }
    return s;
}

TEST(tag_expression, allows_20_tags_when_only_or_and_6_otherwise) {
    EXPECT_EQ(problem(chain(20, " || ")), "ok");
    EXPECT_THAT(problem(chain(21, " || ")),
                HasSubstr("21 tags; Notification Hubs allows 20 when it uses only ||"));
    EXPECT_EQ(problem(chain(6, " && ")), "ok");
    EXPECT_THAT(problem(chain(7, " && ")),
                HasSubstr("7 tags; Notification Hubs allows 6 when it uses && or !"));
    EXPECT_THAT(problem(chain(6, " || ") + " || !x"), HasSubstr("allows 6"));
}

TEST(tag_expression, special_tags_need_their_braces) {
    EXPECT_THAT(problem("$UserId:user1234"),
                HasSubstr("'$UserId:' must be followed by {value}, e.g. $UserId:{user1}"));
    EXPECT_THAT(problem("$UserId:{}"), HasSubstr("must be followed by {value}"));
    EXPECT_THAT(problem("$UserId:{a b}"), HasSubstr("must be followed by {value}"));
    EXPECT_THAT(problem("$Other:{x}"), HasSubstr("$InstallationId:{…} or $UserId:{…}"));
}

TEST(tag_expression, survives_deep_nesting) {
    EXPECT_THAT(problem(std::string(10000, '(') + "a" + std::string(10000, ')')),
                HasSubstr("nesting deeper"));
    EXPECT_THAT(problem(std::string(10000, '!') + "a"), HasSubstr("nesting deeper"));
}

// Sample bug 8: a Python set made the tag order nondeterministic.
TEST(join_tags, sample_bug_8_joins_in_a_stable_order_without_duplicates) {
    EXPECT_EQ(nhpush::join_tags({"sports", "politics", "sports"}), "politics || sports");
    EXPECT_EQ(nhpush::join_tags({"politics", "sports"}), nhpush::join_tags({"sports", "politics"}));
    EXPECT_EQ(nhpush::join_tags({}), "");
}

}  // namespace
