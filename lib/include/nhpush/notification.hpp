#pragma once
/** @file The notification model: formats, platform headers, targeting, and their validation. */

#include "nhpush/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush {

/** @brief Values of `ServiceBusNotification-Format`. */
enum class notification_format {
    template_,     ///< "template": flat JSON object of string properties
    apple,         ///< APNs JSON
    fcmv1,         ///< Firebase v1 JSON (`{"message":{…}}`)
    gcm,           ///< legacy FCM; deprecated, Google retired it in June 2024
    windows,       ///< WNS XML (toast, tile, badge) or raw bytes
    windowsphone,  ///< MPNS XML; deprecated, no longer supported by Microsoft
    adm,           ///< Amazon Device Messaging JSON
    baidu,         ///< Baidu JSON; deprecated in the portal
    browser,       ///< Web Push JSON
    xiaomi         ///< Xiaomi JSON
};

/** @brief Every format, in declaration order. */
inline constexpr notification_format all_formats[] = {
    notification_format::template_,
    notification_format::apple,
    notification_format::fcmv1,
    notification_format::gcm,
    notification_format::windows,
    notification_format::windowsphone,
    notification_format::adm,
    notification_format::baidu,
    notification_format::browser,
    notification_format::xiaomi,
};

/** @brief The wire name of a format ("template", "apple", …). */
std::string_view to_string(notification_format f) noexcept;

/** @brief The format named `name` exactly (case-sensitive, as the service is); nullopt if unknown. */
std::optional<notification_format> parse_format(std::string_view name) noexcept;

/** @brief Why a format should no longer be used, or an empty view if it is current. */
std::string_view deprecation_notice(notification_format f) noexcept;

/** @brief One HTTP header to pass through to the hub. */
struct header {
    std::string name;
    std::string value;
};

/**
 * @brief One notification and where it goes.
 *
 * Targeting: `device_handles` (direct batch) or `device_handle` (direct send) or `tags` (a tag
 * expression; empty means broadcast). `payload` is the body exactly as sent to the hub: a JSON
 * string given by a caller is never encoded again.
 */
struct notification {
    notification_format format = notification_format::template_;
    std::string payload;
    std::vector<header> headers;              ///< platform headers, e.g. apns-priority, X-WNS-Type
    std::string tags;                         ///< tag expression; empty for broadcast
    std::string device_handle;                ///< direct send to one handle
    std::vector<std::string> device_handles;  ///< direct batch send, at most 1000 handles
    std::optional<std::chrono::system_clock::time_point> schedule_at;  ///< scheduled send
    bool test = false;  ///< NH test send (tag and broadcast sends only)
};

/** @brief Limits the service enforces, checked before sending. */
struct notification_limits {
    static constexpr std::size_t max_body_bytes = 64 * 1024;  ///< NH answers 413 above this
    static constexpr std::size_t max_apns_payload_bytes = 4 * 1024;
    static constexpr std::size_t max_wns_raw_bytes = 5 * 1024;
    static constexpr std::size_t max_batch_handles = 1000;
    static constexpr std::chrono::hours max_schedule_ahead{7 * 24};
};

/**
 * @brief Validates a notification and completes the headers the service needs.
 *
 * First runs the header gate, check_header_fields() (header_field.hpp): no control bytes in the
 * tags, device handles or platform headers, and each within its limit. Then infers `X-WNS-Type`
 * from the XML root for windows and the MPNS headers for windowsphone when they are not given,
 * checks the payload against its format (JSON, or well-formed XML for windows toast/tile/badge and
 * windowsphone), the platform headers' values, the tag expression, the targeting combination, and
 * the schedule time (UTC, at most 7 days after `now`).
 *
 * @returns the first problem found, or nullopt when `n` is ready to send.
 */
std::optional<validation_error> prepare_notification(notification& n,
                                                     std::chrono::system_clock::time_point now);

/** @brief The Content-Type to send for `n` (depends on the format and, for WNS, X-WNS-Type). */
std::string_view content_type_of(const notification& n) noexcept;

/** @brief The value of header `name` in `n` (case-insensitive), or nullptr. */
const std::string* find_header(const notification& n, std::string_view name) noexcept;

/** @brief Joins tags into an OR expression, sorted and without duplicates, e.g. `a || b`. */
std::string join_tags(std::vector<std::string> tags);

/**
 * @brief Checks a tag expression as NH does: tags of at most 120 characters from
 * `[A-Za-z0-9_@#.:-]` or `$InstallationId:{…}` / `$UserId:{…}`; operators `&&`, `||`, `!` and
 * parentheses; at most 20 tags when only `||` is used, 6 otherwise. Only space and tab count as
 * whitespace: CR, LF, VT and FF are refused, since the expression becomes a header value.
 * @returns the problem, with the 1-based character position, or nullopt.
 */
std::optional<validation_error> validate_tag_expression(std::string_view expression);

/** @brief Formats a time as UTC ISO-8601, `2024-05-01T12:00:00Z`. */
std::string format_utc_iso8601(std::chrono::system_clock::time_point t);

/**
 * @brief Parses an RFC 3339 time (`2024-05-01T12:00:00Z`, `…+02:00`, optional fraction).
 * @returns nullopt if malformed.
 */
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace nhpush
