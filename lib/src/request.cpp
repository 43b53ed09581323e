#include "nhpush/request.hpp"

#include "nhpush/header_field.hpp"

#include "detail/text.hpp"
#include "wire_request.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/beast/http/field.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <stdexcept>

namespace nhpush {
namespace {

namespace http = boost::beast::http;

bool is_hub_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
}

void set_common_headers(const hub_endpoint& ep, std::string_view authorization, hub_request& req) {
    req.set(http::field::host, ep.host_header);
    req.set(http::field::user_agent, user_agent());
    req.set(http::field::authorization, authorization);
}

std::string path_segment(std::string_view id) {
    return boost::urls::encode(id, boost::urls::unreserved_chars);
}

// The same gate as prepare_notification's, again where the bytes are written: a notification
// sent with async_send_prepared, or any future path, cannot put a line break into a header.
void refuse_if(std::optional<validation_error> problem) {
    if (problem) {
        throw std::invalid_argument(fmt::format("{}: {}", problem->field, problem->message));
    }
}

void refuse_bad_id(std::string_view id, std::string_view authorization) {
    if (id.empty()) {
        throw std::invalid_argument("id: a notification id is empty");
    }
    refuse_if(check_header_value("id", id, notification_id_rule));
    refuse_if(check_header_value("Authorization", authorization, authorization_rule));
}

const std::string& send_target(const hub_endpoint& ep, const notification& n) {
    if (!n.device_handles.empty()) {
        return ep.batch_target;
    }
    if (!n.device_handle.empty()) {
        return ep.direct_target;
    }
    if (n.schedule_at) {
        return ep.scheduled_target;
    }
    return n.test ? ep.test_target : ep.messages_target;
}

}  // namespace

std::string_view user_agent() noexcept {
    return "nhpush/" NHPUSH_VERSION;
}

hub_endpoint make_hub_endpoint(const connection_string& cs,
                               std::string_view hub,
                               std::string_view api_version) {
    if (hub.empty() || !std::all_of(hub.begin(), hub.end(), is_hub_name_char) || hub.front() == '/') {
        throw std::invalid_argument(
            fmt::format("hub name '{}' is empty or has characters a hub name cannot have", hub));
    }
    if (api_version.empty() || !std::all_of(api_version.begin(), api_version.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        })) {
        throw std::invalid_argument(fmt::format("api version '{}' is not of the form 2020-06", api_version));
    }
    hub_endpoint ep;
    ep.host = cs.host;
    ep.port = cs.port;
    ep.host_header = cs.port == "443" ? cs.host : cs.host + ":" + cs.port;
    ep.hub = std::string(hub);
    ep.api_version = std::string(api_version);
    ep.resource_uri = cs.endpoint + ep.hub;
    ep.messages_target = fmt::format("/{}/messages?api-version={}", hub, api_version);
    ep.direct_target = ep.messages_target + "&direct";
    ep.test_target = ep.messages_target + "&test";
    ep.batch_target = fmt::format("/{}/messages/$batch?api-version={}&direct", hub, api_version);
    ep.scheduled_target = fmt::format("/{}/schedulednotifications?api-version={}", hub, api_version);
    return ep;
}

std::string make_batch_body(const notification& n) {
    rapidjson::StringBuffer handles;
    rapidjson::Writer<rapidjson::StringBuffer> writer(handles);
    writer.StartArray();
    for (const auto& h : n.device_handles) {
        writer.String(h.data(), static_cast<rapidjson::SizeType>(h.size()));
    }
    writer.EndArray();
    return fmt::format(
        "--{0}\r\n"
        "Content-type: {1}\r\n"
        "Content-Disposition: inline; name=notification\r\n"
        "\r\n"
        "{2}\r\n"
        "--{0}\r\n"
        "Content-type: application/json\r\n"
        "Content-Disposition: inline; name=devices\r\n"
        "\r\n"
        "{3}\r\n"
        "--{0}--",
        batch_boundary,
        content_type_of(n),
        n.payload,
        handles.GetString());
}

void build_send_request(const hub_endpoint& ep,
                        const notification& n,
                        std::string_view authorization,
                        hub_request& req) {
    detail::wire_request w;
    detail::make_send_request(ep, n, authorization, w);
    detail::to_hub_request(w, req);
}

hub_request build_cancel_scheduled_request(const hub_endpoint& ep,
                                           std::string_view id,
                                           std::string_view authorization) {
    refuse_bad_id(id, authorization);
    hub_request req{
        http::verb::delete_,
        fmt::format("/{}/schedulednotifications/{}?api-version={}", ep.hub, path_segment(id), ep.api_version),
        11};
    set_common_headers(ep, authorization, req);
    req.prepare_payload();
    return req;
}

hub_request build_outcome_details_request(const hub_endpoint& ep,
                                          std::string_view id,
                                          std::string_view authorization) {
    refuse_bad_id(id, authorization);
    hub_request req{http::verb::get,
                    fmt::format("/{}/messages/{}?api-version={}", ep.hub, path_segment(id), ep.api_version),
                    11};
    set_common_headers(ep, authorization, req);
    return req;
}

}  // namespace nhpush

namespace nhpush::detail {
namespace {

// Beast's set(): a later platform header of the same name replaces an earlier one, in its place.
bool replaced_later(const std::vector<header>& headers, std::size_t i) {
    return std::any_of(headers.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                       headers.end(),
                       [&](const header& h) { return iequals(h.name, headers[i].name); });
}

}  // namespace

void make_send_request(const hub_endpoint& ep,
                       const notification& n,
                       std::string_view authorization,
                       wire_request& out) {
    refuse_if(check_header_fields(n));
    // A token serves many requests: checked once, then recognised by its bytes.
    if (authorization != out.checked_authorization) {
        refuse_if(check_header_value("Authorization", authorization, authorization_rule));
        out.checked_authorization = authorization;
    }
    out.method = "POST";
    out.target = send_target(ep, n);
    out.fields.clear();
    out.fields.emplace_back("Host", ep.host_header);
    out.fields.emplace_back("User-Agent", user_agent());
    out.fields.emplace_back("Authorization", authorization);
    out.fields.emplace_back("ServiceBusNotification-Format", to_string(n.format));
    if (!n.tags.empty()) {
        out.fields.emplace_back("ServiceBusNotification-Tags", n.tags);
    }
    if (!n.device_handle.empty()) {
        out.fields.emplace_back("ServiceBusNotification-DeviceHandle", n.device_handle);
    }
    if (n.schedule_at) {
        out.schedule_time = format_utc_iso8601(*n.schedule_at);
        out.fields.emplace_back("ServiceBusNotification-ScheduleTime", out.schedule_time);
    }
    for (std::size_t i = 0; i < n.headers.size(); ++i) {
        if (!replaced_later(n.headers, i)) {
            out.fields.emplace_back(n.headers[i].name, n.headers[i].value);
        }
    }
    if (n.device_handles.empty()) {
        out.fields.emplace_back("Content-Type", content_type_of(n));
        out.body = n.payload;
    } else {
        // Platform headers stay on the outer request; the parts carry only content types.
        out.content_type = fmt::format("multipart/mixed; boundary=\"{}\"", batch_boundary);
        out.fields.emplace_back("Content-Type", out.content_type);
        out.batch_body = make_batch_body(n);
        out.body = out.batch_body;
    }
    out.content_length = std::to_string(out.body.size());
    out.fields.emplace_back("Content-Length", out.content_length);
}

void view_request(const hub_request& req, wire_request& out) {
    out.method = req.method_string();
    out.target = req.target();
    out.fields.clear();
    for (const auto& f : req) {
        out.fields.emplace_back(f.name_string(), f.value());
    }
    out.body = req.body();
}

void to_hub_request(const wire_request& w, hub_request& req) {
    req = hub_request{};
    req.version(11);
    req.method_string(w.method);
    req.target(w.target);
    for (const auto& [name, value] : w.fields) {
        req.insert(name, value);
    }
    req.body() = w.body;
}

}  // namespace nhpush::detail
