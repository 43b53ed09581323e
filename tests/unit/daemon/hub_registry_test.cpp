#include "hubs/hub_registry.hpp"

#include <nhpush/hub_settings.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace nhpush::hubs;
using nhpush::hub_setting;
using nhpush::setting_unit;
using nhpush::setting_value;
using nhpush::config::daemon_config;
using nhpush::config::hub_config;
using namespace std::chrono_literals;

namespace {

using identities = std::map<std::string, hub_identity, std::less<>>;

hub_identity identity(std::string hub, std::string cs = "cs") {
    hub_identity i;
    i.config.hub = std::move(hub);
    i.config.connection_string_file = "/etc/nhpush/cs";
    i.connection_string = std::move(cs);
    return i;
}

hub_config parse_hub(const std::string& keys) {
    const auto config =
        nhpush::config::parse_config("[hubs.main]\nhub = \"myhub\"\nconnection_string_env = \"CS\"\n" + keys);
    return config.hubs.at("main");
}

/// A valid value other than the default, for every kind of setting.
setting_value changed(const hub_setting& s, const setting_value& value) {
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        if (s.unit == setting_unit::choice) {
            return (*integer + 1) % static_cast<std::int64_t>(s.choices.size());
        }
        return *integer < s.max ? *integer + 1 : *integer - 1;
    }
    if (const auto* rate = std::get_if<double>(&value)) {
        return *rate + 1.5;
    }
    return std::string(s.key == "api_version" ? "2015-01" : "/etc/ssl/other.pem");
}

TEST(hub_registry, every_key_of_the_table_reaches_its_setting_and_no_other) {
    for (const auto& s : nhpush::hub_settings()) {
        const auto value = changed(s, s.default_value());
        const auto line = fmt::format("{} = {}\n", s.key, nhpush::format_setting_value(s, value));
        const auto c = to_client_config(parse_hub(line));
        EXPECT_EQ(s.get(c), value) << line;
        for (const auto& other : nhpush::hub_settings()) {
            if (other.key != s.key) {
                EXPECT_EQ(other.get(c), other.default_value()) << line << " changed " << other.key;
            }
        }
    }
}

TEST(hub_registry, to_client_config_maps_every_key) {
    const auto c = to_client_config(parse_hub(R"(
protocol = "http1"
min_connections = 2
max_connections = 3
max_streams = 4
idle_timeout = 5
ping_interval = 6
ca_file = "/ca.pem"
queue_capacity = 77
rate_limit = 2.5
api_version = "2015-01"
resolve_timeout = 11
connect_timeout = 12
handshake_timeout = 13
write_timeout = 14
read_timeout = 15
connection_max_age = 16
max_attempts = 5
backoff_base = 17
backoff_cap = 18
throttle_pause = 9
reconnect_base = 7
reconnect_cap = 8
deadline = 19
sas_token_lifetime = 20
sas_renew_margin = 5
max_response_bytes = 4096
)"));
    EXPECT_EQ(c.protocol, nhpush::hub_protocol::http1);
    EXPECT_EQ(c.min_connections, 2u);
    EXPECT_EQ(c.max_connections, 3u);
    EXPECT_EQ(c.max_streams, 4u);
    EXPECT_EQ(c.idle_timeout, 5s);
    EXPECT_EQ(c.ping_interval, 6s);
    EXPECT_EQ(c.queue_capacity, 77u);
    EXPECT_EQ(c.rate_limit, 2.5);
    EXPECT_EQ(c.api_version, "2015-01");
    EXPECT_EQ(c.ca_file, "/ca.pem");
    EXPECT_EQ(c.timeouts.resolve, 11ms);
    EXPECT_EQ(c.timeouts.connect, 12ms);
    EXPECT_EQ(c.timeouts.handshake, 13ms);
    EXPECT_EQ(c.timeouts.write, 14ms);
    EXPECT_EQ(c.timeouts.read, 15ms);
    EXPECT_EQ(c.connection_max_age, 16s);
    EXPECT_EQ(c.retry.max_attempts, 5);
    EXPECT_EQ(c.retry.backoff_base, 17ms);
    EXPECT_EQ(c.retry.backoff_cap, 18ms);
    EXPECT_EQ(c.retry.throttle_default_pause, 9ms);
    EXPECT_EQ(c.reconnect.backoff_base, 7ms);
    EXPECT_EQ(c.reconnect.backoff_cap, 8ms);
    EXPECT_EQ(c.notification_deadline, 19s);
    EXPECT_EQ(c.sas.lifetime, 20s);
    EXPECT_EQ(c.sas.renew_margin, 5s);
    EXPECT_EQ(c.max_response_bytes, 4096u);
}

TEST(hub_registry, deprecated_connections_maps_to_max_connections) {
    EXPECT_EQ(to_client_config(parse_hub("connections = 3\n")).max_connections, 3u);
}

TEST(hub_registry, plan_reload_sorts_hubs_into_kept_rebuilt_added_removed) {
    identities running{
        {"a", identity("a")}, {"b", identity("b")}, {"c", identity("c")}, {"d", identity("d")}};
    identities next{
        {"a", identity("a")}, {"b", identity("b", "new key")}, {"c", identity("c")}, {"e", identity("e")}};
    next["c"].config.client.rate_limit = 10;
    const auto plan = plan_reload(running, {}, next, {});
    EXPECT_EQ(plan.kept, std::vector<std::string>{"a"});
    EXPECT_EQ(plan.rebuilt, (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(plan.added, std::vector<std::string>{"e"});
    EXPECT_EQ(plan.removed, std::vector<std::string>{"d"});
    EXPECT_TRUE(plan.restart_required.empty());
}

TEST(hub_registry, plan_reload_rebuilds_on_a_log_level_change_and_flags_restart_keys) {
    identities running{{"a", identity("a")}};
    identities next = running;
    next["a"].level = nhpush::log_level::debug;
    daemon_config before, after;
    after.socket = "/run/other.sock";
    after.threads = 3;
    after.socket_mode = 0600;
    after.max_clients = 5;  // applies at once: not listed
    const auto plan = plan_reload(running, before, next, after);
    EXPECT_EQ(plan.rebuilt, std::vector<std::string>{"a"});
    EXPECT_EQ(plan.restart_required,
              (std::vector<std::string>{"daemon.socket", "daemon.socket_mode", "daemon.threads"}));
}

TEST(hub_registry, accumulate_adds_counters_and_keeps_the_oldest_age) {
    nhpush::sender_stats_snapshot a, b;
    a.submitted = 3;
    a.sent = 2;
    a.queue_depth = 1;
    a.oldest_queued_age_seconds = 0.5;
    a.latency_buckets[2] = 4;
    a.latency_count = 4;
    a.latency_sum_seconds = 0.1;
    b.submitted = 5;
    b.failed_auth = 1;
    b.outcome_unknown = 2;
    b.failed_send_path = 1;
    b.connections_open = 2;
    b.connections_h2 = 3;
    b.connections_closed_idle = 4;
    b.goaways_received = 5;
    b.streams_reset = 6;
    b.oldest_queued_age_seconds = 2;
    b.latency_buckets[2] = 1;
    b.latency_count = 1;
    accumulate(a, b);
    EXPECT_EQ(a.submitted, 8u);
    EXPECT_EQ(a.failed_auth, 1u);
    EXPECT_EQ(a.outcome_unknown, 2u);
    EXPECT_EQ(a.failed_send_path, 1u);
    EXPECT_EQ(a.connections_open, 2u);
    EXPECT_EQ(a.connections_h2, 3u);
    EXPECT_EQ(a.connections_closed_idle, 4u);
    EXPECT_EQ(a.goaways_received, 5u);
    EXPECT_EQ(a.streams_reset, 6u);
    EXPECT_EQ(a.queue_depth, 1u);
    EXPECT_EQ(a.oldest_queued_age_seconds, 2);
    EXPECT_EQ(a.latency_buckets[2], 5u);
    EXPECT_EQ(a.latency_count, 5u);
}

}  // namespace
