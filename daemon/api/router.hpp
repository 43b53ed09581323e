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
    submit,               ///< POST /v1/notifications
    notification_status,  ///< GET /v1/notifications/{id}
    stats,                ///< GET /v1/stats
    metrics,              ///< GET /metrics
    health                ///< GET /healthz
};

/** @brief A request the router accepted. */
struct route {
    endpoint target = endpoint::health;
    std::string id;     ///< notification_status only, percent-decoded
    bool wait = false;  ///< submit with `?wait=true`

    bool operator==(const route&) const = default;
};

/** @brief A request the router refused; `allow` is the Allow header of a 405. */
struct route_error {
    api_error error;
    std::string_view allow;

    bool operator==(const route_error&) const = default;
};

/**
 * @brief Routes `method target`: 404 for an unknown path, 405 (with Allow) for a known path with
 * another method, 400 for a bad query (`wait` other than true/false/1/0, or any other parameter).
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
