#pragma once
// Small string helpers shared by the library's parsers.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

namespace nhpush::detail {

inline std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

inline std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

/// 0x21–0x7E: printable, and not whitespace.
inline bool is_visible_ascii(char c) {
    const auto b = static_cast<unsigned char>(c);
    return b > 0x20 && b < 0x7f;
}

/// A byte for a message: `'%'` when printable ASCII, else `byte 0x0D (CR)`, so that a message
/// never carries a control byte itself.
inline std::string describe_byte(char c) {
    if (is_visible_ascii(c)) {
        return std::string{'\'', c, '\''};
    }
    const auto b = static_cast<unsigned char>(c);
    constexpr std::pair<unsigned char, const char*> names[] = {{0x00, "NUL"},
                                                               {0x09, "HTAB"},
                                                               {0x0a, "LF"},
                                                               {0x0b, "VT"},
                                                               {0x0c, "FF"},
                                                               {0x0d, "CR"},
                                                               {0x20, "SP"},
                                                               {0x7f, "DEL"}};
    constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "byte 0x";
    out += hex[b >> 4];
    out += hex[b & 0xf];
    for (auto [value, name] : names) {
        if (value == b) {
            out = out + " (" + name + ")";
        }
    }
    return out;
}

/// Parses a whole string of decimal digits into `out`; false on anything else or overflow.
template <class Int>
bool parse_decimal(std::string_view s, Int& out) {
    if (s.empty() || s.size() > 18) {
        return false;
    }
    Int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

}  // namespace nhpush::detail
