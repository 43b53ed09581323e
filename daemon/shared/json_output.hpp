#pragma once
/**
 * @file The one way nhpushd writes JSON: RapidJSON straight into a std::string, every string made
 * valid UTF-8 on the way.
 *
 * Answers echo what clients and hubs sent (ids from a URL, field names, a hub's error text), which
 * may hold any bytes; write_string() and write_key() replace every byte that is not part of a
 * well-formed UTF-8 sequence with U+FFFD, so every answer is valid UTF-8 (and so valid JSON). Write
 * strings only through them, never with the writer's own String() or Key().
 */

#include "shared/utf8.hpp"

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace nhpush::shared {

/// A RapidJSON output stream that appends to a std::string.
struct string_output {
    using Ch = char;
    std::string& out;

    void Put(char c) { out.push_back(c); }
    void Flush() {}
};

using json_writer = rapidjson::Writer<string_output>;

namespace detail {

template <class Write>
void write_valid_utf8(std::string_view s, Write write) {
    if (is_valid_utf8(s)) {
        write(s);
    } else {
        const auto repaired = to_valid_utf8(s);
        write(std::string_view(repaired));
    }
}

}  // namespace detail

/// Writes `s` as a JSON string value, invalid UTF-8 replaced by U+FFFD.
inline void write_string(json_writer& w, std::string_view s) {
    detail::write_valid_utf8(
        s, [&](std::string_view v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); });
}

/// Writes `s` as an object key, invalid UTF-8 replaced by U+FFFD.
inline void write_key(json_writer& w, std::string_view s) {
    detail::write_valid_utf8(
        s, [&](std::string_view v) { w.Key(v.data(), static_cast<rapidjson::SizeType>(v.size())); });
}

}  // namespace nhpush::shared
