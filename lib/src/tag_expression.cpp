// Tag expressions as Notification Hubs accepts them (nh-rest.md §3.1).

#include "nhpush/notification.hpp"

#include "detail/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace nhpush {
namespace {

constexpr std::size_t max_tag_length = 120;
constexpr int max_tags_or_only = 20;
constexpr int max_tags_otherwise = 6;
constexpr int max_nesting = 32;

bool is_tag_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '#' || c == '.' ||
           c == ':' || c == '-';
}

// Only space and tab: CR, LF, VT and FF would end or fold the header line the expression goes into.
bool is_space_or_tab(char c) {
    return c == ' ' || c == '\t';
}

bool is_special_tag_value_char(char c) {
    return is_tag_char(c) || c == '=';
}

/// Recursive-descent checker: or := and ('||' and)*; and := unary ('&&' unary)*;
/// unary := '!' unary | '(' or ')' | tag.
class tag_expression_checker {
public:
    explicit tag_expression_checker(std::string_view text) : text_(text) {}

    std::optional<validation_error> check() {
        skip_spaces();
        if (at_end()) {
            return error_at(0, "tag expression is empty");
        }
        if (!parse_or(0)) {
            return error_;
        }
        if (!at_end()) {
            return error_at(pos_, fmt::format("unexpected {}", detail::describe_byte(text_[pos_])));
        }
        const int limit = only_or_ ? max_tags_or_only : max_tags_otherwise;
        if (tag_count_ > limit) {
            return validation_error{"tags",
                                    fmt::format("tag expression has {} tags; Notification Hubs allows {} {}",
                                                tag_count_,
                                                limit,
                                                only_or_ ? "when it uses only ||" : "when it uses && or !")};
        }
        return std::nullopt;
    }

private:
    bool at_end() const { return pos_ >= text_.size(); }
    bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

    void skip_spaces() {
        while (!at_end() && is_space_or_tab(text_[pos_])) {
            ++pos_;
        }
    }

    std::optional<validation_error> error_at(std::size_t pos, std::string what) {
        error_ = validation_error{"tags", fmt::format("tag expression: {} at position {}", what, pos + 1)};
        return error_;
    }

    bool fail(std::size_t pos, std::string what) {
        error_at(pos, std::move(what));
        return false;
    }

    bool parse_or(int depth) {
        if (!parse_and(depth)) {
            return false;
        }
        while (starts_with("||")) {
            pos_ += 2;
            skip_spaces();
            if (!parse_and(depth)) {
                return false;
            }
        }
        return true;
    }

    bool parse_and(int depth) {
        if (!parse_unary(depth)) {
            return false;
        }
        while (starts_with("&&")) {
            only_or_ = false;
            pos_ += 2;
            skip_spaces();
            if (!parse_unary(depth)) {
                return false;
            }
        }
        return true;
    }

    bool parse_unary(int depth) {
        if (depth > max_nesting) {
            return fail(pos_, fmt::format("nesting deeper than {}", max_nesting));
        }
        if (at_end()) {
            return fail(pos_, "expected a tag, '!' or '(' but the expression ended");
        }
        const char c = text_[pos_];
        if (c == '!') {
            only_or_ = false;
            ++pos_;
            skip_spaces();
            return parse_unary(depth + 1);
        }
        if (c == '(') {
            const auto open = pos_++;
            skip_spaces();
            if (!parse_or(depth + 1)) {
                return false;
            }
            if (at_end() || text_[pos_] != ')') {
                return fail(open, "'(' is not closed");
            }
            ++pos_;
            skip_spaces();
            return true;
        }
        return parse_tag();
    }

    bool parse_tag() {
        const auto start = pos_;
        if (text_[pos_] == '$') {
            if (!parse_special_tag()) {
                return false;
            }
        } else {
            while (!at_end() && is_tag_char(text_[pos_])) {
                ++pos_;
            }
            if (pos_ == start) {
                return fail(start,
                            fmt::format("{} cannot start a tag (allowed: A-Z a-z 0-9 _ @ # . : -)",
                                        detail::describe_byte(text_[start])));
            }
            if (!at_end() && !is_space_or_tab(text_[pos_]) && text_[pos_] != ')' && text_[pos_] != '|' &&
                text_[pos_] != '&') {
                // The tag is quoted with the bad character only when that one is printable.
                const bool printable = detail::is_visible_ascii(text_[pos_]);
                return fail(pos_,
                            fmt::format("tag '{}' has a character Notification Hubs does not allow: {}",
                                        text_.substr(start, pos_ - start + (printable ? 1 : 0)),
                                        detail::describe_byte(text_[pos_])));
            }
        }
        if (pos_ - start > max_tag_length) {
            return fail(
                start,
                fmt::format("tag is {} characters long; the limit is {}", pos_ - start, max_tag_length));
        }
        ++tag_count_;
        skip_spaces();
        return true;
    }

    // $InstallationId:{id} or $UserId:{id}
    bool parse_special_tag() {
        const auto start = pos_;
        for (std::string_view prefix : {"$InstallationId:", "$UserId:"}) {
            if (!starts_with(prefix)) {
                continue;
            }
            pos_ += prefix.size();
            const auto value_start = pos_ + 1;
            if (!at_end() && text_[pos_] == '{') {
                ++pos_;
                while (!at_end() && is_special_tag_value_char(text_[pos_])) {
                    ++pos_;
                }
            }
            if (pos_ < value_start || pos_ == value_start || at_end() || text_[pos_] != '}') {
                return fail(
                    start,
                    fmt::format("'{}' must be followed by {{value}}, e.g. {}{{user1}}", prefix, prefix));
            }
            ++pos_;
            return true;
        }
        return fail(start, "a tag starting with '$' must be $InstallationId:{…} or $UserId:{…}");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int tag_count_ = 0;
    bool only_or_ = true;
    std::optional<validation_error> error_;
};

}  // namespace

std::optional<validation_error> validate_tag_expression(std::string_view expression) {
    return tag_expression_checker(expression).check();
}

std::string join_tags(std::vector<std::string> tags) {
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    return fmt::format("{}", fmt::join(tags, " || "));
}

}  // namespace nhpush
