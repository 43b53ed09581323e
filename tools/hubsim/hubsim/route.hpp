#pragma once
/** @file Mapping a request's method and target to a Notification Hubs operation (pure). */

#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

namespace nhpush::hubsim {

/** @brief What a request asks for. */
enum class operation : std::uint8_t {
    send,              ///< POST /{hub}/messages (tag, expression, broadcast, direct, test)
    batch_send,        ///< POST /{hub}/messages/$batch
    schedule,          ///< POST /{hub}/schedulednotifications
    cancel_scheduled,  ///< DELETE /{hub}/schedulednotifications/{id}
    get_details,       ///< GET /{hub}/messages/{id}
    get_stats,         ///< GET /$stats
    get_faults,        ///< GET /$admin/faults
    set_faults,        ///< POST /$admin/faults (replace) or PATCH (merge)
    unknown_path,      ///< no such resource: 404
    bad_method         ///< a known resource with the wrong method: 405
};

/** @brief True for the operations of the Notification Hubs API (not the admin ones). */
inline bool is_hub_operation(operation op) noexcept {
    return op <= operation::get_details || op == operation::unknown_path || op == operation::bad_method;
}

/**
 * @brief A parsed request target. Reused across requests (assigning keeps string capacity).
 */
struct route {
    operation op = operation::unknown_path;
    bool merge = false;       ///< PATCH on /$admin/faults
    std::string path;         ///< the decoded path, for the SAS audience check
    std::string hub;          ///< the decoded hub name
    std::string id;           ///< the decoded notification id (cancel, details)
    std::string api_version;  ///< the api-version query value; empty if absent
    bool direct = false;      ///< `direct` is in the query (any value)
    bool test = false;        ///< `test` is in the query (any value)
};

/**
 * @brief Fills `out` from the method and request target (origin form `/hub/messages?…`, or the
 * absolute form `https://host/hub/messages?…`).
 * A trailing `/` is ignored, fixed path words compare case-insensitively, `$batch` may be
 * percent-encoded.
 * @returns false if the target is not a valid URL in either form.
 */
bool parse_route(boost::beast::http::verb method, std::string_view target, route& out);

}  // namespace nhpush::hubsim
