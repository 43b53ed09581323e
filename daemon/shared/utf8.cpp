#include "shared/utf8.hpp"

#include <algorithm>

namespace nhpush::shared {
namespace {

bool in_range(char c, unsigned char low, unsigned char high) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= low && u <= high;
}

}  // namespace

// The table of well-formed sequences is Unicode's (Table 3-7): the second byte's range depends on
// the first, which excludes overlong forms, surrogates and code points above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view s) noexcept {
    if (s.empty()) {
        return 0;
    }
    const auto lead = static_cast<unsigned char>(s[0]);
    if (lead < 0x80) {
        return 1;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (s.size() < length || !in_range(s[1], low, high)) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (!in_range(s[i], 0x80, 0xBF)) {
            return 0;
        }
    }
    return length;
}

bool is_valid_utf8(std::string_view s) noexcept {
    while (!s.empty()) {
        // ASCII runs, the common case, one byte at a time without the table.
        const auto ascii = std::find_if(s.begin(), s.end(), [](char c) { return (c & 0x80) != 0; });
        s.remove_prefix(static_cast<std::size_t>(ascii - s.begin()));
        if (s.empty()) {
            return true;
        }
        const auto n = utf8_sequence_length(s);
        if (n == 0) {
            return false;
        }
        s.remove_prefix(n);
    }
    return true;
}

std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        const auto n = utf8_sequence_length(s);
        if (n == 0) {
            out += replacement_character;
            s.remove_prefix(1);
        } else {
            out.append(s.data(), n);
            s.remove_prefix(n);
        }
    }
    return out;
}

}  // namespace nhpush::shared
