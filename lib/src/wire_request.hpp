#pragma once
// A request as the connections write it: its method, target, header fields in order, and body,
// viewing the strings it was made from. Building it costs no allocation once its buffers have
// grown, where a Beast request allocates every field; HTTP/1.1 serialises it, HTTP/2 frames it.

#include "nhpush/request.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nhpush::detail {

/**
 * The views point at what make_send_request() or view_request() was given, and at the object's
 * own storage: not copyable or movable, made again for each request in the same object.
 */
struct wire_request {
    using field = std::pair<std::string_view, std::string_view>;

    std::string_view method;
    std::string_view target;
    std::vector<field> fields;  ///< in the order of build_send_request()'s, names as it spells them
    std::string_view body;

    // Values computed for the request, which `fields` and `body` view.
    std::string content_length;
    std::string content_type;
    std::string schedule_time;
    std::string batch_body;
    std::string checked_authorization;  ///< the last Authorization value the header gate passed

    wire_request() = default;
    wire_request(const wire_request&) = delete;
    wire_request& operator=(const wire_request&) = delete;
};

/**
 * The send request for `n`, as build_send_request() makes it and after the same checks: the header
 * gate for every value that becomes a header.
 * @throws std::invalid_argument as build_send_request() (`out` is then left as it was).
 */
void make_send_request(const hub_endpoint& ep,
                       const notification& n,
                       std::string_view authorization,
                       wire_request& out);

/// `req` as a wire_request viewing it (for queries, built as hub_request).
void view_request(const hub_request& req, wire_request& out);

/// The Beast request of `w`, for hub_client_config::on_exchange and build_send_request().
void to_hub_request(const wire_request& w, hub_request& req);

}  // namespace nhpush::detail
