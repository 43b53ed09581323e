// UTC time formatting and parsing (RFC 3339 and the HTTP-date of Retry-After).

#include "nhpush/notification.hpp"

#include "detail/text.hpp"
#include "detail/time_parse.hpp"

#include <fmt/format.h>

namespace nhpush {

using namespace std::chrono;

std::string format_utc_iso8601(system_clock::time_point t) {
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                       static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()),
                       hms.hours().count(),
                       hms.minutes().count(),
                       hms.seconds().count());
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    detail::field_reader r{s};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!r.number(4, y) || !r.literal("-") || !r.number(2, mo) || !r.literal("-") || !r.number(2, d) ||
        !(r.literal("T") || r.literal("t")) || !r.number(2, h) || !r.literal(":") || !r.number(2, mi) ||
        !r.literal(":") || !r.number(2, se)) {
        return std::nullopt;
    }
    nanoseconds frac{0};
    if (r.literal(".")) {
        long long scale = 100'000'000;
        std::size_t digits = 0;
        while (!r.done() && std::isdigit(static_cast<unsigned char>(r.peek()))) {
            frac += nanoseconds{(r.next() - '0') * scale};
            scale /= 10;
            ++digits;
        }
        if (digits == 0) {
            return std::nullopt;
        }
    }
    minutes offset{0};
    if (!(r.literal("Z") || r.literal("z"))) {
        const bool minus = r.literal("-");
        if (!minus && !r.literal("+")) {
            return std::nullopt;
        }
        int oh = 0, om = 0;
        if (!r.number(2, oh) || !r.literal(":") || !r.number(2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset = minutes{(minus ? -1 : 1) * (oh * 60 + om)};
    }
    if (!r.done()) {
        return std::nullopt;
    }
    const auto t = detail::make_utc_time(y, mo, d, h, mi, se);
    if (!t) {
        return std::nullopt;
    }
    return *t + duration_cast<system_clock::duration>(frac) - offset;
}

}  // namespace nhpush
