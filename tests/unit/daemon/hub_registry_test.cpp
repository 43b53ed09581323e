#include "hubs/hub_registry.hpp"

#include <gtest/gtest.h>

using namespace nhpush::hubs;
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

TEST(hub_registry, to_client_config_maps_every_key) {
    hub_config h;
    h.hub = "myhub";
    h.ca_file = "/ca.pem";
    h.connections = 3;
    h.queue_capacity = 77;
    h.rate_limit = 2.5;
    h.api_version = "2015-01";
    h.resolve_timeout = 11ms;
    h.connect_timeout = 12ms;
    h.handshake_timeout = 13ms;
    h.write_timeout = 14ms;
    h.read_timeout = 15ms;
    h.connection_max_age = 16s;
    h.max_attempts = 5;
    h.backoff_base = 17ms;
    h.backoff_cap = 18ms;
    h.throttle_pause = 9ms;
    h.deadline = 19s;
    h.sas_token_lifetime = 20s;
    h.sas_renew_margin = 5s;
    const auto c = to_client_config(h);
    EXPECT_EQ(c.max_connections, 3u);
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
    EXPECT_EQ(c.notification_deadline, 19s);
    EXPECT_EQ(c.sas.lifetime, 20s);
    EXPECT_EQ(c.sas.renew_margin, 5s);
}

TEST(hub_registry, plan_reload_sorts_hubs_into_kept_rebuilt_added_removed) {
    identities running{
        {"a", identity("a")}, {"b", identity("b")}, {"c", identity("c")}, {"d", identity("d")}};
    identities next{
        {"a", identity("a")}, {"b", identity("b", "new key")}, {"c", identity("c")}, {"e", identity("e")}};
    next["c"].config.rate_limit = 10;
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
    b.oldest_queued_age_seconds = 2;
    b.latency_buckets[2] = 1;
    b.latency_count = 1;
    accumulate(a, b);
    EXPECT_EQ(a.submitted, 8u);
    EXPECT_EQ(a.failed_auth, 1u);
    EXPECT_EQ(a.outcome_unknown, 2u);
    EXPECT_EQ(a.failed_send_path, 1u);
    EXPECT_EQ(a.queue_depth, 1u);
    EXPECT_EQ(a.oldest_queued_age_seconds, 2);
    EXPECT_EQ(a.latency_buckets[2], 5u);
    EXPECT_EQ(a.latency_count, 5u);
}

}  // namespace
