// `nhpush direct` against nhpush-hubsim: one notification with --debug, and an NDJSON batch.

#include "cli/cli.hpp"
#include "hubsim_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using nhpush::testing::hubsim_process;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

struct run_result {
    int code;
    std::string out, err;
};

run_result nhpush_direct(const hubsim_process& sim, std::vector<std::string> extra) {
    std::vector<std::string> args{"direct",
                                  "--connection-string",
                                  sim.connection_string(),
                                  "--hub",
                                  "hub",
                                  "--ca-file",
                                  sim.cert_file()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::ostringstream out, err;
    const int code = nhpush::cli::run(args, out, err);
    return {code, out.str(), err.str()};
}

TEST(nhpush_direct, sends_one_notification_and_debug_redacts_the_signature) {
    hubsim_process sim;
    const auto r = nhpush_direct(
        sim, {"--format", "apple", "--payload", R"({"aps":{"alert":"hi"}})", "--tags", "sports", "--debug"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("POST /hub/messages?api-version=2020-06 HTTP/1.1"));
    EXPECT_THAT(r.out, HasSubstr("ServiceBusNotification-Tags: sports"));
    EXPECT_THAT(r.out, HasSubstr("sig=<redacted>"));
    // The hub picked HTTP/2; --debug shows both messages in HTTP/1.1's text form.
    EXPECT_THAT(r.out, HasSubstr("HTTP/2.0 201 Created"));
    EXPECT_THAT(r.out, HasSubstr("sent: HTTP 201"));
    EXPECT_THAT(r.out, Not(HasSubstr("sig=%")));  // no real signature anywhere
    EXPECT_EQ(sim.stat("/accepted"), 1u);
}

TEST(nhpush_direct, sends_an_ndjson_batch_and_reports_each_line) {
    hubsim_process sim;
    const std::string file = sim.temp_dir() + "/batch.ndjson";
    std::ofstream(file)
        << R"({"hub":"hub","format":"apple","payload":{"aps":{"alert":"one"}}})"
        << "\n"
        << R"({"hub":"hub","format":"template","payload":{"greeting":"two"},"tags":["a","b"]})"
        << "\n"
        << "\n"
        << R"({"hub":"hub","format":"apple","payload":"not json"})"
        << "\n"
        << R"({"hub":"hub","format":"fcmv1","payload":{"message":{"notification":{"title":"four"}}}})";
    const auto r = nhpush_direct(sim, {"--ndjson", file});
    EXPECT_EQ(r.code, 1);  // one line was invalid
    EXPECT_THAT(r.out, HasSubstr("line 1: sent: HTTP 201"));
    EXPECT_THAT(r.out, HasSubstr("line 2: sent: HTTP 201"));
    EXPECT_THAT(r.out, HasSubstr("line 4: invalid:"));
    EXPECT_THAT(r.out, HasSubstr("line 5: sent: HTTP 201"));
    EXPECT_THAT(r.out, HasSubstr("3 sent, 0 not sent, 1 invalid"));
    EXPECT_EQ(sim.stat("/accepted"), 3u);
}

TEST(nhpush_direct, a_permanent_hub_error_exits_1_with_the_hub_s_words) {
    hubsim_process sim(nhpush::testing::hubsim_options{.args = {"--hub", "hub"}});
    std::vector<std::string> args{"direct",
                                  "--connection-string",
                                  sim.connection_string(),
                                  "--hub",
                                  "nohub",
                                  "--ca-file",
                                  sim.cert_file(),
                                  "--format",
                                  "apple",
                                  "--payload",
                                  "{}"};
    std::ostringstream out, err;
    EXPECT_EQ(nhpush::cli::run(args, out, err), 1);
    EXPECT_THAT(out.str(), HasSubstr("not sent: the hub rejected the notification (HTTP 404"));
}

}  // namespace
