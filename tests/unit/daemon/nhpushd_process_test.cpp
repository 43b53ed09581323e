#include "cli/args.hpp"
#include "process/command_line.hpp"
#include "process/config_check.hpp"
#include "process/nhpushd.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace nhpush::process;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* secret_key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";

command_line parse(std::vector<std::string> args) {
    return parse_command_line(args);
}

TEST(nhpushd_command_line, options) {
    EXPECT_EQ(parse({}).what, command_line::action::run);
    EXPECT_EQ(parse({}).config_file, "/etc/nhpush/nhpushd.toml");
    EXPECT_EQ(parse({"--config", "x.toml"}).config_file, "x.toml");
    EXPECT_EQ(parse({"--config=y.toml", "--check-config"}).what, command_line::action::check_config);
    EXPECT_EQ(parse({"--version"}).what, command_line::action::version);
    EXPECT_EQ(parse({"--help", "--version"}).what, command_line::action::help);
    EXPECT_THROW(parse({"--frobnicate"}), nhpush::cli::usage_error);
    EXPECT_THROW(parse({"--config"}), nhpush::cli::usage_error);
}

TEST(nhpushd_command_line, main_answers_help_version_and_bad_arguments) {
    std::ostringstream out, err;
    EXPECT_EQ(nhpushd_main({"--version"}, out, err), 0);
    EXPECT_EQ(out.str(), "nhpushd " NHPUSH_VERSION "\n");
    EXPECT_EQ(nhpushd_main({"--bogus"}, out, err), 2);
    EXPECT_THAT(err.str(), HasSubstr("unknown argument '--bogus'"));
}

class check_config_test : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("nhpushd-check-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        cs_ = (dir_ / "cs").string();
        std::ofstream(cs_)
            << "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Send;SharedAccessKey="
            << secret_key << "\n";
        ::chmod(cs_.c_str(), 0600);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write_config(const std::string& hub_extra) {
        const auto file = (dir_ / "nhpushd.toml").string();
        std::ofstream(file) << "[daemon]\nsocket = \"/tmp/x.sock\"\n[hubs.main]\nhub = \"prod\"\n"
                            << "connection_string_file = \"" << cs_ << "\"\n"
                            << hub_extra;
        return file;
    }

    std::filesystem::path dir_;
    std::string cs_;
};

TEST_F(check_config_test, a_valid_file_is_summarised_without_its_secret) {
    std::ostringstream out, err;
    EXPECT_EQ(check_config(write_config("rate_limit = 50\n"), out, err), 0) << err.str();
    EXPECT_THAT(out.str(), HasSubstr("the configuration is valid"));
    EXPECT_THAT(out.str(),
                HasSubstr("[hubs.main] hub prod at https://ns.servicebus.windows.net/ (policy Send"));
    EXPECT_THAT(out.str(), HasSubstr("\n  rate_limit = 50  # notifications a second\n"));
    EXPECT_THAT(out.str(), HasSubstr("\n  protocol = \"auto\"\n"));
    EXPECT_THAT(out.str(), HasSubstr("\n  max_connections = 64\n"));
    EXPECT_THAT(out.str(), HasSubstr("\n  read_timeout = 30000  # milliseconds\n"));
    EXPECT_THAT(out.str(), Not(HasSubstr("warning")));
    EXPECT_THAT(out.str(), Not(HasSubstr(secret_key)));
    EXPECT_THAT(out.str(), Not(HasSubstr("SharedAccessKey=")));
}

TEST_F(check_config_test, a_deprecated_key_is_valid_with_a_warning) {
    std::ostringstream out, err;
    EXPECT_EQ(check_config(write_config("connections = 4\n"), out, err), 0) << err.str();
    EXPECT_THAT(out.str(), HasSubstr("\n  max_connections = 4\n"));
    EXPECT_THAT(out.str(), HasSubstr("\nwarning: hubs.main.connections is deprecated"));
}

TEST_F(check_config_test, a_bad_key_is_named_and_exits_1) {
    std::ostringstream out, err;
    EXPECT_EQ(check_config(write_config("max_connections = 0\n"), out, err), 1);
    EXPECT_THAT(err.str(), HasSubstr("hubs.main.max_connections must be between 1 and 1024"));
    std::ostringstream out2, err2;
    EXPECT_EQ(check_config(write_config("ca_file = \"/nonexistent/ca.pem\"\n"), out2, err2), 1);
    EXPECT_THAT(err2.str(), HasSubstr("hubs.main.ca_file"));
    ::chmod(cs_.c_str(), 0644);
    std::ostringstream out3, err3;
    EXPECT_EQ(check_config(write_config(""), out3, err3), 1);
    EXPECT_THAT(err3.str(), HasSubstr("hubs.main.connection_string_file"));
    EXPECT_THAT(err3.str(), Not(HasSubstr(secret_key)));
}

}  // namespace
