#pragma once
/**
 * @file Every setting of hub_client_config, listed once: its key (nhpushd's TOML key), where it lives
 * in the struct, its unit, limits, default and meaning. The library's validator, nhpushd's TOML
 * reader, `nhpushd --check-config` and the docs' table all follow this list.
 *
 * A new setting: its member in hub_client_config (with its default), one line in the table in
 * hub_settings.cpp, a row in docs/configuration.md and a line in config/nhpushd.example.toml (unit
 * tests fail until the last two are there).
 */

#include "nhpush/notification_hub.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace nhpush {

/** @brief How a setting is written and what its number counts. */
enum class setting_unit {
    count,         ///< an integer
    bytes,         ///< an integer number of bytes
    milliseconds,  ///< an integer number of milliseconds
    seconds,       ///< an integer number of seconds
    per_second,    ///< a rate, fractions allowed
    text,          ///< a string
    choice         ///< one of a few names (an enum)
};

/// A setting's value outside the struct: integers (counts, durations, a choice's index), a rate, or text.
using setting_value = std::variant<std::int64_t, double, std::string>;

/** @brief One setting of hub_client_config. */
struct hub_setting {
    std::string_view key;  ///< the TOML key of [hubs.NAME]; the member's name where it can be
    setting_unit unit;
    std::int64_t min = 0;  ///< numbers only, inclusive
    std::int64_t max = 0;
    std::span<const std::string_view> choices;  ///< choice only: the names, in the enum's order
    /// text only: what a valid value looks like ("look like 2020-06"), and the check; null = any text.
    std::string_view text_rule;
    bool (*text_ok)(std::string_view) = nullptr;
    std::string_view description;  ///< one line, for docs and --check-config
    setting_value (*get)(const hub_client_config&);
    void (*set)(hub_client_config&, const setting_value&);  ///< the value must be of the unit's type

    /// The default is hub_client_config{}'s, so it is written down once, in the struct.
    setting_value default_value() const { return get(hub_client_config{}); }
};

/** @brief How two settings must compare, e.g. `backoff_cap` not less than `backoff_base`. */
struct hub_setting_rule {
    enum class relation { not_less, less, not_more };
    std::string_view key;
    relation must;
    std::string_view other;
};

/** @brief Every setting, in the order the docs and --check-config list them. */
std::span<const hub_setting> hub_settings() noexcept;

/** @brief The rules between settings, checked after each setting's own limits. */
std::span<const hub_setting_rule> hub_setting_rules() noexcept;

/** @brief The setting with TOML key `key`, or nullptr. */
const hub_setting* find_hub_setting(std::string_view key) noexcept;

/**
 * @brief The first problem of `config`, as a message naming the key (`max_connections must be
 * between 1 and 1024`), or nullopt when it is valid. `key_prefix` goes before every key named
 * (nhpushd passes `hubs.NAME.`).
 */
std::optional<std::string> validate_hub_client_config(const hub_client_config& config,
                                                      std::string_view key_prefix = "");

/** @brief As validate_hub_client_config(). @throws std::invalid_argument with its message. */
void require_valid_hub_client_config(const hub_client_config& config);

/** @brief The value as written in TOML: `64`, `5000`, `2.5`, `"auto"`, `"2020-06"`. */
std::string format_setting_value(const hub_setting& setting, const setting_value& value);

/** @brief The unit as a word for messages and docs ("milliseconds"), or "" for counts, text, choices. */
std::string_view unit_name(setting_unit unit) noexcept;

/** @brief True when every setting of the table is equal (on_exchange is not a setting). */
bool same_hub_settings(const hub_client_config& a, const hub_client_config& b);

}  // namespace nhpush
