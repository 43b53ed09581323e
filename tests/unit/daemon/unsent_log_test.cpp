// The drain report: what a stop left never sent (safe to submit again) apart from what was in
// flight (the hub may have it).

#include "hubs/unsent_log.hpp"

#include <nhpush/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace nhpush::hubs;
using testing::ElementsAre;

TEST(unsent_log, each_final_result_goes_in_the_list_of_its_kind) {
    EXPECT_EQ(unsent_kind_of(nhpush::errc::shutting_down), unsent_kind::never_sent);
    EXPECT_EQ(unsent_kind_of(nhpush::errc::outcome_unknown), unsent_kind::outcome_unknown);
    EXPECT_EQ(unsent_kind_of({}), std::nullopt) << "sent";
    EXPECT_EQ(unsent_kind_of(nhpush::errc::hub_rejected), std::nullopt) << "finished before the stop";
    EXPECT_EQ(unsent_kind_of(nhpush::errc::deadline_expired), std::nullopt);
}

TEST(unsent_log, drain_report_separates_never_sent_from_in_flight) {
    unsent_log log;
    log.add(unsent_kind::never_sent, "main", "a");
    log.add(unsent_kind::outcome_unknown, "main", "b");
    log.add(unsent_kind::never_sent, "eu", "c");
    const auto lines = describe_unsent(log.take(), 20);
    std::vector<std::string> texts;
    for (const auto& l : lines) {
        EXPECT_EQ(l.severity, report_severity::warning) << l.text;
        texts.push_back(l.text);
    }
    EXPECT_THAT(texts,
                ElementsAre("2 notification(s) were never sent because nhpushd stopped (drain_deadline "
                            "passed); the hub never saw them: safe to submit again",
                            "never sent: main/a eu/c",
                            "1 notification(s) were in flight when nhpushd stopped: the hub may have "
                            "accepted them (outcome unknown); submitting again may deliver them twice",
                            "outcome unknown: main/b"));
    EXPECT_THAT(describe_unsent(log.take(), 20),
                ElementsAre(report_line{report_severity::info,
                                        "drained: every accepted notification has its result"}))
        << "take() empties the log";
}

TEST(unsent_log, keeps_a_bounded_number_of_ids_per_list_and_counts_the_rest) {
    unsent_log log(3);
    for (int i = 0; i < 5; ++i) {
        log.add(unsent_kind::outcome_unknown, "main", std::to_string(i));
    }
    log.add(unsent_kind::never_sent, "main", "n");
    const auto report = log.take();
    EXPECT_EQ(report.outcome_unknown.entries.size(), 3u);
    EXPECT_EQ(report.outcome_unknown.more, 2u);
    EXPECT_EQ(report.never_sent.total(), 1u);
    const auto lines = describe_unsent(report, 2);
    std::vector<std::string> texts;
    for (const auto& l : lines) {
        texts.push_back(l.text);
    }
    EXPECT_THAT(texts,
                ElementsAre(testing::StartsWith("1 notification(s) were never sent"),
                            "never sent: main/n",
                            testing::StartsWith("5 notification(s) were in flight"),
                            "outcome unknown: main/0 main/1",
                            "outcome unknown: main/2",
                            "outcome unknown: and 2 more"));
}

}  // namespace
