// nhpush-bench's pure parts: what it sends, its fixed-rate schedule, how it reads nhpushd's stats
// and /proc, and how it reports.

#include "submission/submission.hpp"
#include "bench_report.hpp"
#include "daemon_stats.hpp"
#include "load_plan.hpp"
#include "metrics/daemon_metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <variant>

using namespace nhpush;
using namespace nhpush::bench;
using ::testing::HasSubstr;

namespace {

load_options options_for(notification_format format, std::size_t bytes = 200, std::string tags = "") {
    load_options o;
    o.format = format;
    o.payload_bytes = bytes;
    o.tags = std::move(tags);
    return o;
}

}  // namespace

TEST(sample_payload, is_valid_for_every_format_and_as_long_as_asked) {
    for (const auto format : all_formats) {
        SCOPED_TRACE(std::string(to_string(format)));
        const auto payload = sample_payload(format, 300);
        EXPECT_EQ(payload.size(), 300u);
        EXPECT_NO_THROW(sample_notification(options_for(format, 300)));
    }
}

TEST(sample_payload, smaller_than_the_format_allows_is_the_shortest_valid_one) {
    const auto payload = sample_payload(notification_format::apple, 5);
    EXPECT_EQ(payload, R"({"aps":{"alert":"x"}})");
}

TEST(sample_notification, refuses_options_that_make_an_invalid_notification) {
    EXPECT_THROW(sample_notification(options_for(notification_format::apple, 5000)), std::invalid_argument);
    EXPECT_THROW(sample_notification(options_for(notification_format::apple, 200, "a && ")),
                 std::invalid_argument);
}

// The submission nhpush-bench sends is one nhpushd accepts, carrying the same notification.
TEST(submission_json, is_accepted_by_the_daemons_parser_for_every_format) {
    api::submission_parser parser({"main"});
    for (const auto format : all_formats) {
        SCOPED_TRACE(std::string(to_string(format)));
        const auto o = options_for(format, 200, "sports || news");
        auto body = submission_json("main", o);
        auto parsed = parser.parse(body, std::chrono::system_clock::now());
        ASSERT_TRUE(std::holds_alternative<api::submission>(parsed))
            << std::get<api::api_error>(parsed).message;
        const auto& s = std::get<api::submission>(parsed);
        EXPECT_EQ(s.hub, "main");
        EXPECT_EQ(s.notification.format, format);
        EXPECT_EQ(s.notification.payload, sample_payload(format, 200));
        EXPECT_EQ(s.notification.tags, "sports || news");
    }
}

TEST(submission_request, frames_one_object_a_batch_and_a_waiting_request) {
    namespace http = boost::beast::http;
    const std::string submission = R"({"hub":"main","format":"template","payload":{"m":"x"}})";
    const auto parse = [](const std::string& bytes) {
        http::request_parser<http::string_body> p;
        boost::system::error_code ec;
        std::size_t used = 0;  // put() stops after the header, then takes the body
        while (!ec && !p.is_done() && used < bytes.size()) {
            used += p.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        }
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(p.is_done());
        EXPECT_EQ(used, bytes.size());  // nothing after the body
        return p.release();
    };
    const auto single = parse(submission_request(submission, 1, false));
    EXPECT_EQ(single.target(), "/v1/notifications");
    EXPECT_EQ(single[http::field::content_type], "application/json");
    EXPECT_EQ(single.body(), submission);

    const auto batch = parse(submission_request(submission, 3, false));
    EXPECT_EQ(batch[http::field::content_type], "application/x-ndjson");
    EXPECT_EQ(batch.body(), submission + "\n" + submission + "\n" + submission + "\n");

    EXPECT_EQ(parse(submission_request(submission, 1, true)).target(), "/v1/notifications?wait=true");
}

TEST(fixed_rate_schedule, spaces_notifications_evenly_from_the_start) {
    const auto start = std::chrono::steady_clock::time_point{} + std::chrono::hours{1};
    const fixed_rate_schedule schedule(start, 4);  // every 250 ms
    EXPECT_EQ(schedule.due(0), start);
    EXPECT_EQ(schedule.due(1), start + std::chrono::milliseconds{250});
    EXPECT_EQ(schedule.due(10), start + std::chrono::milliseconds{2500});
}

TEST(progress_line, shows_bar_percentage_counts_and_rate) {
    EXPECT_EQ(progress_line(50, 100, 2.0, 10), "[#####.....]  50%  50/100  25/s");
    EXPECT_EQ(progress_line(0, 100, 0.0, 4), "[....]   0%  0/100  0/s");
    EXPECT_EQ(progress_line(150, 100, 1.0, 4), "[####] 100%  150/100  150/s");  // never past the end
}

namespace {

metrics::daemon_report report_with(std::uint64_t sent,
                                   std::uint64_t rejected,
                                   std::uint64_t fast,
                                   std::uint64_t slow) {
    metrics::daemon_report r;
    metrics::hub_report h;
    h.name = "main";
    h.stats.sent = sent;
    h.stats.failed_rejected = rejected;
    h.stats.latency_buckets[0] = fast;  // ≤ 0.5 ms
    h.stats.latency_buckets[3] = slow;  // 2–5 ms
    r.hubs.push_back(h);
    return r;
}

}  // namespace

// Read from what nhpushd itself renders, so the two cannot drift apart.
TEST(daemon_stats, reads_a_hubs_progress_from_nhpushds_stats) {
    const auto p = parse_hub_progress(metrics::render_stats_json(report_with(90, 3, 80, 10)), "main");
    EXPECT_EQ(p.sent, 90u);
    EXPECT_EQ(p.failed.at("hub_rejected"), 3u);
    EXPECT_EQ(p.finished(), 93u);
    EXPECT_EQ(p.latency_buckets[0], 80u);
    EXPECT_EQ(p.latency_buckets[3], 10u);
}

TEST(daemon_stats, names_a_hub_nhpushd_does_not_have) {
    try {
        parse_hub_progress(metrics::render_stats_json(report_with(1, 0, 1, 0)), "other");
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("'other'"));
    }
    EXPECT_THROW(parse_hub_progress("not json", "main"), std::runtime_error);
}

TEST(daemon_stats, the_difference_of_two_readings_is_what_happened_between_them) {
    const auto before = parse_hub_progress(metrics::render_stats_json(report_with(10, 3, 10, 0)), "main");
    const auto after = parse_hub_progress(metrics::render_stats_json(report_with(110, 3, 60, 50)), "main");
    const auto d = after - before;
    EXPECT_EQ(d.sent, 100u);
    EXPECT_TRUE(d.failed.empty());  // no new failures
    EXPECT_EQ(d.finished(), 100u);
    const auto latency = estimate_latency(d);  // 50 at ≤ 0.5 ms, 50 at 2–5 ms
    EXPECT_DOUBLE_EQ(latency.p50, 0.5);
    EXPECT_DOUBLE_EQ(latency.p90, 5.0);
    EXPECT_DOUBLE_EQ(latency.max, 5.0);
}

TEST(proc_parsing, reads_cpu_ticks_even_when_the_command_name_has_spaces_and_parentheses) {
    const std::string stat = "4242 (nh (push) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 120 30 0 0 20 0 3 0";
    EXPECT_EQ(cpu_ticks_of_proc_stat(stat), 150u);
    EXPECT_EQ(cpu_ticks_of_proc_stat("garbage"), std::nullopt);
}

TEST(proc_parsing, reads_the_peak_resident_set) {
    EXPECT_EQ(peak_rss_mib_of_proc_status("Name:\tnhpushd\nVmPeak:\t 9000 kB\nVmHWM:\t    2048 kB\n"), 2.0);
    EXPECT_EQ(peak_rss_mib_of_proc_status("Name:\tnhpushd\n"), std::nullopt);
}

TEST(proc_parsing, reads_this_process) {
    const auto usage = read_process_usage();
    EXPECT_GT(usage.peak_rss_mib, 0);
    EXPECT_THROW(read_process_usage(-5), std::runtime_error);
}

TEST(run_report, percentiles_come_from_the_samples_or_the_histogram_estimate) {
    run_report r;
    for (int i = 100; i >= 1; --i) {
        r.latencies_ms.push_back(i);
    }
    const auto measured = summarize_latency(r);
    EXPECT_EQ(measured.p50, 50);
    EXPECT_EQ(measured.p99, 99);
    EXPECT_EQ(measured.max, 100);
    r.latency_estimate_ms = latency_summary{1, 2, 5, 10};
    EXPECT_EQ(summarize_latency(r).p99, 5);
}

TEST(run_report, json_has_what_scripts_rely_on) {
    run_report r;
    r.mode = "daemon";
    r.count = 10;
    r.ok = 8;
    r.failed = 2;
    r.seconds = 2;
    r.submit_seconds = 1;
    r.latencies_ms = {1, 2, 3};
    r.failures_by_reason = {{"hub_rejected", 2}};
    rapidjson::Document d;
    d.Parse(to_json(r).c_str());
    ASSERT_FALSE(d.HasParseError());
    EXPECT_EQ(d["count"].GetUint64(), 10u);
    EXPECT_EQ(d["ok"].GetUint64(), 8u);
    EXPECT_EQ(d["failed"].GetUint64(), 2u);
    EXPECT_DOUBLE_EQ(d["per_second"].GetDouble(), 4.0);             // ok / seconds
    EXPECT_DOUBLE_EQ(d["submitted_per_second"].GetDouble(), 10.0);  // count / submit_seconds
    for (const char* q : {"p50", "p90", "p99", "max"}) {
        EXPECT_TRUE(d["latency_ms"].HasMember(q)) << q;
    }
    EXPECT_EQ(d["failures"]["hub_rejected"].GetUint64(), 2u);
    EXPECT_THAT(to_table(r), HasSubstr("failed      hub_rejected: 2"));
}
