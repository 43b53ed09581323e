#include "metrics/daemon_metrics.hpp"

#include <gtest/gtest.h>

#include "prometheus_lint.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

using namespace nhpush::metrics;
using nhpush::test::exposition_sample;
using nhpush::test::lint_exposition;

namespace {

daemon_report sample_report() {
    daemon_report r;
    r.version = "9.9.9";
    r.uptime_seconds = 12.5;
    r.connections_open = 2;
    r.connections_accepted = 7;
    r.request_errors[static_cast<std::size_t>(nhpush::api::api_errc::unknown_hub)] = 3;
    for (const char* name : {"main", "with\"quote"}) {
        hub_report h;
        h.name = name;
        h.hub = "prod-hub";
        h.min_connections = 2;
        h.max_connections = 8;
        h.queue_capacity = 100;
        h.stats.submitted = 10;
        h.stats.sent = 6;
        h.stats.failed_rejected = 2;
        h.stats.failed_auth = 2;
        h.stats.outcome_unknown = 3;
        h.stats.failed_send_path = 1;
        h.stats.queue_depth = 2;
        h.stats.connections_open = 3;
        h.stats.connections_h2 = 4;
        h.stats.connections_closed_idle = 5;
        h.stats.goaways_received = 6;
        h.stats.streams_reset = 7;
        h.stats.latency_buckets[3] = 4;
        h.stats.latency_buckets[5] = 2;
        h.stats.latency_count = 6;
        h.stats.latency_sum_seconds = 0.04;
        r.hubs.push_back(h);
    }
    r.hubs[1].healthy = false;
    return r;
}

TEST(daemon_metrics, text_passes_the_exposition_format_checks) {
    const auto text = render_metrics_text(sample_report());
    std::vector<exposition_sample> samples;
    const auto problems = lint_exposition(text, &samples);
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << text;
    const auto find = [&](std::string_view name, std::string_view label, std::string_view value) {
        for (const auto& s : samples) {
            if (s.name == name) {
                for (const auto& [n, v] : s.labels) {
                    if (n == label && v == value) {
                        return s.value;
                    }
                }
            }
        }
        return -1.0;
    };
    EXPECT_EQ(find("nhpushd_notifications_total", "outcome", "sent"), 6);
    EXPECT_EQ(find("nhpushd_notifications_total", "outcome", "hub_rejected"), 2);
    EXPECT_EQ(find("nhpushd_notifications_total", "outcome", "outcome_unknown"), 3);
    EXPECT_EQ(find("nhpushd_notifications_total", "outcome", "send_path_failed"), 1);
    EXPECT_EQ(find("nhpushd_request_errors_total", "code", "unknown_hub"), 3);
    EXPECT_EQ(find("nhpushd_send_latency_seconds_count", "hub", "main"), 6);
    EXPECT_EQ(find("nhpushd_hub_healthy", "hub", "with\"quote"), 0);
    EXPECT_EQ(find("nhpushd_hub_min_connections", "hub", "main"), 2);
    EXPECT_EQ(find("nhpushd_hub_max_connections", "hub", "main"), 8);
    EXPECT_EQ(find("nhpushd_hub_connections", "hub", "main"), -1);  // the fixed count is gone
    EXPECT_EQ(find("nhpushd_build_info", "version", "9.9.9"), 1);
    EXPECT_EQ(find("nhpushd_hub_connections_open", "hub", "main"), 3);
    EXPECT_EQ(find("nhpushd_hub_connections_h2_total", "hub", "main"), 4);
    EXPECT_EQ(find("nhpushd_hub_connections_closed_idle_total", "hub", "main"), 5);
    EXPECT_EQ(find("nhpushd_hub_goaways_received_total", "hub", "main"), 6);
    EXPECT_EQ(find("nhpushd_hub_streams_reset_total", "hub", "main"), 7);
}

TEST(daemon_metrics, the_checker_catches_what_prometheus_refuses) {
    EXPECT_FALSE(lint_exposition("x{a=\"b} 1\n").empty());
    EXPECT_FALSE(lint_exposition("x 1").empty());                       // no final newline
    EXPECT_FALSE(lint_exposition("1x 1\n").empty());                    // bad name
    EXPECT_FALSE(lint_exposition("x one\n").empty());                   // bad value
    EXPECT_FALSE(lint_exposition("x 1\ny 1\nx{a=\"1\"} 2\n").empty());  // not contiguous
    EXPECT_FALSE(lint_exposition("x 1\nx 2\n").empty());                // duplicate
    EXPECT_FALSE(lint_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                                 "h_sum 1\nh_count 1\n")
                     .empty());  // not cumulative
    EXPECT_TRUE(lint_exposition("# HELP x a\n# TYPE x counter\nx{a=\"q\\\"\\n\"} 1\n").empty());
}

TEST(daemon_metrics, stats_json_per_hub) {
    const auto json = render_stats_json(sample_report());
    rapidjson::Document d;
    d.Parse(json.c_str());
    ASSERT_FALSE(d.HasParseError()) << json;
    EXPECT_STREQ(rapidjson::Pointer("/daemon/version").Get(d)->GetString(), "9.9.9");
    EXPECT_EQ(rapidjson::Pointer("/daemon/client_connections/open").Get(d)->GetInt(), 2);
    EXPECT_EQ(rapidjson::Pointer("/daemon/request_errors/unknown_hub").Get(d)->GetInt(), 3);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/sent").Get(d)->GetInt(), 6);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/failed/hub_rejected").Get(d)->GetInt(), 2);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/failed/outcome_unknown").Get(d)->GetInt(), 3);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/failed/send_path_failed").Get(d)->GetInt(), 1);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/queue_capacity").Get(d)->GetInt(), 100);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/min").Get(d)->GetInt(), 2);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/max").Get(d)->GetInt(), 8);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/configured").Get(d), nullptr);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/open").Get(d)->GetInt(), 3);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/h2").Get(d)->GetInt(), 4);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/closed_idle").Get(d)->GetInt(), 5);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/connections/goaways_received").Get(d)->GetInt(), 6);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/streams_reset").Get(d)->GetInt(), 7);
    EXPECT_DOUBLE_EQ(rapidjson::Pointer("/hubs/main/latency_seconds/p50").Get(d)->GetDouble(), 0.005);
    EXPECT_DOUBLE_EQ(rapidjson::Pointer("/hubs/main/latency_seconds/p99").Get(d)->GetDouble(), 0.025);
    const auto* counts = rapidjson::Pointer("/hubs/main/latency_seconds/bucket_counts").Get(d);
    const auto* bounds = rapidjson::Pointer("/hubs/main/latency_seconds/bucket_upper_bounds").Get(d);
    ASSERT_TRUE(counts && bounds && counts->IsArray() && bounds->IsArray()) << json;
    ASSERT_EQ(counts->Size(), bounds->Size() + 1);  // the last bucket is +Inf
    std::uint64_t total = 0;
    for (const auto& n : counts->GetArray()) {
        total += n.GetUint64();
    }
    EXPECT_EQ(total, 6);  // every latency sample_report() recorded
    EXPECT_DOUBLE_EQ((*bounds)[0].GetDouble(), 0.0005);
    EXPECT_FALSE(rapidjson::Pointer("/hubs/with\"quote/healthy").Get(d)->GetBool());
}

TEST(daemon_metrics, latency_quantiles_from_buckets) {
    nhpush::sender_stats_snapshot s;
    EXPECT_EQ(latency_quantile(s, 0.5), 0);
    s.latency_buckets[0] = 99;
    s.latency_buckets.back() = 1;  // one above the highest bound
    EXPECT_EQ(latency_quantile(s, 0.5), nhpush::latency_bucket_bounds[0]);
    EXPECT_EQ(latency_quantile(s, 0.99), nhpush::latency_bucket_bounds[0]);
    EXPECT_EQ(latency_quantile(s, 1.0), nhpush::latency_bucket_bounds.back());
}

}  // namespace
