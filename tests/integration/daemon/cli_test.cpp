// The nhpush CLI against a running nhpushd: send, --wait, --ndjson, status, stats, health.

#include "nhpushd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::MatchesRegex;

TEST(nhpush_cli, sends_through_the_daemon_with_meaningful_exit_codes) {
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub);
    const std::vector<std::string> socket{"--socket", daemon.socket_path()};
    const auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), socket.begin(), socket.end());
        return run_cli(std::move(args));
    };

    auto [code, out] = cli({"send",
                            "--hub",
                            "main",
                            "--format",
                            "apple",
                            "--payload",
                            R"({"aps":{"alert":"hi"}})",
                            "--tags",
                            "sports && !news",
                            "--header",
                            "apns-priority:10",
                            "--id",
                            "cli:1@demo"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out, "queued: cli:1@demo\n");

    std::tie(code, out) = cli({"send",
                               "--hub",
                               "main",
                               "--format",
                               "template",
                               "--payload",
                               R"({"m":"x"})",
                               "--device-handle",
                               "device-token-1",
                               "--wait"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr(": sent: HTTP 201, notification id "));

    std::tie(code, out) = cli({"status", "cli:1@demo"});  // sent percent-encoded
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, testing::AnyOf(HasSubstr("cli:1@demo: sent"), HasSubstr("cli:1@demo: queued")));

    std::tie(code, out) = cli({"status", "no-such-id"});
    EXPECT_EQ(code, 1) << out;

    std::tie(code, out) =
        cli({"send", "--hub", "main", "--format", "apple", "--payload", "{}", "--tags", "a &&"});
    EXPECT_EQ(code, 2) << out;
    EXPECT_THAT(out, HasSubstr("invalid_tags"));

    std::tie(code, out) = cli({"send", "--hub", "main"});
    EXPECT_EQ(code, 2) << out;

    const auto batch = daemon.dir() + "/batch.ndjson";
    std::ofstream(batch) << notification_json() << "\n"
                         << R"({"hub":"main"})"
                         << "\n";
    std::tie(code, out) = cli({"send", "--ndjson", batch});
    EXPECT_EQ(code, 2) << out;
    EXPECT_THAT(out, HasSubstr("queued 1 notification(s), rejected 1"));
    EXPECT_THAT(out, HasSubstr("line 2: rejected: missing_field"));

    std::tie(code, out) = cli({"stats"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("ready"));
    EXPECT_THAT(out, HasSubstr("main"));

    std::tie(code, out) = cli({"health"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out, "healthy\n");

    EXPECT_TRUE(hub.wait_for_record_lines(3, 5s));
    daemon.stop();
    std::tie(code, out) = cli({"health"});
    EXPECT_EQ(code, 3) << out;
    EXPECT_THAT(out, HasSubstr("cannot connect to nhpushd"));
}

TEST(nhpush_cli, every_command_has_help) {
    for (const char* command : {"send", "status", "stats", "health"}) {
        const auto [code, out] = run_cli({command, "--help"});
        EXPECT_EQ(code, 0) << command;
        EXPECT_THAT(out, HasSubstr("usage: nhpush")) << command;
        EXPECT_THAT(out, HasSubstr("exit codes")) << command;
    }
}

}  // namespace
