#include "nhpush/connection_string.hpp"

#include "detail/text.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include <optional>
#include <stdexcept>

namespace nhpush {
namespace {

using detail::iequals;
using detail::trim;

struct raw_parts {
    std::optional<std::string_view> endpoint, key_name, key;
};

raw_parts split_parts(std::string_view text) {
    raw_parts parts;
    while (!text.empty()) {
        const auto semi = text.find(';');
        const auto part = trim(text.substr(0, semi));
        text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
        if (part.empty()) {
            continue;
        }
        const auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            // Never echo the part: it could be a key that lost its name.
            throw std::invalid_argument("connection string has a part without '=' (expected Name=Value)");
        }
        const auto name = trim(part.substr(0, eq));
        const auto value = trim(part.substr(eq + 1));
        if (iequals(name, "Endpoint")) {
            parts.endpoint = value;
        } else if (iequals(name, "SharedAccessKeyName")) {
            parts.key_name = value;
        } else if (iequals(name, "SharedAccessKey")) {
            parts.key = value;
        }  // Unknown keys (EntityPath, …) do not matter for sending.
    }
    return parts;
}

void parse_endpoint(std::string_view endpoint, connection_string& out) {
    const auto url = boost::urls::parse_uri(endpoint);
    if (!url) {
        throw std::invalid_argument(fmt::format("connection string Endpoint '{}' is not a URL", endpoint));
    }
    const auto scheme = url->scheme();
    if (!iequals(scheme, "sb") && !iequals(scheme, "https")) {
        throw std::invalid_argument(
            fmt::format("connection string Endpoint '{}' must start with sb:// or https://", endpoint));
    }
    if (url->encoded_host().empty()) {
        throw std::invalid_argument(fmt::format("connection string Endpoint '{}' has no host", endpoint));
    }
    out.host = detail::to_lower(url->encoded_host());
    // `sb://ns:/` has an empty port, which means the default one (RFC 3986, 3.2.3).
    const bool has_port = url->has_port() && !url->port().empty();
    out.port = has_port ? std::string(url->port()) : "443";
    const std::string authority = has_port ? out.host + ":" + out.port : out.host;
    out.endpoint = "https://" + authority + "/";
}

}  // namespace

connection_string parse_connection_string(std::string_view text) {
    const auto parts = split_parts(text);
    if (!parts.endpoint || parts.endpoint->empty()) {
        throw std::invalid_argument("connection string has no Endpoint");
    }
    if (!parts.key_name || parts.key_name->empty()) {
        throw std::invalid_argument("connection string has no SharedAccessKeyName");
    }
    if (!parts.key || parts.key->empty()) {
        throw std::invalid_argument("connection string has no SharedAccessKey");
    }
    connection_string out;
    parse_endpoint(*parts.endpoint, out);
    out.key_name = std::string(*parts.key_name);
    out.key = std::string(*parts.key);
    return out;
}

}  // namespace nhpush
