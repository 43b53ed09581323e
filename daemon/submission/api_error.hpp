#pragma once
/** @file The errors of the submission API: codes, HTTP statuses and the JSON error body. */

#include <cstddef>
#include <string>
#include <string_view>

namespace nhpush::api {

/** @brief What went wrong with a request; the wire name is the enumerator's name. */
enum class api_errc {
    // A notification object (a request body, or one line of a batch).
    invalid_json,       ///< not JSON, not UTF-8, or not an object
    unknown_field,      ///< a field the API does not have (often a typo)
    invalid_field,      ///< a field of the wrong type or with a bad value
    missing_field,      ///< a required field is absent
    unknown_format,     ///< `format` is not one of the Notification Hubs formats
    unknown_hub,        ///< `hub` is not a configured hub
    payload_too_large,  ///< the payload exceeds what the hub or the platform accepts
    invalid_payload,    ///< the payload does not fit its format (not JSON, not XML, …)
    invalid_tags,       ///< a bad tag expression, or a tags array that is empty or holds an expression
    invalid_header,     ///< a bad platform header name or value
    // The HTTP request around it.
    bad_request,             ///< malformed or truncated HTTP request
    unsupported_media_type,  ///< Content-Type is neither application/json nor application/x-ndjson
    body_too_large,          ///< the body exceeds daemon.max_body_bytes
    headers_too_large,       ///< the request line and headers exceed daemon.max_header_bytes
    not_found,               ///< no such endpoint, or no such notification id
    method_not_allowed,      ///< the endpoint does not take this method
    queue_full,              ///< the hub's queue is full; retry after the Retry-After delay
    shutting_down,           ///< the daemon is stopping and takes no new work
    duplicate_id,            ///< the id is already queued, in flight or a recent result
    spool_unavailable,       ///< the spool cannot be written (disk full or failing): nothing was accepted
    // The notification's life after its submission.
    spool_off,      ///< dead letters need a spool: `[spool] dir` is not set
    cannot_cancel,  ///< the notification is on the wire or finished: it cannot be recalled
    hub_error       ///< the hub's answer to a cancel or details query was an error
};

/** @brief How many codes there are (for tables indexed by code). */
inline constexpr std::size_t api_errc_count = static_cast<std::size_t>(api_errc::hub_error) + 1;

/** @brief The wire name of a code, e.g. "invalid_field". */
std::string_view to_string(api_errc code) noexcept;

/** @brief The HTTP status a request failing with `code` is answered with (400, 404, 413, 503, …). */
unsigned http_status_of(api_errc code) noexcept;

/**
 * @brief One error: a code for programs, a sentence for people, and the field it is about.
 *
 * `field` is a path into the notification object (`hub`, `tags[2]`, `headers.apns-priority`), or
 * empty when the error is not about one field.
 */
struct api_error {
    api_errc code = api_errc::invalid_json;
    std::string message;
    std::string field;

    bool operator==(const api_error&) const = default;
};

/** @brief The error body `{"error":{"code":"…","message":"…","field":"…"}}`, properly escaped. */
std::string render_error_body(const api_error& error);

}  // namespace nhpush::api
