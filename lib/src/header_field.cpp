// The gate for everything that becomes a hub header (RFC 9110 §5.1, §5.5, §5.6.2).

#include "nhpush/header_field.hpp"

#include "nhpush/notification.hpp"

#include "detail/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>

namespace nhpush {
namespace {

using detail::iequals;

// Headers nhpush sets itself; a caller's copy could replace the SAS token or the Host, or frame
// the body differently (Content-Length, Transfer-Encoding) on a kept-alive connection.
constexpr std::string_view reserved_headers[] = {
    "Authorization",
    "Content-Type",
    "Content-Length",
    "Host",
    "Transfer-Encoding",
    "Connection",
    "User-Agent",
    "ServiceBusNotification-Format",
    "ServiceBusNotification-Tags",
    "ServiceBusNotification-DeviceHandle",
    "ServiceBusNotification-ScheduleTime",
};

// A table lookup per byte keeps the gate cheap: it runs on every header of every send, twice.
using byte_table = std::array<bool, 256>;

template <class Allowed>
constexpr byte_table table_of(Allowed allowed) {
    byte_table table{};
    for (std::size_t b = 0; b < table.size(); ++b) {
        table[b] = allowed(static_cast<unsigned char>(b));
    }
    return table;
}

constexpr bool is_visible(unsigned char b) {
    return b > 0x20 && b < 0x7f;
}

// tchar of RFC 9110 §5.6.2.
constexpr byte_table token_bytes = table_of([](unsigned char b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(b)) != std::string_view::npos;
});

// Indexed by header_value_bytes.
constexpr std::array<byte_table, 3> value_bytes{
    table_of(is_visible),
    table_of([](unsigned char b) { return is_visible(b) || b == ' ' || b == '\t'; }),
    table_of([](unsigned char b) { return is_visible(b) || b == ' ' || b == '\t' || b >= 0x80; }),
};

bool is_token_char(char c) {
    return token_bytes[static_cast<unsigned char>(c)];
}

std::string_view allowed_bytes_text(header_value_bytes bytes) {
    switch (bytes) {
        case header_value_bytes::visible_ascii:
            return "may hold only visible ASCII characters";
        case header_value_bytes::ascii_text:
            return "may hold only visible ASCII characters, spaces and tabs";
        case header_value_bytes::field_text:
            return "cannot hold control characters";
    }
    return {};
}

std::optional<validation_error> check_header_name(std::string_view name) {
    if (name.empty()) {
        return validation_error{"headers", "a header name is empty"};
    }
    if (name.size() > header_field_limits::max_header_name_bytes) {
        return validation_error{"headers",
                                fmt::format("a header name is {} bytes long; the limit is {}",
                                            name.size(),
                                            header_field_limits::max_header_name_bytes)};
    }
    const auto bad = std::find_if_not(name.begin(), name.end(), is_token_char);
    if (bad != name.end()) {
        return validation_error{"headers",
                                fmt::format("header name is not a valid HTTP token: {} at position {}",
                                            detail::describe_byte(*bad),
                                            bad - name.begin() + 1)};
    }
    for (auto reserved : reserved_headers) {
        if (iequals(name, reserved)) {
            return validation_error{fmt::format("headers.{}", name),
                                    fmt::format("header '{}' is set by nhpush and cannot be given", name)};
        }
    }
    return std::nullopt;
}

// What is wrong with `value` under `rule`, or nullopt.
std::optional<std::string> value_problem(std::string_view value, const header_value_rule& rule) {
    // The length first: it is O(1), and a huge value needs no byte-by-byte story.
    if (value.size() > rule.max_bytes) {
        return fmt::format("{} is {} bytes long; the limit is {}", rule.what, value.size(), rule.max_bytes);
    }
    const auto& allowed = value_bytes[static_cast<std::size_t>(rule.bytes)];
    const auto bad = std::find_if_not(
        value.begin(), value.end(), [&](char c) { return allowed[static_cast<unsigned char>(c)]; });
    if (bad != value.end()) {
        return fmt::format("{} at position {}: {} {}",
                           detail::describe_byte(*bad),
                           bad - value.begin() + 1,
                           rule.what,
                           allowed_bytes_text(rule.bytes));
    }
    return std::nullopt;
}

}  // namespace

std::optional<validation_error> check_header_value(std::string_view field,
                                                   std::string_view value,
                                                   const header_value_rule& rule) {
    if (auto problem = value_problem(value, rule)) {
        return validation_error{std::string(field), std::move(*problem)};
    }
    return std::nullopt;
}

std::optional<validation_error> check_platform_header(const header& h) {
    if (auto e = check_header_name(h.name)) {
        return e;
    }
    // The field name is formatted only for an error: this runs for every header of every send.
    if (auto problem = value_problem(h.value, platform_header_rule)) {
        return validation_error{fmt::format("headers.{}", h.name), std::move(*problem)};
    }
    return std::nullopt;
}

std::optional<validation_error> check_platform_header_count(std::size_t count) {
    if (count > header_field_limits::max_platform_headers) {
        return validation_error{
            "headers",
            fmt::format(
                "{} platform headers; the limit is {}", count, header_field_limits::max_platform_headers)};
    }
    return std::nullopt;
}

std::optional<validation_error> check_header_fields(const notification& n) {
    if (auto e = check_header_value("tags", n.tags, tags_rule)) {
        return e;
    }
    if (auto e = check_header_value("device_handle", n.device_handle, device_handle_rule)) {
        return e;
    }
    for (std::size_t i = 0; i < n.device_handles.size(); ++i) {
        // Batch handles travel in the JSON body, not a header, but they are the same handles.
        if (auto problem = value_problem(n.device_handles[i], device_handle_rule)) {
            return validation_error{fmt::format("device_handles[{}]", i), std::move(*problem)};
        }
    }
    if (auto e = check_platform_header_count(n.headers.size())) {
        return e;
    }
    for (const auto& h : n.headers) {
        if (auto e = check_platform_header(h)) {
            return e;
        }
    }
    return std::nullopt;
}

}  // namespace nhpush
