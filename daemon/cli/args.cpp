#include "cli/args.hpp"

#include <fmt/format.h>

namespace nhpush::cli {

std::vector<std::string> args::take_all(std::string_view name) {
    std::vector<std::string> values;
    const std::string option = fmt::format("--{}", name);
    for (std::size_t i = 0; i < words_.size();) {
        const auto& w = words_[i];
        if (w == option) {
            if (i + 1 >= words_.size()) {
                throw usage_error(fmt::format("{} needs a value", option));
            }
            values.push_back(words_[i + 1]);
            words_.erase(words_.begin() + static_cast<std::ptrdiff_t>(i),
                         words_.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        } else if (w.starts_with(option + "=")) {
            values.push_back(w.substr(option.size() + 1));
            words_.erase(words_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
    return values;
}

std::optional<std::string> args::take(std::string_view name) {
    auto values = take_all(name);
    if (values.empty()) {
        return std::nullopt;
    }
    return values.back();
}

bool args::take_flag(std::string_view name) {
    const std::string option = fmt::format("--{}", name);
    bool found = false;
    std::erase_if(words_, [&](const std::string& w) { return w == option && (found = true); });
    return found;
}

std::optional<std::string> args::take_positional() {
    for (auto it = words_.begin(); it != words_.end(); ++it) {
        if (!it->starts_with("--")) {
            std::string word = *it;
            words_.erase(it);
            return word;
        }
    }
    return std::nullopt;
}

void args::expect_empty() const {
    if (!words_.empty()) {
        throw usage_error(fmt::format("unknown argument '{}'", words_.front()));
    }
}

}  // namespace nhpush::cli
