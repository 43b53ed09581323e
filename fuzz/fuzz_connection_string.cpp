// Fuzzes connection-string parsing (lib: parse_connection_string): it returns a complete endpoint or
// throws std::invalid_argument, nothing else, and the message of a refusal does not depend on the key.

#include "fuzz_check.hpp"

#include <nhpush/connection_string.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
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
        // A refusal never depends on the key: with the key's bytes replaced by others of the same
        // length, the message is the same. The key is the value of the last SharedAccessKey part,
        // found as the parser finds it. (Searching the message for the key's bytes is not enough: a
        // fuzzed key may be a piece of a message's fixed text.)
        std::string_view key;
        for (std::string_view rest = text; !rest.empty();) {
            const auto semi = rest.find(';');
            const auto part = trim(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            const auto eq = part.find('=');
            if (eq != std::string_view::npos && iequals(trim(part.substr(0, eq)), "SharedAccessKey")) {
                key = trim(part.substr(eq + 1));
            }
        }
        if (!key.empty()) {
            std::string other(text);
            const auto at = static_cast<std::size_t>(key.data() - text.data());
            for (std::size_t i = 0; i < key.size(); ++i) {
                other[at + i] = key[i] == 'k' ? 'q' : 'k';  // not ';', '=' or whitespace: same parts
            }
            std::string other_message;
            try {
                (void)nhpush::parse_connection_string(other);
            } catch (const std::invalid_argument& e2) {
                other_message = e2.what();
            }
            NHPUSH_FUZZ_CHECK(other_message == e.what());
        }
    }
    return 0;
}
