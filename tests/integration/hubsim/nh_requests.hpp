#pragma once
// Notification Hubs requests written out by hand for the hubsim tests (independent of how the nhpush
// library builds them), and small readers of hubsim's answers.

#include "hubsim_process.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

namespace nhpush::testing {

inline constexpr std::string_view json_type = "application/json;charset=utf-8";
inline constexpr std::string_view apple_body = R"({"aps":{"alert":"hello from a hubsim test"}})";

/// POST /{hub}/messages?api-version=2020-06{query} with a valid token for the hub.
inline http_request nh_send(const hubsim_process& hub,
                            std::string_view hub_name = "myhub",
                            std::string_view format = "apple",
                            std::string body = std::string(apple_body),
                            std::string_view content_type = json_type,
                            std::string_view query = "") {
    auto req = make_request(boost::beast::http::verb::post,
                            fmt::format("/{}/messages?api-version=2020-06{}", hub_name, query),
                            std::move(body));
    req.set(boost::beast::http::field::authorization, hub.sas_token(hub_name));
    req.set(boost::beast::http::field::content_type, content_type);
    req.set("ServiceBusNotification-Format", format);
    return req;
}

/// The text of `<element>` in an XML body (first occurrence), or empty.
inline std::string xml_text(std::string_view xml, std::string_view element) {
    const auto open = fmt::format("<{}>", element);
    const auto begin = xml.find(open);
    if (begin == std::string_view::npos) {
        return {};
    }
    const auto start = begin + open.size();
    return std::string(xml.substr(start, xml.find(fmt::format("</{}>", element), start) - start));
}

/// The Detail of an NH error body.
inline std::string error_detail(const http_response& res) {
    return xml_text(res.body(), "Detail");
}

}  // namespace nhpush::testing
