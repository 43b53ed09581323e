// ALPN selection.

#include "hubsim/alpn.hpp"

namespace nhpush::hubsim {
namespace {

/// The entry of `offered` equal to `protocol` (a view into `offered`), or empty.
std::string_view find_offered(std::string_view offered, std::string_view protocol) noexcept {
    while (!offered.empty()) {
        const auto size = static_cast<unsigned char>(offered.front());
        if (size == 0 || size + 1u > offered.size()) {
            return {};  // malformed
        }
        const auto name = offered.substr(1, size);
        if (name == protocol) {
            return name;
        }
        offered.remove_prefix(size + 1u);
    }
    return {};
}

}  // namespace

bool alpn_offers(std::string_view offered, std::string_view protocol) noexcept {
    return !find_offered(offered, protocol).empty();
}

std::string_view choose_alpn(std::string_view offered, const http2_config& config) noexcept {
    if (config.serve_h2) {
        if (const auto h2 = find_offered(offered, alpn_h2); !h2.empty()) {
            return h2;
        }
    }
    return config.serve_http1 ? find_offered(offered, alpn_http1) : std::string_view{};
}

}  // namespace nhpush::hubsim
