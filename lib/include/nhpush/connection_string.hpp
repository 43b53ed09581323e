#pragma once
/** @file Parsing of Notification Hubs connection strings. */

#include <string>
#include <string_view>

namespace nhpush {

/**
 * @brief A parsed `Endpoint=sb://…/;SharedAccessKeyName=…;SharedAccessKey=…` connection string.
 *
 * `key` is a secret: nothing in nhpush logs or prints it.
 */
struct connection_string {
    std::string endpoint;  ///< `https://host[:port]/`, always with a trailing `/`
    std::string host;      ///< the endpoint's host, lower-cased
    std::string port;      ///< the endpoint's port, "443" when not given
    std::string key_name;  ///< SharedAccessKeyName
    std::string key;       ///< SharedAccessKey, as written (it is not base64-decoded)
};

/**
 * @brief Parses a connection string.
 *
 * Parts may come in any order, keys are compared case-insensitively, whitespace around keys and
 * values is trimmed, empty parts and unknown keys (such as EntityPath) are ignored, and each part is
 * split at its first `=` (keys often end in `=`). `sb://` becomes `https://`.
 *
 * @throws std::invalid_argument naming what is missing or malformed; the message never contains the key.
 */
connection_string parse_connection_string(std::string_view text);

}  // namespace nhpush
