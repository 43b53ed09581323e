// Fuzzes connection-string parsing (lib: parse_connection_string): it returns a complete endpoint or
// throws std::invalid_argument, nothing else, and the message of a refusal never holds the key.

#include "fuzz_check.hpp"

#include <nhpush/connection_string.hpp>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto cs = nhpush::parse_connection_string(text);
        NHPUSH_FUZZ_CHECK(cs.endpoint.starts_with("https://") && cs.endpoint.ends_with("/"));
        NHPUSH_FUZZ_CHECK(!cs.host.empty() && !cs.port.empty());
        for (const char c : cs.host) {
            NHPUSH_FUZZ_CHECK(std::tolower(static_cast<unsigned char>(c)) == static_cast<unsigned char>(c));
        }
        NHPUSH_FUZZ_CHECK(!cs.key_name.empty() && !cs.key.empty());
    } catch (const std::invalid_argument& e) {
        // A refusal never quotes the key. The key, if the text has one: from `SharedAccessKey=` to `;`.
        constexpr std::string_view marker = "SharedAccessKey=";
        if (const auto at = text.find(marker); at != std::string_view::npos) {
            auto key = text.substr(at + marker.size());
            key = key.substr(0, key.find(';'));
            if (key.size() >= 8) {  // a short key may occur in the message by chance
                NHPUSH_FUZZ_CHECK(std::string_view(e.what()).find(key) == std::string_view::npos);
            }
        }
    }
    return 0;
}
