// Fuzzes connection-string parsing (lib: parse_connection_string): it returns a complete endpoint or
// throws std::invalid_argument, nothing else, and the message of a refusal never holds the key.

#include "fuzz_check.hpp"

#include <nhpush/connection_string.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace {

// As lib/src/detail/text.hpp trims (the parser's whitespace).
std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    return first == std::string_view::npos ? std::string_view{}
                                           : s.substr(first, s.find_last_not_of(ws) - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

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
        // A refusal never quotes the key: the value of the last SharedAccessKey part, found as the parser
        // finds it. Checked only when that value occurs nowhere else in the text (the Endpoint, which is
        // quoted on purpose, may contain the same bytes) and is long enough not to occur by chance.
        std::string_view key;
        std::size_t occurrences = 0;
        for (std::string_view rest = text; !rest.empty();) {
            const auto semi = rest.find(';');
            const auto part = trim(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            const auto eq = part.find('=');
            if (eq != std::string_view::npos && iequals(trim(part.substr(0, eq)), "SharedAccessKey")) {
                key = trim(part.substr(eq + 1));
            }
        }
        for (auto at = text.find(key); !key.empty() && at != std::string_view::npos;
             at = text.find(key, at + 1)) {
            ++occurrences;
        }
        if (key.size() >= 8 && occurrences == 1) {
            NHPUSH_FUZZ_CHECK(std::string_view(e.what()).find(key) == std::string_view::npos);
        }
    }
    return 0;
}
