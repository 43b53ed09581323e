#pragma once
// Names for parameterized test cases: ctest shows them instead of raw bytes.

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace nhpush::test {

/// `3_hubs_main_connections`: the case's index, then its description with every other character as '_'.
inline std::string case_name(std::size_t index, std::string_view description) {
    std::string name = std::to_string(index) + "_";
    for (const char c : description.substr(0, 48)) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return name;
}

}  // namespace nhpush::test
