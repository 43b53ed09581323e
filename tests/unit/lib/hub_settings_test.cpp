#include <nhpush/hub_settings.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>

using namespace std::chrono;
using nhpush::find_hub_setting;
using nhpush::hub_client_config;
using nhpush::hub_protocol;
using nhpush::hub_settings;
using nhpush::setting_unit;
using nhpush::setting_value;
using nhpush::validate_hub_client_config;

namespace {

/// The message for `config`, or "" when valid.
std::string problem_of(const hub_client_config& config, std::string_view prefix = "") {
    return validate_hub_client_config(config, prefix).value_or("");
}

TEST(hub_settings, keys_are_unique_and_found) {
    std::set<std::string_view> keys;
    for (const auto& s : hub_settings()) {
        EXPECT_TRUE(keys.insert(s.key).second) << s.key;
        EXPECT_EQ(find_hub_setting(s.key), &s);
        EXPECT_FALSE(s.description.empty()) << s.key;
    }
    EXPECT_EQ(find_hub_setting("connections"), nullptr);
}

TEST(hub_settings, the_defaults_are_valid) {
    EXPECT_EQ(problem_of(hub_client_config{}), "");
}

TEST(hub_settings, rules_name_settings_of_the_table) {
    for (const auto& r : nhpush::hub_setting_rules()) {
        EXPECT_NE(find_hub_setting(r.key), nullptr) << r.key;
        EXPECT_NE(find_hub_setting(r.other), nullptr) << r.other;
    }
}

TEST(hub_settings, each_key_reaches_its_member) {
    hub_client_config c;
    const auto set = [&](std::string_view key, setting_value v) { find_hub_setting(key)->set(c, v); };
    set("protocol", std::int64_t{2});
    set("min_connections", std::int64_t{3});
    set("max_connections", std::int64_t{9});
    set("max_streams", std::int64_t{7});
    set("idle_timeout", std::int64_t{11});
    set("ping_interval", std::int64_t{0});
    set("rate_limit", 2.5);
    set("api_version", std::string("2015-01"));
    set("ca_file", std::string("/ca.pem"));
    set("read_timeout", std::int64_t{15});
    set("max_attempts", std::int64_t{5});
    set("throttle_pause", std::int64_t{9});
    set("reconnect_cap", std::int64_t{12});
    set("deadline", std::int64_t{19});
    set("sas_renew_margin", std::int64_t{5});
    set("max_response_bytes", std::int64_t{4096});
    EXPECT_EQ(c.protocol, hub_protocol::http1);
    EXPECT_EQ(c.min_connections, 3u);
    EXPECT_EQ(c.max_connections, 9u);
    EXPECT_EQ(c.max_streams, 7u);
    EXPECT_EQ(c.idle_timeout, 11s);
    EXPECT_EQ(c.ping_interval, 0s);
    EXPECT_EQ(c.rate_limit, 2.5);
    EXPECT_EQ(c.api_version, "2015-01");
    EXPECT_EQ(c.ca_file, "/ca.pem");
    EXPECT_EQ(c.timeouts.read, 15ms);
    EXPECT_EQ(c.retry.max_attempts, 5);
    EXPECT_EQ(c.retry.throttle_default_pause, 9ms);
    EXPECT_EQ(c.reconnect.backoff_cap, 12ms);
    EXPECT_EQ(c.notification_deadline, 19s);
    EXPECT_EQ(c.sas.renew_margin, 5s);
    EXPECT_EQ(c.max_response_bytes, 4096u);
    EXPECT_EQ(find_hub_setting("max_connections")->get(c), setting_value{std::int64_t{9}});
}

TEST(hub_settings, messages_name_the_key_and_its_limits) {
    hub_client_config c;
    c.max_connections = 0;
    EXPECT_EQ(problem_of(c), "max_connections must be between 1 and 1024");
    EXPECT_EQ(problem_of(c, "hubs.main."), "hubs.main.max_connections must be between 1 and 1024");
    c = {};
    c.max_streams = 1001;
    EXPECT_EQ(problem_of(c), "max_streams must be between 1 and 1000");
    c = {};
    c.idle_timeout = 0s;
    EXPECT_EQ(problem_of(c), "idle_timeout must be between 1 and 86400 seconds");
    c = {};
    c.timeouts.connect = 5ms;
    EXPECT_EQ(problem_of(c), "connect_timeout must be between 10 and 600000 milliseconds");
    c = {};
    c.rate_limit = std::nan("");
    EXPECT_EQ(problem_of(c), "rate_limit must be between 0 and 1000000 notifications a second");
    c = {};
    c.protocol = static_cast<hub_protocol>(7);
    EXPECT_EQ(problem_of(c), "protocol must be one of auto, h2, http1");
    c = {};
    c.api_version = "2020/06";
    EXPECT_EQ(problem_of(c), "api_version must look like 2020-06");
    c = {};
    c.max_response_bytes = 10;
    EXPECT_EQ(problem_of(c), "max_response_bytes must be between 1024 and 1073741824 bytes");
}

TEST(hub_settings, rules_between_settings) {
    hub_client_config c;
    c.min_connections = 5;
    c.max_connections = 4;
    EXPECT_EQ(problem_of(c, "hubs.a."),
              "hubs.a.min_connections must not be more than hubs.a.max_connections");
    c = {};
    c.retry.backoff_base = 2s;
    c.retry.backoff_cap = 1s;
    EXPECT_EQ(problem_of(c), "backoff_cap must not be less than backoff_base");
    c = {};
    c.sas.renew_margin = c.sas.lifetime;
    EXPECT_EQ(problem_of(c), "sas_renew_margin must be less than sas_token_lifetime");
}

TEST(hub_settings, require_valid_throws_invalid_argument) {
    hub_client_config c;
    c.max_connections = 2000;
    try {
        nhpush::require_valid_hub_client_config(c);
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "max_connections must be between 1 and 1024");
    }
}

TEST(hub_settings, values_are_formatted_as_toml) {
    hub_client_config c;
    const auto text = [&](std::string_view key) {
        const auto& s = *find_hub_setting(key);
        return nhpush::format_setting_value(s, s.get(c));
    };
    c.rate_limit = 2.5;
    EXPECT_EQ(text("protocol"), "\"auto\"");
    EXPECT_EQ(text("max_connections"), "64");
    EXPECT_EQ(text("rate_limit"), "2.5");
    EXPECT_EQ(text("api_version"), "\"2020-06\"");
    EXPECT_EQ(text("read_timeout"), "30000");
    c.ca_file = R"(C:\ca "x".pem)";
    EXPECT_EQ(text("ca_file"), R"("C:\\ca \"x\".pem")");
    EXPECT_EQ(nhpush::unit_name(setting_unit::milliseconds), "milliseconds");
}

TEST(hub_settings, same_hub_settings_compares_every_setting_but_not_callbacks) {
    hub_client_config a, b;
    b.on_exchange = [](const auto&, const auto&) {};
    EXPECT_TRUE(nhpush::same_hub_settings(a, b));
    b.reconnect.backoff_base = 1ms;
    EXPECT_FALSE(nhpush::same_hub_settings(a, b));
}

}  // namespace
