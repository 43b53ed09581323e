#include "api/router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

namespace nhpush::api {
namespace {

constexpr std::string_view notifications_path = "/v1/notifications";

route_error not_found(std::string_view path) {
    return {{api_errc::not_found, fmt::format("no endpoint {}", path), ""}, {}};
}

route_error not_allowed(std::string_view path, std::string_view allow) {
    return {{api_errc::method_not_allowed, fmt::format("{} takes {}", path, allow), ""}, allow};
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// `wait=true` and nothing else; an empty query is fine.
std::variant<bool, route_error> parse_submit_query(std::string_view query) {
    bool wait = false;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (param.empty()) {
            continue;
        }
        const auto eq = param.find('=');
        const auto name = param.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
        if (name != "wait") {
            return route_error{{api_errc::bad_request, fmt::format("unknown query parameter '{}'", name), ""},
                               {}};
        }
        if (value == "true" || value == "1") {
            wait = true;
        } else if (value == "false" || value == "0") {
            wait = false;
        } else {
            return route_error{
                {api_errc::bad_request, fmt::format("wait must be true or false, not '{}'", value), ""}, {}};
        }
    }
    return wait;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/// `%XX` sequences decoded (clients may encode `:` or `@` of an id); nullopt for a broken one.
std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
        i += 2;
    }
    return out;
}

std::variant<route, route_error> only_get(method m, std::string_view path, route r) {
    if (m != method::get) {
        return not_allowed(path, "GET");
    }
    return r;
}

}  // namespace

std::variant<route, route_error> route_request(method m, std::string_view target) {
    const auto question = target.find('?');
    const auto path = target.substr(0, question);
    const auto query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

    if (path == notifications_path) {
        if (m != method::post) {
            return not_allowed(path, "POST");
        }
        auto wait = parse_submit_query(query);
        if (auto* e = std::get_if<route_error>(&wait)) {
            return *e;
        }
        return route{endpoint::submit, {}, std::get<bool>(wait)};
    }
    if (path.starts_with(notifications_path) && path.size() > notifications_path.size() + 1 &&
        path[notifications_path.size()] == '/') {
        auto id = percent_decode(path.substr(notifications_path.size() + 1));
        if (!id || id->empty() || id->find('/') != std::string::npos) {
            return not_found(path);
        }
        return only_get(m, path, {endpoint::notification_status, std::move(*id), false});
    }
    if (path == "/v1/stats") {
        return only_get(m, path, {endpoint::stats});
    }
    if (path == "/metrics") {
        return only_get(m, path, {endpoint::metrics});
    }
    if (path == "/healthz") {
        return only_get(m, path, {endpoint::health});
    }
    return not_found(path);
}

std::variant<body_kind, api_error> classify_content_type(std::string_view content_type) {
    const auto media = trim(content_type.substr(0, content_type.find(';')));
    if (media.empty() && trim(content_type).empty()) {
        return body_kind::json;
    }
    if (iequals(media, "application/json")) {
        return body_kind::json;
    }
    if (iequals(media, "application/x-ndjson")) {
        return body_kind::ndjson;
    }
    return api_error{
        api_errc::unsupported_media_type,
        fmt::format("Content-Type must be application/json or application/x-ndjson, not '{}'", content_type),
        ""};
}

unsigned retry_after_seconds(std::size_t queue_depth, double rate_limit) noexcept {
    constexpr unsigned most = 60;
    if (rate_limit <= 0) {
        return 1;
    }
    const double seconds = std::ceil(static_cast<double>(queue_depth) / rate_limit);
    return static_cast<unsigned>(std::clamp(seconds, 1.0, static_cast<double>(most)));
}

}  // namespace nhpush::api
