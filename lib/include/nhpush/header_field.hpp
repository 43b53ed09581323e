#pragma once
/**
 * @file The gate for everything that becomes a header of a request to the hub.
 *
 * A header name must be an RFC 9110 token (§5.6.2). A value may not hold CR, LF, NUL or any other
 * control byte (0x00–0x1F but HTAB, and 0x7F), so it can never end its header line and start
 * another (RFC 9110 §5.5); and every value has a maximum length, far below the 65,534 bytes at
 * which Beast throws. prepare_notification() and build_send_request() both call these functions,
 * so a notification that skipped validation is still refused before a byte of it reaches the hub.
 * docs/submission-api.md lists the limits and their sources.
 */

#include "nhpush/error.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace nhpush {

struct header;
struct notification;

/** @brief Which bytes a header value may hold besides visible ASCII (0x21–0x7E). */
enum class header_value_bytes {
    visible_ascii,  ///< nothing else: device handles and notification ids (hex, tokens, URLs)
    ascii_text,     ///< also space and HTAB: tag expressions, the Authorization value
    field_text,     ///< also space, HTAB and obs-text 0x80–0xFF, as RFC 9110 allows: platform headers
};

/** @brief What one kind of header value may be: its bytes, its length, and its name in messages. */
struct header_value_rule {
    std::string_view what;  ///< e.g. "a tag expression"
    header_value_bytes bytes;
    std::size_t max_bytes;
};

/** @brief The limits of everything nhpush puts into a hub header (bytes). */
struct header_field_limits {
    /// 20 tags of 120 characters joined by ` || ` are 2,476 bytes; the rest is room for spacing.
    static constexpr std::size_t max_tags_bytes = 4096;
    /// Twice an MPNS channel URI's 1,024 characters, the longest handle any platform documents.
    static constexpr std::size_t max_device_handle_bytes = 2048;
    /// `ServiceBusNotification-Apns-Expiry`, the longest known platform header name, has 34.
    static constexpr std::size_t max_header_name_bytes = 64;
    /// 12 times the longest known platform value (a Web Push P256DH key, 87 characters).
    static constexpr std::size_t max_header_value_bytes = 1024;
    /// APNs has 7 headers, WNS 9; every platform header of one notification must fit.
    static constexpr std::size_t max_platform_headers = 16;
    /// Notification and scheduled ids the hub hands out are about 120 characters.
    static constexpr std::size_t max_notification_id_bytes = 512;
    /// A SAS token: `sr` (the encoded hub URI), a 44-character signature, expiry and key name.
    static constexpr std::size_t max_authorization_bytes = 4096;
};

/** @brief `ServiceBusNotification-Tags`. */
inline constexpr header_value_rule tags_rule{
    "a tag expression", header_value_bytes::ascii_text, header_field_limits::max_tags_bytes};
/** @brief `ServiceBusNotification-DeviceHandle`, and each handle of a direct batch. */
inline constexpr header_value_rule device_handle_rule{
    "a device handle", header_value_bytes::visible_ascii, header_field_limits::max_device_handle_bytes};
/** @brief The value of a platform header such as `apns-priority` or `X-WNS-Type`. */
inline constexpr header_value_rule platform_header_rule{
    "a header value", header_value_bytes::field_text, header_field_limits::max_header_value_bytes};
/** @brief A notification or scheduled id, for cancel and outcome-details requests. */
inline constexpr header_value_rule notification_id_rule{
    "a notification id", header_value_bytes::visible_ascii, header_field_limits::max_notification_id_bytes};
/** @brief The `Authorization` value (a SAS token). */
inline constexpr header_value_rule authorization_rule{
    "an Authorization value", header_value_bytes::ascii_text, header_field_limits::max_authorization_bytes};

/**
 * @brief Checks `value` against `rule`.
 * @returns nullopt, or an error for `field` naming the first bad byte and its 1-based position, or
 *          the length and the limit. Messages never quote the bad bytes themselves.
 */
std::optional<validation_error> check_header_value(std::string_view field,
                                                   std::string_view value,
                                                   const header_value_rule& rule);

/**
 * @brief Checks a platform header: its name is a token of at most max_header_name_bytes and not
 * one nhpush sets itself (Authorization, Host, Content-Length, Transfer-Encoding, the
 * ServiceBusNotification targeting headers, …); its value follows platform_header_rule.
 * @returns nullopt, or an error whose field is `headers.NAME` (`headers` if the name is bad).
 */
std::optional<validation_error> check_platform_header(const header& h);

/** @brief Checks the number of platform headers of a notification against max_platform_headers. */
std::optional<validation_error> check_platform_header_count(std::size_t count);

/**
 * @brief The whole gate for one notification: `tags`, `device_handle`, each of `device_handles`
 * (field `device_handles[i]`), the number of platform headers and each of them.
 * @returns the first problem, or nullopt. Pure; thread-safe.
 */
std::optional<validation_error> check_header_fields(const notification& n);

}  // namespace nhpush
