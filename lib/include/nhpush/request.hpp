#pragma once
/** @file Building Notification Hubs REST requests (pure: no I/O). */

#include "nhpush/connection_string.hpp"
#include "nhpush/notification.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>

namespace nhpush {

/** @brief The request type nhpush sends to a hub. */
using hub_request = boost::beast::http::request<boost::beast::http::string_body>;

/** @brief The current data-plane api-version of all official SDKs. */
inline constexpr std::string_view default_api_version = "2020-06";

/** @brief The User-Agent nhpush sends. */
std::string_view user_agent() noexcept;

/**
 * @brief Where one hub lives, with every request target computed once.
 *
 * Immutable after make_hub_endpoint(); share it freely between threads.
 */
struct hub_endpoint {
    std::string host;              ///< for SNI, certificate checks and the Host header
    std::string port;              ///< "443" unless the connection string names another
    std::string host_header;       ///< `host` or `host:port`
    std::string hub;               ///< the hub's name
    std::string api_version;       ///< e.g. 2020-06
    std::string resource_uri;      ///< `https://host[:port]/hub`: what SAS tokens are signed for
    std::string messages_target;   ///< `/hub/messages?api-version=…`
    std::string direct_target;     ///< `…&direct`
    std::string test_target;       ///< `…&test`
    std::string batch_target;      ///< `/hub/messages/$batch?api-version=…&direct`
    std::string scheduled_target;  ///< `/hub/schedulednotifications?api-version=…`
};

/**
 * @brief Computes a hub's endpoint from its connection string.
 * @throws std::invalid_argument if the hub name or api-version is empty or has characters
 *         that cannot appear in a hub name.
 */
hub_endpoint make_hub_endpoint(const connection_string& cs,
                               std::string_view hub,
                               std::string_view api_version = default_api_version);

/** @brief The fixed multipart boundary of direct batch sends, as the .NET and Java SDKs use. */
inline constexpr std::string_view batch_boundary = "nh-batch-multipart-boundary";

/**
 * @brief Fills `req` with the send request for a prepared notification.
 *
 * Chooses the operation from the targeting: direct batch, direct, scheduled, test or tag/broadcast
 * send. `req` is reset first, so one object can be reused for many requests.
 * @pre prepare_notification(n) returned no error.
 * @throws std::invalid_argument, naming the field and the problem, if a value that becomes a
 *         header fails check_header_fields() or `authorization` fails authorization_rule (the
 *         same checks prepare_notification() makes; `req` is then left as it was).
 */
void build_send_request(const hub_endpoint& ep,
                        const notification& n,
                        std::string_view authorization,
                        hub_request& req);

/** @brief The multipart/mixed body of a direct batch send (nh-rest.md §3.4). */
std::string make_batch_body(const notification& n);

/**
 * @brief `DELETE /hub/schedulednotifications/{id}`.
 * @throws std::invalid_argument if `id` is empty or fails notification_id_rule, or `authorization`
 *         fails authorization_rule.
 */
hub_request build_cancel_scheduled_request(const hub_endpoint& ep,
                                           std::string_view id,
                                           std::string_view authorization);

/**
 * @brief `GET /hub/messages/{id}`: per-message telemetry.
 * @throws std::invalid_argument as build_cancel_scheduled_request().
 */
hub_request build_outcome_details_request(const hub_endpoint& ep,
                                          std::string_view id,
                                          std::string_view authorization);

}  // namespace nhpush
