#include "api/router.hpp"

#include <boost/url/pct_string_view.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
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

/// A query's parameters in order, percent-decoded by Boost.URL; empty ones (`a=1&&b=2`) are skipped.
using query_params = std::vector<std::pair<std::string, std::string>>;

route_error bad_query(std::string message) {
    return {{api_errc::bad_request, std::move(message), ""}, {}};
}

/// `s` percent-decoded (Boost.URL), or nullopt for a bad %-escape.
std::optional<std::string> percent_decoded(std::string_view s) {
    const auto encoded = boost::urls::make_pct_string_view(s);
    return encoded ? std::optional<std::string>(encoded->decode()) : std::nullopt;
}

// Split here, decoded by Boost.URL: its parse_query (1.81) reads past the end of a query that is a
// view into a longer buffer, as a request target is.
std::variant<query_params, route_error> parse_query_params(std::string_view query) {
    query_params out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (param.empty()) {
            continue;
        }
        const auto eq = param.find('=');
        auto name = percent_decoded(param.substr(0, eq));
        auto value =
            percent_decoded(eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1));
        if (!name || !value) {
            return bad_query(fmt::format("malformed query parameter '{}' (a bad %-escape)", param));
        }
        out.emplace_back(std::move(*name), std::move(*value));
    }
    return out;
}

// `wait=true` and nothing else; an empty query is fine.
std::variant<bool, route_error> parse_submit_query(std::string_view query) {
    auto params = parse_query_params(query);
    if (auto* e = std::get_if<route_error>(&params)) {
        return std::move(*e);
    }
    bool wait = false;
    for (const auto& [name, value] : std::get<query_params>(params)) {
        if (name != "wait") {
            return bad_query(fmt::format("unknown query parameter '{}'", name));
        }
        if (value == "true" || value == "1") {
            wait = true;
        } else if (value == "false" || value == "0") {
            wait = false;
        } else {
            return bad_query(fmt::format("wait must be true or false, not '{}'", value));
        }
    }
    return wait;
}

std::variant<route, route_error> only_get(method m, std::string_view path, route r) {
    if (m != method::get) {
        return not_allowed(path, "GET");
    }
    return r;
}

// `limit=N` and `after=ID`; an empty query is fine.
std::variant<route, route_error> parse_dead_letters_query(std::string_view query) {
    route r{endpoint::dead_letters_list};
    r.limit = default_dead_letter_limit;
    auto params = parse_query_params(query);
    if (auto* e = std::get_if<route_error>(&params)) {
        return std::move(*e);
    }
    for (const auto& [name, value] : std::get<query_params>(params)) {
        if (name == "limit") {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n == 0 ||
                n > max_dead_letter_limit) {
                return bad_query(fmt::format(
                    "limit must be a number from 1 to {}, not '{}'", max_dead_letter_limit, value));
            }
            r.limit = n;
        } else if (name == "after") {
            if (value.empty()) {
                return bad_query("after must be a dead letter's id, not empty");
            }
            r.after = value;
        } else {
            return bad_query(fmt::format("unknown query parameter '{}'", name));
        }
    }
    return r;
}

/// The `{id}` of `prefix/{id}`, or `prefix/{id}/suffix` when `suffix` is given; nullopt otherwise.
std::optional<std::string> id_in(std::string_view path,
                                 std::string_view prefix,
                                 std::string_view suffix = {}) {
    if (!path.starts_with(prefix) || path.size() <= prefix.size() + 1 || path[prefix.size()] != '/') {
        return std::nullopt;
    }
    auto rest = path.substr(prefix.size() + 1);
    if (!suffix.empty()) {
        if (!rest.ends_with(suffix) || rest.size() <= suffix.size() + 1 ||
            rest[rest.size() - suffix.size() - 1] != '/') {
            return std::nullopt;
        }
        rest = rest.substr(0, rest.size() - suffix.size() - 1);
    }
    auto id = percent_decoded(rest);
    if (!id || id->empty() || id->find('/') != std::string::npos) {
        return std::nullopt;
    }
    return id;
}

constexpr std::string_view dead_letters_path = "/v1/dead-letters";

std::variant<route, route_error> route_notification(method m, std::string_view path) {
    if (auto id = id_in(path, notifications_path, "details")) {
        return only_get(m, path, {endpoint::notification_details, std::move(*id)});
    }
    auto id = id_in(path, notifications_path);
    if (!id) {
        return not_found(path);
    }
    if (m == method::get) {
        return route{endpoint::notification_status, std::move(*id)};
    }
    if (m == method::del) {
        return route{endpoint::notification_cancel, std::move(*id)};
    }
    return not_allowed(path, "GET, DELETE");
}

std::variant<route, route_error> route_dead_letters(method m, std::string_view path, std::string_view query) {
    if (path == dead_letters_path) {
        if (m == method::get) {
            return parse_dead_letters_query(query);
        }
        if (m == method::del) {
            return route{endpoint::dead_letters_purge};
        }
        return not_allowed(path, "GET, DELETE");
    }
    if (auto id = id_in(path, dead_letters_path, "requeue")) {
        if (m != method::post) {
            return not_allowed(path, "POST");
        }
        return route{endpoint::dead_letter_requeue, std::move(*id)};
    }
    return not_found(path);
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
        return route_notification(m, path);
    }
    if (path == dead_letters_path || path.starts_with(std::string(dead_letters_path) + "/")) {
        return route_dead_letters(m, path, query);
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
