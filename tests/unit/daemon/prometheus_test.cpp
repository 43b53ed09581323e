#include "metrics/prometheus.hpp"

#include <gtest/gtest.h>

#include "test_names.hpp"

#include <cmath>
#include <limits>
#include <vector>

using nhpush::metrics::escape_label_value;
using nhpush::metrics::exposition_writer;
using nhpush::metrics::format_value;
using nhpush::metrics::histogram_data;
using nhpush::metrics::label;
using nhpush::metrics::metric_type;

namespace {

TEST(prometheus, counter_family_with_labels) {
    std::string text;
    exposition_writer w(text);
    w.family(
        "nhpushd_notifications_total", metric_type::counter, "Notifications finished, by hub and outcome.");
    w.sample("nhpushd_notifications_total", {{"hub", "main"}, {"outcome", "sent"}}, std::uint64_t{12});
    w.sample("nhpushd_notifications_total", {{"hub", "main"}, {"outcome", "failed"}}, std::uint64_t{0});
    EXPECT_EQ(text,
              "# HELP nhpushd_notifications_total Notifications finished, by hub and outcome.\n"
              "# TYPE nhpushd_notifications_total counter\n"
              "nhpushd_notifications_total{hub=\"main\",outcome=\"sent\"} 12\n"
              "nhpushd_notifications_total{hub=\"main\",outcome=\"failed\"} 0\n");
}

TEST(prometheus, gauge_without_labels) {
    std::string text;
    exposition_writer w(text);
    w.family("nhpushd_up", metric_type::gauge, "1 when ready.");
    w.sample("nhpushd_up", {}, 1.0);
    w.sample("nhpushd_rate", {}, 2.5);
    EXPECT_EQ(text,
              "# HELP nhpushd_up 1 when ready.\n# TYPE nhpushd_up gauge\nnhpushd_up 1\nnhpushd_rate 2.5\n");
}

TEST(prometheus, labels_from_a_vector) {
    std::string text;
    exposition_writer w(text);
    const std::vector<label> labels{{"hub", "a"}};
    w.sample("x", labels, std::uint64_t{3});
    EXPECT_EQ(text, "x{hub=\"a\"} 3\n");
}

TEST(prometheus, label_values_and_help_are_escaped) {
    std::string text;
    exposition_writer w(text);
    w.family("m", metric_type::gauge, "back\\slash \"quotes\" stay\nnew line");
    w.sample("m", {{"path", "C:\\dir \"x\"\nnext"}}, 1.0);
    EXPECT_EQ(text,
              "# HELP m back\\\\slash \"quotes\" stay\\nnew line\n"
              "# TYPE m gauge\n"
              "m{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(prometheus, histogram_buckets_are_cumulative_and_end_with_inf) {
    std::string text;
    exposition_writer w(text);
    const double bounds[] = {0.005, 0.1, 1};
    const std::uint64_t counts[] = {2, 0, 3, 1};
    w.family("nhpushd_send_latency_seconds", metric_type::histogram, "Submission to hub answer.");
    w.histogram("nhpushd_send_latency_seconds", {{"hub", "main"}}, histogram_data{bounds, counts, 4.25});
    EXPECT_EQ(text,
              "# HELP nhpushd_send_latency_seconds Submission to hub answer.\n"
              "# TYPE nhpushd_send_latency_seconds histogram\n"
              "nhpushd_send_latency_seconds_bucket{hub=\"main\",le=\"0.005\"} 2\n"
              "nhpushd_send_latency_seconds_bucket{hub=\"main\",le=\"0.1\"} 2\n"
              "nhpushd_send_latency_seconds_bucket{hub=\"main\",le=\"1\"} 5\n"
              "nhpushd_send_latency_seconds_bucket{hub=\"main\",le=\"+Inf\"} 6\n"
              "nhpushd_send_latency_seconds_sum{hub=\"main\"} 4.25\n"
              "nhpushd_send_latency_seconds_count{hub=\"main\"} 6\n");
}

TEST(prometheus, histogram_without_labels) {
    std::string text;
    exposition_writer w(text);
    const double bounds[] = {1};
    const std::uint64_t counts[] = {0, 0};
    w.histogram("h", {}, histogram_data{bounds, counts, 0});
    EXPECT_EQ(text, "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

struct value_case {
    double value;
    const char* text;
};

void PrintTo(const value_case& c, std::ostream* os) {
    *os << c.text;
}

class prometheus_values : public testing::TestWithParam<value_case> {};

TEST_P(prometheus_values, are_written_exactly) {
    EXPECT_EQ(format_value(GetParam().value), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(table,
                         prometheus_values,
                         testing::Values(value_case{0, "0"},
                                         value_case{42, "42"},
                                         value_case{0.25, "0.25"},
                                         value_case{-1.5, "-1.5"},
                                         value_case{1e-9, "1e-09"},
                                         value_case{std::numeric_limits<double>::infinity(), "+Inf"},
                                         value_case{-std::numeric_limits<double>::infinity(), "-Inf"},
                                         value_case{std::nan(""), "NaN"}),
                         [](const auto& info) {
                             return nhpush::test::case_name(info.index, info.param.text);
                         });

TEST(prometheus, escape_label_value) {
    EXPECT_EQ(escape_label_value("plain"), "plain");
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

}  // namespace
