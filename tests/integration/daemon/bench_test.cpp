// nhpush-bench against nhpushd and nhpush-hubsim on loopback: what it reports matches what the
// daemon and the hub saw. Small counts: these check behaviour, not speed (bench/run measures).

#include "child_process.hpp"
#include "nhpushd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

using namespace std::chrono_literals;
using nhpush::testing::hubsim_process;
using nhpush::testing::nhpushd_process;
using ::testing::HasSubstr;

namespace {

constexpr std::uint64_t daemon_warm_up = 256;  // nhpush-bench daemon's unmeasured first batch

std::pair<int, std::string> run_bench(std::vector<std::string> args) {
    args.push_back("--no-progress");
    return nhpush::testing::run_to_completion({.program = NHPUSH_BENCH_PATH, .args = std::move(args)}, 60s);
}

// nhpush-bench daemon against `daemon`, with --json.
std::pair<int, std::string> bench_daemon(const nhpushd_process& daemon, std::vector<std::string> args) {
    args.insert(args.begin(), {"daemon", "--socket", daemon.socket_path(), "--json"});
    return run_bench(std::move(args));
}

rapidjson::Document parse_report(const std::string& out) {
    rapidjson::Document d;
    d.Parse(out.c_str());
    EXPECT_FALSE(d.HasParseError()) << out;
    EXPECT_TRUE(d.IsObject()) << out;
    return d;
}

}  // namespace

TEST(nhpush_bench_daemon, ndjson_batches_are_all_delivered_and_reported) {
    hubsim_process sim;
    nhpushd_process daemon(sim);
    const auto [code, out] = bench_daemon(daemon, {"--count", "500", "--batch", "50"});
    ASSERT_EQ(code, 0) << out;
    const auto report = parse_report(out);
    EXPECT_EQ(report["count"].GetUint64(), 500u);
    EXPECT_EQ(report["ok"].GetUint64(), 500u);
    EXPECT_EQ(report["failed"].GetUint64(), 0u);
    EXPECT_GT(report["per_second"].GetDouble(), 0);
    EXPECT_GT(report["submitted_per_second"].GetDouble(), 0);
    EXPECT_STREQ(report["cpu_of"].GetString(), "nhpushd");
    EXPECT_GT(report["peak_rss_mib"].GetDouble(), 1);  // the daemon's, read from /proc
    EXPECT_GT(report["latency_ms"]["max"].GetDouble(), 0);
    EXPECT_EQ(sim.stat("/accepted"), 500 + daemon_warm_up);  // what the hub got: no more, no less
    EXPECT_EQ(sim.stat("/accepted_by_format/apple"), 500 + daemon_warm_up);
}

TEST(nhpush_bench_daemon, waiting_requests_measure_each_notifications_latency) {
    hubsim_process sim;
    nhpushd_process daemon(sim);
    const auto [code, out] = bench_daemon(
        daemon,
        {"--count", "200", "--wait", "--connections", "8", "--format", "template", "--tags", "sports"});
    ASSERT_EQ(code, 0) << out;
    const auto report = parse_report(out);
    EXPECT_EQ(report["ok"].GetUint64(), 200u);
    EXPECT_THAT(report["latency_source"].GetString(), HasSubstr("per notification"));
    const auto& latency = report["latency_ms"];
    EXPECT_GT(latency["p50"].GetDouble(), 0);
    EXPECT_LE(latency["p50"].GetDouble(), latency["p99"].GetDouble());
    EXPECT_LE(latency["p99"].GetDouble(), latency["max"].GetDouble());
    EXPECT_EQ(sim.stat("/accepted_by_format/template"), 200 + daemon_warm_up);
}

TEST(nhpush_bench_daemon, failures_are_counted_by_reason_and_the_exit_status_says_so) {
    hubsim_process sim;
    auto wrong_key = sim.connection_string();
    wrong_key.replace(wrong_key.find("SharedAccessKey=") + 16, std::string::npos, "d3Jvbmcta2V5");
    nhpushd_process daemon(sim, {.connection_string = wrong_key});
    const auto [code, out] = bench_daemon(daemon, {"--count", "40"});
    EXPECT_EQ(code, 1) << out;
    const auto report = parse_report(out);
    EXPECT_EQ(report["ok"].GetUint64(), 0u);
    EXPECT_EQ(report["failed"].GetUint64(), 40u);
    EXPECT_EQ(report["failures"]["hub_rejected"].GetUint64(), 40u);  // 401: never retried
}

TEST(nhpush_bench_daemon, submit_only_hands_over_and_reports_the_daemons_memory) {
    hubsim_process sim;
    nhpushd_process daemon(sim);
    const auto [code, out] = bench_daemon(daemon, {"--count", "300", "--batch", "100", "--submit-only"});
    ASSERT_EQ(code, 0) << out;
    const auto report = parse_report(out);
    EXPECT_EQ(report["ok"].GetUint64(), 300u);  // accepted by nhpushd
    EXPECT_GT(report["peak_rss_mib"].GetDouble(), 1);
    EXPECT_TRUE(sim.wait_for_stat("/accepted", 300, 10s));  // and nhpushd still sends them
}

TEST(nhpush_bench_direct, sends_through_the_library_closed_loop_and_at_a_fixed_rate) {
    hubsim_process sim;
    const std::vector<std::string> common{"direct",
                                          "--connection-string",
                                          sim.connection_string(),
                                          "--hub",
                                          "hub",
                                          "--ca-file",
                                          sim.cert_file(),
                                          "--connections",
                                          "4",
                                          "--json"};
    auto closed = common;
    closed.insert(closed.end(), {"--count", "300", "--format", "fcmv1"});
    const auto [code, out] = run_bench(closed);
    ASSERT_EQ(code, 0) << out;
    auto report = parse_report(out);
    EXPECT_EQ(report["ok"].GetUint64(), 300u);
    EXPECT_STREQ(report["cpu_of"].GetString(), "nhpush-bench");
    EXPECT_EQ(sim.stat("/accepted_by_format/fcmv1"), 300u + 2 * 4);  // plus the warm-up, 2 a connection

    auto fixed = common;
    fixed.insert(fixed.end(), {"--count", "100", "--rate", "1000"});
    const auto [fixed_code, fixed_out] = run_bench(fixed);
    ASSERT_EQ(fixed_code, 0) << fixed_out;
    report = parse_report(fixed_out);
    EXPECT_EQ(report["ok"].GetUint64(), 100u);
    EXPECT_DOUBLE_EQ(report["offered_rate"].GetDouble(), 1000);
}

TEST(nhpush_bench, bad_command_lines_are_refused_with_what_to_change) {
    const auto refused = [](std::vector<std::string> args, std::string_view expected) {
        const auto [code, out] = nhpush::testing::run_to_completion(
            {.program = NHPUSH_BENCH_PATH, .args = std::move(args), .merge_stderr = true}, 30s);
        EXPECT_EQ(code, 2) << out;
        EXPECT_THAT(out, HasSubstr(expected));
    };
    refused({"daemon", "--wait", "--batch", "10"}, "--wait takes single requests");
    refused({"daemon", "--format", "nope"}, "--format 'nope' is not a notification format");
    refused({"daemon", "--rate", "-3"}, "--rate '-3' is not a number above 0");
    refused({"daemon", "--count", "ten"}, "--count 'ten' is not a whole number");
    refused({"daemon", "--socket", "/nonexistent/nhpushd.sock"},
            "cannot connect to /nonexistent/nhpushd.sock");
    refused({"direct",
             "--connection-string",
             "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=a;SharedAccessKey=b"},
            "--hub is required");
    refused({"sideways"}, "unknown mode 'sideways'");
}
