#include "cli/cli.hpp"

#include <nhpush/sas_token.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using testing::HasSubstr;

namespace {

constexpr const char* cs =
    "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=rule;SharedAccessKey=Secret+Key=";

struct run_result {
    int code;
    std::string out, err;
};

run_result run(std::vector<std::string> args) {
    std::ostringstream out, err;
    const int code = nhpush::cli::run(std::move(args), out, err);
    return {code, out.str(), err.str()};
}

TEST(cli, help_and_version) {
    EXPECT_THAT(run({"--help"}).out, HasSubstr("sas-token"));
    EXPECT_EQ(run({"--help"}).code, 0);
    EXPECT_EQ(run({"--version"}).out, "nhpush " NHPUSH_VERSION "\n");
    EXPECT_EQ(run({}).code, 2);
    EXPECT_THAT(run({"frobnicate"}).err, HasSubstr("unknown command 'frobnicate'"));
}

TEST(cli, sas_token_for_a_hub) {
    const auto r = run({"sas-token", "--connection-string", cs, "--hub", "myhub", "--expiry", "1767225600"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              nhpush::make_sas_token(
                  "rule", "Secret+Key=", "https://myns.servicebus.windows.net/myhub", 1767225600) +
                  "\n");
}

TEST(cli, sas_token_for_a_resource_from_a_file) {
    const std::string path = testing::TempDir() + "/cs.txt";
    std::ofstream(path) << cs << "\n";
    const auto r = run({"sas-token",
                        "--connection-string-file",
                        path,
                        "--resource",
                        "https://myns.servicebus.windows.net/",
                        "--expiry=1767225600"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(
        r.out,
        nhpush::make_sas_token("rule", "Secret+Key=", "https://myns.servicebus.windows.net/", 1767225600) +
            "\n");
}

TEST(cli, sas_token_usage_errors_say_what_to_fix) {
    EXPECT_THAT(run({"sas-token", "--connection-string", cs}).err,
                HasSubstr("exactly one of --hub NAME or --resource URI"));
    EXPECT_THAT(run({"sas-token", "--connection-string", cs, "--hub", "h", "--expiry", "soon"}).err,
                HasSubstr("--expiry 'soon'"));
    EXPECT_THAT(run({"sas-token", "--connection-string", cs, "--hub", "h", "--bogus"}).err,
                HasSubstr("unknown argument '--bogus'"));
    EXPECT_THAT(run({"sas-token", "--connection-string-file", "/nonexistent", "--hub", "h"}).err,
                HasSubstr("cannot read --connection-string-file"));
    const auto bad =
        run({"sas-token", "--connection-string", "Endpoint=sb://x/;SharedAccessKeyName=n", "--hub", "h"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_THAT(bad.err, HasSubstr("no SharedAccessKey"));
}

TEST(cli, sas_token_help) {
    EXPECT_THAT(run({"sas-token", "--help"}).out, HasSubstr("--connection-string-file"));
}

}  // namespace

namespace {

TEST(cli, the_notifications_life_commands_say_what_they_need) {
    EXPECT_THAT(run({"--help"}).out, HasSubstr("dead-letters"));
    EXPECT_EQ(run({"cancel"}).code, 2);
    EXPECT_THAT(run({"cancel"}).err, HasSubstr("cancel needs the notification's ID"));
    EXPECT_THAT(run({"details"}).err, HasSubstr("details needs the notification's ID"));
    EXPECT_THAT(run({"dead-letters"}).err, HasSubstr("dead-letters needs list, requeue ID or purge"));
    EXPECT_THAT(run({"dead-letters", "drop"}).err, HasSubstr("not 'drop'"));
    EXPECT_THAT(run({"dead-letters", "requeue"}).err, HasSubstr("needs the notification's ID"));
    EXPECT_THAT(run({"dead-letters", "--help"}).out, HasSubstr("newest first"));
    EXPECT_EQ(run({"cancel", "--help"}).code, 0);
}

}  // namespace
