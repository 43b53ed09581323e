#pragma once
/** @file The checks Notification Hubs makes on a send request, done independently of how nhpush
 * builds requests (pure: no I/O). */

#include "hubsim/route.hpp"

#include <nhpush/notification.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::hubsim {

/** @brief The request type hubsim reads. */
using request = boost::beast::http::request<boost::beast::http::string_body>;

/** @brief A rejected request: the status and the sentence for the NH error body's Detail. */
struct check_error {
    unsigned status = 400;
    std::string message;
};

/** @brief What an accepted send carries (views into the request, valid while it lives). */
struct accepted_notification {
    notification_format format = notification_format::template_;
    std::string_view tags;                    ///< the tag expression; empty for a broadcast
    std::string_view device_handle;           ///< direct send
    std::vector<std::string> device_handles;  ///< direct batch send
    std::string_view payload;                 ///< the notification body (batch: its part)
    std::string_view client_id;               ///< the X-Nhpush-Id header, if any
};

/** @brief The smallest api-version that has `op` (direct sends need 2015-04, batches 2015-08). */
std::string_view minimum_api_version(operation op, bool direct) noexcept;

/**
 * @brief Checks the api-version query value: present and shaped `YYYY-MM` (optionally followed by
 * `-suffix`), and at least minimum_api_version().
 */
std::optional<check_error> check_api_version(const route& r);

/**
 * @brief Whether `content_type` (media type compared case-insensitively, parameters ignored) is
 * one the service takes for `format`: application/json for the JSON formats (baidu also
 * application/x-www-form-urlencoded), application/xml or text/xml for windows and windowsphone,
 * application/octet-stream for windows with `X-WNS-Type: wns/raw`.
 */
bool content_type_matches(notification_format format,
                          std::string_view content_type,
                          std::string_view wns_type) noexcept;

/** @brief The `boundary` parameter of a multipart Content-Type (quotes and spaces allowed). */
std::optional<std::string_view> multipart_boundary(std::string_view content_type) noexcept;

/** @brief One part of a multipart body (views into the body). */
struct multipart_part {
    std::string_view content_type;  ///< its Content-Type header
    std::string_view name;          ///< the `name` of its Content-Disposition
    std::string_view body;
};

/**
 * @brief Splits a multipart body (RFC 2046) into parts.
 * @returns a sentence saying what is wrong, or nullopt.
 */
std::optional<std::string> parse_multipart(std::string_view body,
                                           std::string_view boundary,
                                           std::vector<multipart_part>& parts);

/**
 * @brief Checks a send, batch or scheduled request as the service does: a known
 * ServiceBusNotification-Format, a Content-Type matching it, a body of at most 64 KB (413), an
 * APNs payload of at most 4 KB, X-WNS-Type for windows (and at most 5 KB for wns/raw), a tag
 * expression within NH's limits, a device handle for direct sends, a multipart body with 1 to
 * 1000 handles for batches, and a schedule time at most 7 days ahead for scheduled sends.
 * @returns the problem, or nullopt with `out` filled.
 */
std::optional<check_error> check_notification(const route& r,
                                              const request& req,
                                              std::chrono::system_clock::time_point now,
                                              accepted_notification& out);

}  // namespace nhpush::hubsim
