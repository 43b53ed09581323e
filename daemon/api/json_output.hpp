#pragma once
// RapidJSON output straight into a std::string (no intermediate buffer), private to daemon/api.

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace nhpush::api::detail {

/// A RapidJSON output stream that appends to a std::string.
struct string_output {
    using Ch = char;
    std::string& out;

    void Put(char c) { out.push_back(c); }
    void Flush() {}
};

using json_writer = rapidjson::Writer<string_output>;

inline void write_string(json_writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline void write_key(json_writer& w, std::string_view s) {
    w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace nhpush::api::detail
