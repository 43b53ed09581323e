// What a source adds to /healthz, /v1/stats and /metrics.
#include "hubs/hub_health.hpp"
#include "metrics/daemon_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nhpush::metrics {
namespace {

TEST(SourceHealth, AnUnreachableRedisDegradesButDoesNotFailTheHealthCheck) {
    daemon_counters counters;
    auto source = counters.sources.add("orders", "nhpush:notifications");
    source->set_problem("connection to 127.0.0.1:6379: Connection refused");
    hubs::health_report report = hubs::evaluate_health(false, {});
    report.degraded = counters.sources.problems();
    EXPECT_TRUE(report.healthy);
    EXPECT_EQ(hubs::render_health(report),
              R"({"status":"degraded","reasons":["source orders: not reading stream nhpush:notifications: )"
              R"(connection to 127.0.0.1:6379: Connection refused"]})");

    source->connected = true;
    report.degraded = counters.sources.problems();
    EXPECT_EQ(hubs::render_health(report), R"({"status":"ok"})");
}

TEST(SourceReport, CountersAppearInStatsAndMetrics) {
    daemon_counters counters;
    auto source = counters.sources.add("orders", "s");
    source->connected = true;
    source->read = 10;
    source->claimed = 2;
    source->acked = 9;
    source->dead = 1;
    source->reconnects = 3;
    daemon_report report;
    report.take_counters(counters);
    const auto stats = render_stats_json(report);
    EXPECT_NE(stats.find(R"("sources":{"orders":{"stream":"s","connected":true,"read":10,"claimed":2,)"
                         R"("acked":9,"dead":1,"reconnects":3}})"),
              std::string::npos)
        << stats;
    const auto text = render_metrics_text(report);
    EXPECT_NE(text.find(R"(nhpushd_source_entries_total{source="orders",event="claimed"} 2)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(nhpushd_source_reconnects_total{source="orders"} 3)"), std::string::npos);
    EXPECT_NE(text.find(R"(nhpushd_source_connected{source="orders"} 1)"), std::string::npos);
}

}  // namespace
}  // namespace nhpush::metrics
