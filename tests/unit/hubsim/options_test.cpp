#include "hubsim/options.hpp"

#include <gtest/gtest.h>

namespace nhpush::hubsim {
namespace {

using namespace std::chrono_literals;

command_line parse(std::vector<std::string> args) {
    return parse_command_line(args);
}

std::string error_of(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const usage_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(hubsim_options, TheIssuesCommandLine) {
    const auto cl = parse({"--listen",
                           "127.0.0.1:0",
                           "--cert",
                           "c.pem",
                           "--key",
                           "k.pem",
                           "--key-name",
                           "Full",
                           "--key",
                           "secret=",
                           "--connection-string",
                           "Endpoint=sb://x/;SharedAccessKeyName=Send;SharedAccessKey=s2",
                           "--fail-429",
                           "0.1",
                           "--threads",
                           "3",
                           "--record",
                           "r.ndjson",
                           "--hub",
                           "a",
                           "--hub",
                           "b"});
    const auto& c = cl.config;
    EXPECT_EQ(cl.what, command_line::action::run);
    EXPECT_EQ(c.listen_host, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 0);
    EXPECT_EQ(c.cert_file, "c.pem");
    EXPECT_EQ(c.key_file, "k.pem");
    ASSERT_EQ(c.credentials.size(), 2u);
    EXPECT_EQ(c.credentials[0].key_name, "Full");
    EXPECT_EQ(c.credentials[0].key, "secret=");
    EXPECT_EQ(c.credentials[1].key_name, "Send");
    EXPECT_EQ(c.credentials[1].key, "s2");
    EXPECT_EQ(c.faults.fail_429, 0.1);
    EXPECT_EQ(c.threads, 3u);
    EXPECT_EQ(c.record_file, "r.ndjson");
    EXPECT_EQ(c.hubs, (std::vector<std::string>{"a", "b"}));
}

TEST(hubsim_options, EveryFaultFlag) {
    const auto c = parse({"--listen=127.0.0.1:8443",
                          "--key-name=k",
                          "--sas-key=v",
                          "--fail-429",
                          "0.1",
                          "--retry-after-429",
                          "2",
                          "--fail-403",
                          "0.2",
                          "--retry-after-403",
                          "3",
                          "--fail-500",
                          "0.05",
                          "--fail-503",
                          "0.15",
                          "--retry-after-503",
                          "4",
                          "--latency",
                          "12",
                          "--latency-jitter",
                          "7",
                          "--close-after",
                          "100",
                          "--drop",
                          "0.01",
                          "--rate-limit",
                          "500",
                          "--retry-after-rate-limit",
                          "5",
                          "--seed",
                          "42"})
                       .config;
    EXPECT_EQ(c.listen_port, 8443);
    EXPECT_EQ(c.faults,
              (fault_config{.fail_429 = 0.1,
                            .retry_after_429 = 2s,
                            .fail_403 = 0.2,
                            .retry_after_403 = 3s,
                            .fail_500 = 0.05,
                            .fail_503 = 0.15,
                            .retry_after_503 = 4s,
                            .latency = 12ms,
                            .latency_jitter = 7ms,
                            .close_after = 100,
                            .drop = 0.01,
                            .rate_limit = 500,
                            .retry_after_rate_limit = 5s}));
    EXPECT_EQ(c.seed, 42u);
}

TEST(hubsim_options, LoopbackOnly) {
    EXPECT_EQ(parse({"--listen", "[::1]:0", "--key-name", "k", "--key", "v"}).config.listen_host, "::1");
    EXPECT_EQ(parse({"--listen", "localhost:0", "--key-name", "k", "--key", "v"}).config.listen_host,
              "127.0.0.1");
    EXPECT_EQ(parse({"--listen", "127.1.2.3:0", "--key-name", "k", "--key", "v"}).config.listen_host,
              "127.1.2.3");
    for (const char* address : {"0.0.0.0:0", "192.168.1.10:80", "[::]:0", "example.com:443"}) {
        EXPECT_NE(error_of({"--listen", address, "--key-name", "k", "--key", "v"}).find("--listen"),
                  std::string::npos)
            << address;
    }
    EXPECT_NE(error_of({"--listen", "0.0.0.0:0", "--key-name", "k", "--key", "v"}).find("loopback"),
              std::string::npos);
}

TEST(hubsim_options, HelpAndVersionWinOverEverything) {
    EXPECT_EQ(parse({"--bogus", "--help"}).what, command_line::action::help);
    EXPECT_EQ(parse({"--version"}).what, command_line::action::version);
}

TEST(hubsim_options, SaysWhatIsWrong) {
    EXPECT_NE(error_of({"--key-name", "k", "--key", "v"}).find("--listen"), std::string::npos);
    EXPECT_NE(error_of({"--listen", "127.0.0.1:0"}).find("--key-name"), std::string::npos);
    EXPECT_NE(error_of({"--listen", "127.0.0.1:0", "--key-name", "k"}).find("--key KEY"), std::string::npos);
    EXPECT_NE(error_of({"--listen", "127.0.0.1:0", "--key-name", "k", "--hub", "h"}).find("--key KEY"),
              std::string::npos);
    EXPECT_NE(
        error_of({"--listen", "127.0.0.1:0", "--key-name", "k", "--key", "v", "--cert", "c"}).find("--cert"),
        std::string::npos);
    EXPECT_NE(error_of({"--listen", "127.0.0.1:0", "--key-name", "k", "--key", "v", "--fail-429", "2"})
                  .find("--fail-429"),
              std::string::npos);
    EXPECT_NE(error_of({"--listen",
                        "127.0.0.1:0",
                        "--key-name",
                        "k",
                        "--key",
                        "v",
                        "--fail-429",
                        "0.6",
                        "--fail-503",
                        "0.6"})
                  .find("exceed"),
              std::string::npos);
    EXPECT_NE(
        error_of({"--listen", "127.0.0.1:0", "--connection-string", "nonsense"}).find("--connection-string"),
        std::string::npos);
    EXPECT_NE(
        error_of({"--listen", "127.0.0.1:0", "--key-name", "k", "--key", "v", "--nope", "1"}).find("--nope"),
        std::string::npos);
    EXPECT_NE(error_of({"--listen", "127.0.0.1:99999", "--key-name", "k", "--key", "v"}).find("65535"),
              std::string::npos);
    EXPECT_NE(error_of({"--listen"}).find("needs a value"), std::string::npos);
}

TEST(hubsim_options, Http2Options) {
    const std::vector<std::string> base{"--listen", "127.0.0.1:0", "--key-name", "k", "--key", "v"};
    const auto with = [&](std::vector<std::string> more) {
        auto args = base;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    EXPECT_EQ(parse(base).config.http2, http2_config{});
    EXPECT_TRUE(http2_config{}.serve_h2 && http2_config{}.serve_http1);
    EXPECT_EQ(http2_config{}.max_streams, 100u);
    const auto c = parse(with({"--protocols",
                               "h2",
                               "--max-streams",
                               "50",
                               "--goaway-after",
                               "10",
                               "--h2-misbehave",
                               "zero-window",
                               "--rst-stream",
                               "0.5",
                               "--rst-stream-code",
                               "internal"}))
                       .config;
    EXPECT_EQ(c.http2,
              (http2_config{.serve_h2 = true,
                            .serve_http1 = false,
                            .max_streams = 50,
                            .goaway_after = 10,
                            .misbehave = h2_misbehavior::zero_window}));
    EXPECT_EQ(c.faults.rst_stream, 0.5);
    EXPECT_EQ(c.faults.rst_stream_code, stream_reset_code::internal_error);
    EXPECT_FALSE(parse(with({"--protocols", "http1"})).config.http2.serve_h2);
    EXPECT_TRUE(parse(with({"--protocols", "http1,h2"})).config.http2.serve_h2);
    for (const auto& [mode, name] : {std::pair{h2_misbehavior::no_settings, "no-settings"},
                                     std::pair{h2_misbehavior::huge_headers, "huge-headers"},
                                     std::pair{h2_misbehavior::reset_mid_stream, "reset-mid-stream"}}) {
        EXPECT_EQ(parse(with({"--h2-misbehave", name})).config.http2.misbehave, mode);
        EXPECT_EQ(to_string(mode), name);
    }
    const std::pair<std::vector<std::string>, std::string> bad[] = {
        {{"--protocols", "h3"}, "--protocols"},
        {{"--protocols", ","}, "--protocols"},
        {{"--max-streams", "0"}, "--max-streams"},
        {{"--max-streams", "1000001"}, "--max-streams"},
        {{"--goaway-after", "x"}, "--goaway-after"},
        {{"--rst-stream", "1.5"}, "--rst-stream"},
        {{"--rst-stream-code", "cancel"}, "--rst-stream-code"},
        {{"--h2-misbehave", "sometimes"}, "--h2-misbehave"}};
    for (const auto& [args, name] : bad) {
        EXPECT_NE(error_of(with(args)).find(name), std::string::npos) << error_of(with(args));
    }
}

TEST(hubsim_options, HelpMentionsEveryOption) {
    const auto help = help_text();
    for (const char* option : {"--listen",
                               "--cert",
                               "--key",
                               "--tls-key",
                               "--cert-out",
                               "--connection-string",
                               "--key-name",
                               "--sas-key",
                               "--hub",
                               "--threads",
                               "--idle-timeout",
                               "--record",
                               "--seed",
                               "--fail-429",
                               "--retry-after-429",
                               "--fail-403",
                               "--retry-after-403",
                               "--fail-500",
                               "--fail-503",
                               "--retry-after-503",
                               "--latency",
                               "--latency-jitter",
                               "--close-after",
                               "--drop",
                               "--rate-limit",
                               "--retry-after-rate-limit",
                               "--rst-stream",
                               "--rst-stream-code",
                               "--protocols",
                               "--max-streams",
                               "--goaway-after",
                               "--h2-misbehave",
                               "no-settings",
                               "huge-headers",
                               "zero-window",
                               "reset-mid-stream",
                               "--help",
                               "--version"}) {
        EXPECT_NE(help.find(option), std::string_view::npos) << option;
    }
}

}  // namespace
}  // namespace nhpush::hubsim
