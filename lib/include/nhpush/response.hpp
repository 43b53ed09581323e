#pragma once
/** @file Classifying the hub's answers (pure: no I/O). */

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush {

/** @brief The response type nhpush reads from a hub. */
using hub_response_message = boost::beast::http::response<boost::beast::http::string_body>;

/** @brief What to do about an answer. */
enum class response_kind {
    success,    ///< the hub accepted the notification
    retriable,  ///< try again later (throttling, 408, most 5xx)
    permanent   ///< do not try again (bad request, auth, not found, too large, …)
};

/** @brief One registration's outcome in a test send. */
struct registration_result {
    std::string platform;         ///< ApplicationPlatform, e.g. apple, gcm, windows
    std::string pns_handle;       ///< PnsHandle
    std::string registration_id;  ///< RegistrationId
    std::string outcome;          ///< Outcome, a sentence from the service
};

/** @brief The `<NotificationOutcome>` body of a test send. */
struct test_send_outcome {
    int success = 0;
    int failure = 0;
    std::vector<registration_result> results;
};

/** @brief Everything nhpush learns from one answer of the hub. */
struct hub_response {
    response_kind kind = response_kind::permanent;
    unsigned status = 0;              ///< the HTTP status
    bool unexpected_success = false;  ///< a 2xx other than 201: accepted, but counted apart
    bool throttled = false;           ///< 429, or 403 with Retry-After: the hub asks to slow down
    std::optional<std::chrono::seconds> retry_after;
    std::string notification_id;  ///< last path segment of Location, if any
    std::string tracking_id;      ///< the TrackingId header, if any
    std::string error_code;       ///< `<Error><Code>` of an error body
    std::string error_detail;     ///< `<Error><Detail>`, or the start of a body that is not NH XML
    std::optional<test_send_outcome> test_outcome;  ///< when the body is a `<NotificationOutcome>`
};

/**
 * @brief Classifies an answer: 201 is success, another 2xx success flagged as unexpected;
 * 400, 401, 404, 413 and 403 without Retry-After are permanent; 403 with Retry-After, 408, 429 and
 * 5xx other than 501 and 505 are retriable. `now` resolves an HTTP-date Retry-After.
 */
hub_response classify_response(const hub_response_message& res, std::chrono::system_clock::time_point now);

/**
 * @brief Parses Retry-After: delta-seconds or an IMF-fixdate HTTP-date; between 0 and 999,999,999 s
 * (longer values are clamped, never overflow). nullopt for anything else (e.g. `-5`, `soon`).
 */
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

/** @brief The last path segment of a Location URL (the notification id), or empty. */
std::string notification_id_from_location(std::string_view location);

/** @brief Parses a `<NotificationOutcome>` document; nullopt if `xml` is not one. */
std::optional<test_send_outcome> parse_test_send_outcome(std::string_view xml);

}  // namespace nhpush
