#include "nhpush/hub_settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace nhpush {
namespace {

using unit = setting_unit;

// ---- reaching a member, however deeply nested, from a list of member pointers ----

template <auto... Members>
auto& member_of(auto& config) {
    // clang-format off
    return (config .* ... .* Members);  // e.g. config.*timeouts.*read
    // clang-format on
}

template <auto... Members>
using member_type = std::remove_cvref_t<decltype(member_of<Members...>(std::declval<hub_client_config&>()))>;

template <class T>
setting_value to_value(const T& v) {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
        return v;
    } else if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
        return static_cast<std::int64_t>(v);
    } else {
        return static_cast<std::int64_t>(v.count());  // a duration
    }
}

template <class T>
void from_value(T& out, const setting_value& v) {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
        out = std::get<T>(v);
    } else if constexpr (std::is_same_v<T, int>) {
        // Clamped, so an absurd value stays absurd (and is reported) rather than wrapping round.
        out = static_cast<int>(std::clamp<std::int64_t>(
            std::get<std::int64_t>(v), std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    } else if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
        out = static_cast<T>(std::get<std::int64_t>(v));
    } else {
        out = T{std::get<std::int64_t>(v)};
    }
}

template <auto... Members>
setting_value get_member(const hub_client_config& c) {
    return to_value(member_of<Members...>(c));
}

template <auto... Members>
void set_member(hub_client_config& c, const setting_value& v) {
    from_value(member_of<Members...>(c), v);
}

// ---- building the table; a unit that does not fit the member's type does not compile ----

template <class T>
constexpr bool fits(unit u) {
    if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
        return u == unit::milliseconds;
    } else if constexpr (std::is_same_v<T, std::chrono::seconds>) {
        return u == unit::seconds;
    } else if constexpr (std::is_same_v<T, double>) {
        return u == unit::per_second;
    } else if constexpr (std::is_same_v<T, std::string>) {
        return u == unit::text;
    } else if constexpr (std::is_enum_v<T>) {
        return u == unit::choice;
    } else {
        return std::is_integral_v<T> && (u == unit::count || u == unit::bytes);
    }
}

// constexpr rather than consteval (clang 14 rejects a consteval call on a parameter inside another
// consteval function); `table` is constexpr, so a unit that does not fit still fails to compile.
template <auto... Members>
constexpr hub_setting entry(std::string_view key, unit u, std::string_view description) {
    if (!fits<member_type<Members...>>(u)) {
        throw "the unit does not fit the member's type";
    }
    hub_setting s{.key = key, .unit = u, .description = description};
    s.get = &get_member<Members...>;
    s.set = &set_member<Members...>;
    return s;
}

template <auto... Members>
constexpr hub_setting number(
    std::string_view key, unit u, std::int64_t min, std::int64_t max, std::string_view description) {
    auto s = entry<Members...>(key, u, description);
    s.min = min;
    s.max = max;
    return s;
}

bool is_api_version(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    });
}

// In the order of hub_protocol's values.
constexpr std::array<std::string_view, 3> protocol_names{"auto", "h2", "http1"};

using c = hub_client_config;
constexpr auto timeouts = &c::timeouts;
constexpr auto retry = &c::retry;
constexpr auto reconnect = &c::reconnect;
constexpr auto sas = &c::sas;

constexpr auto table = [] {
    auto protocol =
        entry<&c::protocol>("protocol",
                            unit::choice,
                            "HTTP version: auto (offer h2 and http/1.1 by ALPN), h2 only, or http1 only");
    protocol.choices = protocol_names;
    auto api_version = entry<&c::api_version>("api_version", unit::text, "The api-version of every request");
    api_version.text_rule = "look like 2020-06";
    api_version.text_ok = &is_api_version;
    return std::array{
        protocol,
        number<&c::min_connections>(
            "min_connections", unit::count, 0, 1024, "Connections kept open even when idle"),
        number<&c::max_connections>("max_connections",
                                    unit::count,
                                    1,
                                    1024,
                                    "Connections at most; more open as the work outstanding needs them"),
        number<&c::max_streams>(
            "max_streams", unit::count, 1, 1000, "Concurrent requests per HTTP/2 connection at most"),
        number<&c::idle_timeout>(
            "idle_timeout",
            unit::seconds,
            1,
            86'400,
            "A connection above min_connections closes after this long with nothing to do"),
        number<&c::ping_interval>("ping_interval",
                                  unit::seconds,
                                  0,
                                  3'600,
                                  "An idle HTTP/2 connection is pinged this often; 0: never"),
        number<&c::queue_capacity>(
            "queue_capacity", unit::count, 1, 10'000'000, "Notifications queued or in flight at most"),
        number<&c::rate_limit>(
            "rate_limit", unit::per_second, 0, 1'000'000, "Notifications a second at most; 0: no limit"),
        api_version,
        entry<&c::ca_file>("ca_file",
                           unit::text,
                           "PEM file of CAs to trust instead of the system store; empty: the system store"),
        number<timeouts, &timeouts_config::resolve>(
            "resolve_timeout", unit::milliseconds, 10, 600'000, "Resolving the hub's host name"),
        number<timeouts, &timeouts_config::connect>(
            "connect_timeout", unit::milliseconds, 10, 600'000, "Establishing the TCP connection"),
        number<timeouts, &timeouts_config::handshake>(
            "handshake_timeout", unit::milliseconds, 10, 600'000, "The TLS handshake"),
        number<timeouts, &timeouts_config::write>(
            "write_timeout", unit::milliseconds, 10, 600'000, "Writing one request"),
        number<timeouts, &timeouts_config::read>("read_timeout",
                                                 unit::milliseconds,
                                                 10,
                                                 600'000,
                                                 "From the end of the request to the whole response"),
        number<&c::connection_max_age>("connection_max_age",
                                       unit::seconds,
                                       0,
                                       86'400,
                                       "A connection is replaced after this long (DNS changes); 0: never"),
        number<retry, &retry_config::max_attempts>(
            "max_attempts", unit::count, 1, 100, "Attempts in all, the first included; 1: never retry"),
        number<retry, &retry_config::backoff_base>("backoff_base",
                                                   unit::milliseconds,
                                                   1,
                                                   3'600'000,
                                                   "Before the first retry, doubled for each further one"),
        number<retry, &retry_config::backoff_cap>(
            "backoff_cap", unit::milliseconds, 1, 3'600'000, "No retry delay or hub-wide pause exceeds this"),
        number<retry, &retry_config::throttle_default_pause>(
            "throttle_pause",
            unit::milliseconds,
            0,
            3'600'000,
            "The hub-wide pause after throttling without Retry-After; 0: none"),
        number<reconnect, &retry_config::backoff_base>("reconnect_base",
                                                       unit::milliseconds,
                                                       1,
                                                       3'600'000,
                                                       "Before reconnecting after a failed connect, doubled"),
        number<reconnect, &retry_config::backoff_cap>(
            "reconnect_cap", unit::milliseconds, 1, 3'600'000, "No reconnection delay exceeds this"),
        number<&c::notification_deadline>("deadline",
                                          unit::seconds,
                                          1,
                                          604'800,
                                          "A notification not sent this long after submission fails"),
        number<sas, &sas_token_config::lifetime>(
            "sas_token_lifetime", unit::seconds, 1, 31'536'000, "How long a SAS token is valid"),
        number<sas, &sas_token_config::renew_margin>("sas_renew_margin",
                                                     unit::seconds,
                                                     0,
                                                     31'536'000,
                                                     "A token is renewed this long before it expires"),
        number<&c::max_response_bytes>(
            "max_response_bytes", unit::bytes, 1024, 1 << 30, "Largest response body read from the hub"),
    };
}();

using rule = hub_setting_rule::relation;
constexpr std::array rules{
    hub_setting_rule{"min_connections", rule::not_more, "max_connections"},
    hub_setting_rule{"backoff_cap", rule::not_less, "backoff_base"},
    hub_setting_rule{"reconnect_cap", rule::not_less, "reconnect_base"},
    hub_setting_rule{"sas_renew_margin", rule::less, "sas_token_lifetime"},
};

// ---- checking ----

std::optional<std::string> check_integer(const hub_setting& s, std::int64_t v, std::string_view prefix) {
    if (s.unit == unit::choice) {
        if (v < 0 || static_cast<std::size_t>(v) >= s.choices.size()) {
            return fmt::format("{}{} must be one of {}", prefix, s.key, fmt::join(s.choices, ", "));
        }
        return std::nullopt;
    }
    if (v < s.min || v > s.max) {
        const auto name = unit_name(s.unit);
        return fmt::format(
            "{}{} must be between {} and {}{}{}", prefix, s.key, s.min, s.max, name.empty() ? "" : " ", name);
    }
    return std::nullopt;
}

std::optional<std::string> check_setting(const hub_setting& s,
                                         const setting_value& value,
                                         std::string_view prefix) {
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        return check_integer(s, *integer, prefix);
    }
    if (const auto* rate = std::get_if<double>(&value)) {
        if (!std::isfinite(*rate) || *rate < static_cast<double>(s.min) ||
            *rate > static_cast<double>(s.max)) {
            return fmt::format(
                "{}{} must be between {} and {} {}", prefix, s.key, s.min, s.max, unit_name(s.unit));
        }
        return std::nullopt;
    }
    if (s.text_ok != nullptr && !s.text_ok(std::get<std::string>(value))) {
        return fmt::format("{}{} must {}", prefix, s.key, s.text_rule);
    }
    return std::nullopt;
}

std::string_view relation_text(rule r) {
    switch (r) {
        case rule::not_less:
            return "must not be less than";
        case rule::less:
            return "must be less than";
        case rule::not_more:
            return "must not be more than";
    }
    return "";
}

bool holds(rule r, std::int64_t a, std::int64_t b) {
    switch (r) {
        case rule::not_less:
            return a >= b;
        case rule::less:
            return a < b;
        case rule::not_more:
            return a <= b;
    }
    return false;
}

// A TOML basic string; control characters cannot come from a TOML file's strings anyway.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + '"';
}

std::int64_t integer_of(std::string_view key, const hub_client_config& config) {
    return std::get<std::int64_t>(find_hub_setting(key)->get(config));
}

}  // namespace

std::span<const hub_setting> hub_settings() noexcept {
    return table;
}

std::span<const hub_setting_rule> hub_setting_rules() noexcept {
    return rules;
}

const hub_setting* find_hub_setting(std::string_view key) noexcept {
    const auto* found = std::find_if(table.begin(), table.end(), [&](const auto& s) { return s.key == key; });
    return found == table.end() ? nullptr : found;
}

std::optional<std::string> validate_hub_client_config(const hub_client_config& config,
                                                      std::string_view key_prefix) {
    for (const auto& s : table) {
        if (auto problem = check_setting(s, s.get(config), key_prefix)) {
            return problem;
        }
    }
    for (const auto& r : rules) {
        if (!holds(r.must, integer_of(r.key, config), integer_of(r.other, config))) {
            return fmt::format("{}{} {} {}{}", key_prefix, r.key, relation_text(r.must), key_prefix, r.other);
        }
    }
    return std::nullopt;
}

void require_valid_hub_client_config(const hub_client_config& config) {
    if (auto problem = validate_hub_client_config(config)) {
        throw std::invalid_argument(*problem);
    }
}

std::string format_setting_value(const hub_setting& setting, const setting_value& value) {
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        const bool named = setting.unit == unit::choice && *integer >= 0 &&
                           static_cast<std::size_t>(*integer) < setting.choices.size();
        return named ? quoted(setting.choices[static_cast<std::size_t>(*integer)])
                     : fmt::format("{}", *integer);
    }
    if (const auto* rate = std::get_if<double>(&value)) {
        return fmt::format("{}", *rate);
    }
    return quoted(std::get<std::string>(value));
}

std::string_view unit_name(setting_unit u) noexcept {
    switch (u) {
        case unit::bytes:
            return "bytes";
        case unit::milliseconds:
            return "milliseconds";
        case unit::seconds:
            return "seconds";
        case unit::per_second:
            return "notifications a second";
        default:
            return "";
    }
}

bool same_hub_settings(const hub_client_config& a, const hub_client_config& b) {
    return std::all_of(table.begin(), table.end(), [&](const auto& s) { return s.get(a) == s.get(b); });
}

}  // namespace nhpush
