// Fuzzes tag expressions (lib: validate_tag_expression) and notification validation
// (prepare_notification) on a notification built from the bytes: the first byte picks the format,
// the rest is split at NUL bytes into payload, tags, device handle, header name and header value.
// Invariants of the header gate: an accepted expression holds no byte that could end a header line,
// and a notification that prepare_notification accepts is one build_send_request can build.

#include "fuzz_check.hpp"

#include <nhpush/connection_string.hpp>
#include <nhpush/notification.hpp>
#include <nhpush/request.hpp>

#include <algorithm>
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
    if (!nhpush::validate_tag_expression(text)) {
        NHPUSH_FUZZ_CHECK(std::none_of(text.begin(), text.end(), [](char c) {
            const auto b = static_cast<unsigned char>(c);
            return (b < 0x20 && b != '\t') || b == 0x7f;
        }));
    }

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
        // The gate runs again at building; it must agree with validation (it throws if not).
        static const auto endpoint = nhpush::make_hub_endpoint(
            nhpush::parse_connection_string(
                "Endpoint=sb://fuzz.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5"),
            "hub");
        nhpush::hub_request request;
        nhpush::build_send_request(endpoint, n, "SharedAccessSignature sr=x&sig=y&se=1&skn=k", request);
    }
    return 0;
}
