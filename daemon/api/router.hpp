#pragma once
/** @file Which endpoint a request is for, and whether its method and content type fit: pure decisions. */

#include "submission/api_error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace nhpush::api {

/** @brief The request methods the API tells apart; everything else is `other`. */
enum class method { get, head, post, put, del, other };

/** @brief The endpoints of the submission API. */
enum class endpoint {
    submit,                ///< POST /v1/notifications
    notification_status,   ///< GET /v1/notifications/{id}
    notification_cancel,   ///< DELETE /v1/notifications/{id}
    notification_details,  ///< GET /v1/notifications/{id}/details
    dead_letters_list,     ///< GET /v1/dead-letters[?limit=N&after=ID]
    dead_letters_purge,    ///< DELETE /v1/dead-letters
    dead_letter_requeue,   ///< POST /v1/dead-letters/{id}/requeue
    stats,                 ///< GET /v1/stats
    metrics,               ///< GET /metrics
    health                 ///< GET /healthz
};

/** @brief A request the router accepted. */
struct route {
    endpoint target = endpoint::health;
    std::string id;         ///< of a notification or dead letter, percent-decoded
    bool wait = false;      ///< submit with `?wait=true`
    std::size_t limit = 0;  ///< dead_letters_list: letters at most (default_dead_letter_limit)
    std::string after;      ///< dead_letters_list: the page after this id (percent-decoded)

    bool operator==(const route&) const = default;
};

/** @brief A request the router refused; `allow` is the Allow header of a 405. */
struct route_error {
    api_error error;
    std::string_view allow;

    bool operator==(const route_error&) const = default;
};

/** @brief Dead letters listed when `limit` is not given, and the most one page may ask for. */
inline constexpr std::size_t default_dead_letter_limit = 100;
inline constexpr std::size_t max_dead_letter_limit = 1000;

/**
 * @brief Routes `method target`: 404 for an unknown path, 405 (with Allow) for a known path with
 * another method, 400 for a bad query (`wait` other than true/false/1/0, `limit` not in
 * 1..max_dead_letter_limit, or any other parameter).
 */
std::variant<route, route_error> route_request(method m, std::string_view target);

/** @brief What a submission's body is. */
enum class body_kind { json, ndjson };

/**
 * @brief `application/json` or `application/x-ndjson` (case-insensitive, parameters such as
 * `charset=utf-8` allowed); no Content-Type at all is taken as JSON. Anything else: 415.
 */
std::variant<body_kind, api_error> classify_content_type(std::string_view content_type);

/**
 * @brief The Retry-After (seconds) of a 503 queue_full: the time the hub needs to send what is
 * queued at its rate limit, 1 s when it has none, at most 60 s.
 */
unsigned retry_after_seconds(std::size_t queue_depth, double rate_limit) noexcept;

}  // namespace nhpush::api
