#pragma once
// The response fields classify_response() reads.

#include <algorithm>
#include <string_view>

#include <boost/beast/core/string.hpp>

namespace nhpush::detail {

/// Every response field classify_response() reads: an answer that keeps only these is classified
/// as the whole answer would be. (The HTTP/2 session keeps no others unless a hook wants them.)
inline constexpr std::string_view classified_fields[] = {"Retry-After", "TrackingId", "Location"};

inline bool is_classified_field(std::string_view name) noexcept {
    return std::any_of(std::begin(classified_fields), std::end(classified_fields), [&](std::string_view f) {
        return boost::beast::iequals(name, f);
    });
}

}  // namespace nhpush::detail
