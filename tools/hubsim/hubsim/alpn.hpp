#pragma once
/** @file Which protocol to select by ALPN (pure: no TLS). */

#include "hubsim/options.hpp"

#include <string_view>

namespace nhpush::hubsim {

/** @brief The ALPN identifiers hubsim knows. */
inline constexpr std::string_view alpn_h2 = "h2";
inline constexpr std::string_view alpn_http1 = "http/1.1";

/**
 * @brief Picks from a client's ALPN list (wire format: each name preceded by its length byte)
 * `h2` if offered and served, else `http/1.1` if offered and served; empty if neither.
 * The result points into `offered`. A malformed list yields empty.
 */
std::string_view choose_alpn(std::string_view offered, const http2_config& config) noexcept;

/** @brief True if `offered` (wire format) names `protocol`. */
bool alpn_offers(std::string_view offered, std::string_view protocol) noexcept;

}  // namespace nhpush::hubsim
