#include "log/daemon_log.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace nhpush::log;
using nhpush::log_level;
using namespace std::chrono_literals;

namespace {

TEST(daemon_log, lines_carry_the_syslog_priority_and_stay_one_line) {
    EXPECT_EQ(format_log_line(log_level::info, "listening"), "<6>listening\n");
    EXPECT_EQ(format_log_line(log_level::error, "a\nb\r"), "<3>a b \n");
    EXPECT_EQ(format_log_line(log_level::warning, ""), "<4>\n");
}

TEST(daemon_log, messages_below_the_level_are_dropped_and_the_level_can_change) {
    std::vector<std::pair<log_level, std::string>> lines;
    daemon_log log(log_level::warning, [&](log_level l, std::string_view m) { lines.emplace_back(l, m); });
    log.log(log_level::info, "hidden {}", 1);
    log.log(log_level::warning, "shown {}", 2);
    log.set_level(log_level::debug);
    log.log(log_level::debug, "now shown");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].second, "shown 2");
    EXPECT_EQ(log.library_logger().level, log_level::debug);
}

TEST(daemon_log, throttle_lets_one_through_per_interval_and_counts_the_rest) {
    log_throttle t(10s);
    const auto t0 = std::chrono::steady_clock::time_point{} + 100s;
    std::uint64_t suppressed = 99;
    EXPECT_TRUE(t.allow(t0, suppressed));
    EXPECT_EQ(suppressed, 0u);
    EXPECT_FALSE(t.allow(t0 + 1s, suppressed));
    EXPECT_FALSE(t.allow(t0 + 9s, suppressed));
    EXPECT_TRUE(t.allow(t0 + 10s, suppressed));
    EXPECT_EQ(suppressed, 2u);
    EXPECT_EQ(suppressed_note(2), " (2 more since the last warning)");
    EXPECT_EQ(suppressed_note(0), "");
}

}  // namespace
