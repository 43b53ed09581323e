#pragma once
// A small command-line reader: `--name value`, `--name=value` and flags, in any order.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::cli {

/// Thrown for a command line a person must correct; the message says what to change.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class args {
public:
    explicit args(std::vector<std::string> words) : words_(std::move(words)) {}

    /// Removes and returns the value of `--name VALUE` or `--name=VALUE`; the last one wins.
    std::optional<std::string> take(std::string_view name);

    /// Removes every `--name VALUE` and returns their values in order.
    std::vector<std::string> take_all(std::string_view name);

    /// Removes `--name` if present.
    bool take_flag(std::string_view name);

    /// Removes and returns the first word that is not an option.
    std::optional<std::string> take_positional();

    /// Throws usage_error naming the first word nobody took.
    void expect_empty() const;

private:
    std::vector<std::string> words_;
};

}  // namespace nhpush::cli
