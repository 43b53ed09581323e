// Fuzzes tag expressions (lib: validate_tag_expression) and notification validation
// (prepare_notification) on a notification built from the bytes: the first byte picks the format,
// the rest is split at NUL bytes into payload, tags, device handle, header name and header value.

#include "fuzz_check.hpp"

#include <nhpush/notification.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

using nhpush::fuzz::fixed_now;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // The whole input as one tag expression. An accepted expression is accepted again as a
    // notification's tags (prepare_notification checks tags the same way).
    const bool tags_ok = !nhpush::validate_tag_expression(text);
    // Not checked here yet: that an accepted expression holds no CR, LF or other control byte. On main
    // the expression's whitespace is std::isspace, so "a\r\n|| b" is accepted (the header-gate work).

    if (size == 0) {
        return 0;
    }
    std::vector<std::string_view> parts;
    std::string_view rest = text.substr(1);
    while (parts.size() < 4) {
        const auto nul = rest.find('\0');
        if (nul == std::string_view::npos) {
            break;
        }
        parts.push_back(rest.substr(0, nul));
        rest.remove_prefix(nul + 1);
    }
    parts.push_back(rest);
    parts.resize(5);

    nhpush::notification n;
    n.format = nhpush::all_formats[data[0] % std::size(nhpush::all_formats)];
    n.payload = parts[0];
    n.tags = parts[1];
    n.device_handle = parts[2];
    if (!parts[3].empty()) {
        n.headers.push_back({std::string(parts[3]), std::string(parts[4])});
    }
    n.test = (data[0] & 0x80) != 0;
    const auto first = nhpush::prepare_notification(n, fixed_now);
    if (!first) {
        // A prepared notification stays valid when prepared again.
        NHPUSH_FUZZ_CHECK(!nhpush::prepare_notification(n, fixed_now));
        NHPUSH_FUZZ_CHECK(n.tags.empty() || !nhpush::validate_tag_expression(n.tags));
    }
    (void)tags_ok;
    return 0;
}
