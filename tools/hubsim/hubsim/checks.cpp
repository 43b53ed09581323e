// Request checks as Notification Hubs makes them (nh-rest.md §2, §3, §4.1, §6).

#include "hubsim/checks.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

namespace nhpush::hubsim {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view format_header = "ServiceBusNotification-Format";
constexpr std::string_view tags_header = "ServiceBusNotification-Tags";
constexpr std::string_view handle_header = "ServiceBusNotification-DeviceHandle";
constexpr std::string_view schedule_header = "ServiceBusNotification-ScheduleTime";
constexpr std::string_view wns_type_header = "X-WNS-Type";
constexpr std::string_view client_id_header = "X-Nhpush-Id";

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) noexcept {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

std::string_view media_type(std::string_view content_type) noexcept {
    return trim(content_type.substr(0, content_type.find(';')));
}

template <class Name>
std::string_view header_of(const request& req, Name name) {
    const auto it = req.find(name);
    return it == req.end() ? std::string_view{} : std::string_view{it->value()};
}

bool is_json_format(notification_format f) noexcept {
    return f != notification_format::windows && f != notification_format::windowsphone;
}

/// Client-supplied values are cut short in error messages.
std::string shorten(std::string_view s) {
    return s.size() <= 80 ? std::string(s) : fmt::format("{}…", s.substr(0, 80));
}

std::optional<check_error> bad_request(std::string message) {
    return check_error{400, std::move(message)};
}

std::optional<check_error> check_format_headers(const request& req, accepted_notification& out) {
    const auto name = header_of(req, format_header);
    if (name.empty()) {
        return bad_request("The ServiceBusNotification-Format header is missing");
    }
    const auto format = parse_format(name);
    if (!format) {
        return bad_request(fmt::format("'{}' is not a supported notification format", shorten(name)));
    }
    out.format = *format;
    if (*format == notification_format::windows) {
        const auto type = header_of(req, wns_type_header);
        if (type.empty()) {
            return bad_request("The X-WNS-Type header is required for windows notifications");
        }
        if (type != "wns/toast" && type != "wns/tile" && type != "wns/badge" && type != "wns/raw") {
            return bad_request(fmt::format("X-WNS-Type '{}' is not wns/toast, wns/tile, wns/badge or wns/raw",
                                           shorten(type)));
        }
    }
    return std::nullopt;
}

std::optional<check_error> check_content_type(notification_format format,
                                              std::string_view content_type,
                                              std::string_view wns_type) {
    if (content_type.empty()) {
        return bad_request("The Content-Type header is missing");
    }
    if (!content_type_matches(format, content_type, wns_type)) {
        return bad_request(fmt::format("The content type '{}' does not match the notification format '{}'",
                                       shorten(content_type),
                                       to_string(format)));
    }
    return std::nullopt;
}

std::optional<check_error> check_payload(const request& req, const accepted_notification& n) {
    if (n.payload.empty()) {
        return bad_request("The notification body is empty");
    }
    if (n.format == notification_format::apple &&
        n.payload.size() > notification_limits::max_apns_payload_bytes) {
        return bad_request(fmt::format("The APNs payload is {} bytes; the limit is {} bytes",
                                       n.payload.size(),
                                       notification_limits::max_apns_payload_bytes));
    }
    if (n.format == notification_format::windows && header_of(req, wns_type_header) == "wns/raw" &&
        n.payload.size() > notification_limits::max_wns_raw_bytes) {
        return bad_request(fmt::format("The wns/raw payload is {} bytes; the limit is {} bytes",
                                       n.payload.size(),
                                       notification_limits::max_wns_raw_bytes));
    }
    return std::nullopt;
}

std::optional<check_error> check_tags(const request& req, accepted_notification& out) {
    out.tags = trim(header_of(req, tags_header));
    if (out.tags.empty()) {
        return std::nullopt;  // a broadcast
    }
    if (auto e = validate_tag_expression(out.tags)) {
        return bad_request(fmt::format("Invalid tag expression: {}", e->message));
    }
    return std::nullopt;
}

std::optional<check_error> read_devices(std::string_view json, std::vector<std::string>& out) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsArray()) {
        return bad_request("The devices part must be a JSON array of device handles");
    }
    if (doc.Empty() || doc.Size() > notification_limits::max_batch_handles) {
        return bad_request(fmt::format("A batch must have 1 to {} device handles; it has {}",
                                       notification_limits::max_batch_handles,
                                       doc.Size()));
    }
    out.clear();
    for (const auto& v : doc.GetArray()) {
        if (!v.IsString() || v.GetStringLength() == 0) {
            return bad_request("Every device handle of a batch must be a non-empty string");
        }
        out.emplace_back(v.GetString(), v.GetStringLength());
    }
    return std::nullopt;
}

std::optional<check_error> check_batch(const request& req, accepted_notification& out) {
    const auto content_type = header_of(req, http::field::content_type);
    if (!iequals(media_type(content_type), "multipart/mixed")) {
        return bad_request("A batch must have Content-Type multipart/mixed");
    }
    const auto boundary = multipart_boundary(content_type);
    if (!boundary) {
        return bad_request("The multipart/mixed Content-Type has no boundary");
    }
    std::vector<multipart_part> parts;
    if (auto problem = parse_multipart(req.body(), *boundary, parts)) {
        return bad_request(*problem);
    }
    const auto named = [&](std::string_view name, std::size_t fallback) -> const multipart_part* {
        const auto it =
            std::find_if(parts.begin(), parts.end(), [&](const auto& p) { return p.name == name; });
        return it != parts.end() ? &*it : fallback < parts.size() ? &parts[fallback] : nullptr;
    };
    const auto* notification = named("notification", 0);
    const auto* devices = named("devices", 1);
    if (notification == nullptr || devices == nullptr || notification == devices) {
        return bad_request("A batch needs a notification part and a devices part");
    }
    if (auto e =
            check_content_type(out.format, notification->content_type, header_of(req, wns_type_header))) {
        return e;
    }
    out.payload = notification->body;
    return read_devices(devices->body, out.device_handles);
}

std::optional<check_error> check_schedule_time(const request& req,
                                               std::chrono::system_clock::time_point now) {
    const auto text = trim(header_of(req, schedule_header));
    if (text.empty()) {
        return bad_request("The ServiceBusNotification-ScheduleTime header is missing");
    }
    // .NET sends UTC without a zone (`2024-05-01T12:00:00`).
    auto when = parse_rfc3339(text);
    if (!when) {
        when = parse_rfc3339(fmt::format("{}Z", text));
    }
    if (!when) {
        return bad_request(
            fmt::format("ServiceBusNotification-ScheduleTime '{}' is not an ISO 8601 time", shorten(text)));
    }
    if (*when > now + notification_limits::max_schedule_ahead) {
        return bad_request("A notification can be scheduled at most 7 days ahead");
    }
    return std::nullopt;
}

int api_version_order(std::string_view v) noexcept {
    // YYYY-MM as a number; -1 if not shaped like that.
    if (v.size() < 7 || v[4] != '-' || (v.size() > 7 && v[7] != '-')) {
        return -1;
    }
    int n = 0;
    for (std::size_t i : {0, 1, 2, 3, 5, 6}) {
        if (!std::isdigit(static_cast<unsigned char>(v[i]))) {
            return -1;
        }
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

}  // namespace

std::string_view minimum_api_version(operation op, bool direct) noexcept {
    if (op == operation::batch_send) {
        return "2015-08";
    }
    return op == operation::send && direct ? "2015-04" : "2013-10";
}

std::optional<check_error> check_api_version(const route& r) {
    if (r.api_version.empty()) {
        return bad_request("The api-version query parameter is required");
    }
    const auto order = api_version_order(r.api_version);
    if (order < 0) {
        return bad_request(fmt::format("The api-version '{}' is not valid", shorten(r.api_version)));
    }
    const auto minimum = minimum_api_version(r.op, r.direct);
    if (order < api_version_order(minimum)) {
        return bad_request(fmt::format(
            "The api-version '{}' does not support this operation; use {} or later", r.api_version, minimum));
    }
    return std::nullopt;
}

bool content_type_matches(notification_format format,
                          std::string_view content_type,
                          std::string_view wns_type) noexcept {
    const auto media = media_type(content_type);
    if (format == notification_format::windows && wns_type == "wns/raw") {
        return iequals(media, "application/octet-stream");
    }
    if (!is_json_format(format)) {
        return iequals(media, "application/xml") || iequals(media, "text/xml");
    }
    return iequals(media, "application/json") ||
           (format == notification_format::baidu && iequals(media, "application/x-www-form-urlencoded"));
}

std::optional<std::string_view> multipart_boundary(std::string_view content_type) noexcept {
    auto rest = content_type;
    while (true) {
        const auto semi = rest.find(';');
        if (semi == std::string_view::npos) {
            return std::nullopt;
        }
        rest = rest.substr(semi + 1);
        const auto param = trim(rest.substr(0, rest.find(';')));
        const auto eq = param.find('=');
        if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "boundary")) {
            continue;
        }
        auto value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (value.empty() || value.size() > 70) {
            return std::nullopt;
        }
        return value;
    }
}

std::optional<std::string> parse_multipart(std::string_view body,
                                           std::string_view boundary,
                                           std::vector<multipart_part>& parts) {
    parts.clear();
    const std::string delimiter = fmt::format("--{}", boundary);
    auto pos = body.starts_with(delimiter) ? 0 : body.find("\r\n" + delimiter);
    if (pos == std::string_view::npos) {
        return "The multipart body does not contain its boundary";
    }
    pos = body.find(delimiter, pos) + delimiter.size();
    while (true) {
        if (body.substr(pos, 2) == "--") {
            return parts.empty() ? std::optional<std::string>("The multipart body has no parts")
                                 : std::nullopt;
        }
        if (body.substr(pos, 2) != "\r\n") {
            return "A multipart boundary line must end with CRLF";
        }
        pos += 2;
        const auto headers_end = body.find("\r\n\r\n", pos);
        const auto next = body.find("\r\n" + delimiter, pos);
        if (next == std::string_view::npos) {
            return "The multipart body does not end with its closing boundary";
        }
        multipart_part part;
        std::string_view headers;
        if (body.substr(pos, 2) == "\r\n") {
            part.body = body.substr(pos + 2, next - pos - 2);  // a part without headers
        } else if (headers_end == std::string_view::npos || headers_end > next) {
            return "A multipart part has no blank line after its headers";
        } else {
            headers = body.substr(pos, headers_end - pos);
            part.body = body.substr(headers_end + 4, next - headers_end - 4);
        }
        while (!headers.empty()) {
            const auto line_end = headers.find("\r\n");
            const auto line = headers.substr(0, line_end);
            headers = line_end == std::string_view::npos ? std::string_view{} : headers.substr(line_end + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) {
                return "A multipart part header has no colon";
            }
            const auto name = trim(line.substr(0, colon));
            const auto value = trim(line.substr(colon + 1));
            if (iequals(name, "Content-Type")) {
                part.content_type = value;
            } else if (iequals(name, "Content-Disposition")) {
                if (const auto n = value.find("name="); n != std::string_view::npos) {
                    part.name = trim(value.substr(n + 5, value.find(';', n) - n - 5));
                    if (part.name.size() >= 2 && part.name.front() == '"' && part.name.back() == '"') {
                        part.name = part.name.substr(1, part.name.size() - 2);
                    }
                }
            }
        }
        parts.push_back(part);
        pos = next + 2 + delimiter.size();
    }
}

std::optional<check_error> check_notification(const route& r,
                                              const request& req,
                                              std::chrono::system_clock::time_point now,
                                              accepted_notification& out) {
    out = {};
    if (req.body().size() > notification_limits::max_body_bytes) {
        return check_error{413, "The message size cannot be over 64 Kb"};
    }
    if (auto e = check_format_headers(req, out)) {
        return e;
    }
    out.client_id = header_of(req, client_id_header);
    const auto wns_type = header_of(req, wns_type_header);
    if (r.op == operation::batch_send) {
        if (!r.direct) {
            return bad_request("A batch send needs the direct query parameter");
        }
        if (auto e = check_batch(req, out)) {
            return e;
        }
        return check_payload(req, out);
    }
    if (auto e = check_content_type(out.format, header_of(req, http::field::content_type), wns_type)) {
        return e;
    }
    out.payload = req.body();
    if (auto e = check_payload(req, out)) {
        return e;
    }
    if (r.op == operation::schedule) {
        if (auto e = check_schedule_time(req, now)) {
            return e;
        }
    } else if (r.direct) {
        out.device_handle = trim(header_of(req, handle_header));
        if (out.device_handle.empty()) {
            return bad_request("A direct send needs the ServiceBusNotification-DeviceHandle header");
        }
        return std::nullopt;
    }
    return check_tags(req, out);
}

}  // namespace nhpush::hubsim
