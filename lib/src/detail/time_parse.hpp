#pragma once
// A tiny cursor for fixed-layout date strings, and a checked civil-time constructor.

#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>

namespace nhpush::detail {

struct field_reader {
    std::string_view s;
    std::size_t pos = 0;

    bool done() const { return pos >= s.size(); }
    char peek() const { return s[pos]; }
    char next() { return s[pos++]; }

    bool literal(std::string_view lit) {
        if (s.substr(pos).starts_with(lit)) {
            pos += lit.size();
            return true;
        }
        return false;
    }

    bool number(std::size_t digits, int& out) {
        if (s.size() - pos < digits) {
            return false;
        }
        int v = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const char c = s[pos + i];
            if (!std::isdigit(static_cast<unsigned char>(c))) {
                return false;
            }
            v = v * 10 + (c - '0');
        }
        pos += digits;
        out = v;
        return true;
    }
};

inline std::optional<std::chrono::system_clock::time_point> make_utc_time(
    int y, int mo, int d, int h, int mi, int s) {
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    // system_clock counts nanoseconds in 64 bits: only 1677-09-21 to 2262-04-11 fit, and converting a
    // time outside that overflows (undefined behaviour; found by fuzz_response and fuzz_submission).
    // Whole years inside it, so that an offset or a fraction added later cannot overflow either.
    if (!ymd.ok() || y < 1678 || y > 2261 || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace nhpush::detail
