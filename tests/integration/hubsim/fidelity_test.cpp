// Fidelity with clients nobody here wrote: the official JavaScript SDK (@azure/notification-hubs,
// tests/sdk-js/hubsim-fidelity.mjs) and the Python REST sample (tests/integration/python).

#include "nh_requests.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <map>

namespace nhpush::testing {
namespace {

using namespace std::chrono_literals;

const std::string sdk_dir = NHPUSH_SDK_JS_DIR;

/// Runs the SDK script against `hub`; its exit status and output.
std::pair<int, std::string> run_sdk(const hubsim_process& hub,
                                    const std::string& connection_string,
                                    const char* mode) {
    if (!std::filesystem::exists(sdk_dir + "/node_modules/@azure/notification-hubs")) {
        return {-1, "the SDK is not installed: run scripts/setup (npm ci in tests/sdk-js)"};
    }
    return run_to_completion({.program = NHPUSH_NODE,
                              .args = {"hubsim-fidelity.mjs", mode},
                              .env = {{"NODE_EXTRA_CA_CERTS", hub.cert_file()},
                                      {"HUBSIM_CONNECTION_STRING", connection_string},
                                      {"HUBSIM_HUB", "sdkhub"}},
                              .working_directory = sdk_dir},
                             30s);
}

std::map<std::string, int> count_client_ids(const std::vector<std::string>& lines) {
    std::map<std::string, int> ids;
    for (const auto& line : lines) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        if (d.IsObject() && d.HasMember("client_id")) {
            ++ids[d["client_id"].GetString()];
        }
    }
    return ids;
}

TEST(js_sdk_fidelity, EveryKindOfSendIsAccepted) {
    hubsim_process hub({.args = {"--hub", "sdkhub"}, .record = true});
    const auto [status, out] = run_sdk(hub, hub.connection_string(), "send-all");
    ASSERT_EQ(status, 0) << out;
    // Each notification arrived exactly once.
    const auto ids = count_client_ids(hub.record_lines());
    for (const char* step : {"js-apple",
                             "js-fcmv1",
                             "js-windows",
                             "js-template",
                             "js-tag-expression",
                             "js-direct",
                             "js-batch",
                             "js-test-send",
                             "js-scheduled",
                             "js-details"}) {
        EXPECT_EQ(ids.count(step) ? ids.at(step) : 0, 1) << step;
    }
    EXPECT_EQ(hub.stat("/accepted_by_format/apple"), 3u);
    EXPECT_EQ(hub.stat("/accepted_by_format/fcmv1"), 2u);
    EXPECT_EQ(hub.stat("/accepted_by_format/windows"), 2u);
    EXPECT_EQ(hub.stat("/accepted_by_format/template"), 3u);
    EXPECT_EQ(hub.stat("/auth_failures"), 0u);
    EXPECT_EQ(hub.stat("/answers_by_status/400"), 0u);
}

TEST(js_sdk_fidelity, AWrongKeyIsReportedAs401) {
    hubsim_process hub;
    std::string wrong = hub.connection_string();
    wrong.replace(wrong.find("SharedAccessKey=") + 16, std::string::npos, "d3Jvbmcta2V5");
    const auto [status, out] = run_sdk(hub, wrong, "expect-401");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(hub.stat("/auth_failures_by_reason/InvalidSignature"), 1u);
    EXPECT_EQ(hub.stat("/accepted"), 0u);
}

TEST(python_sample_fidelity, TheSampleSendsSuccessfully) {
    hubsim_process hub;
    const auto [status, out] =
        run_to_completion({.program = NHPUSH_PYTHON3,
                           .args = {NHPUSH_PYTHON_SAMPLE, hub.connection_string(), "MyHub"},
                           .env = {{"HUBSIM_CA_FILE", hub.cert_file()}}},
                          60s);
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("sample client: all sends done"), std::string::npos) << out;
    // The debug send is a test send: the sample prints the outcome hubsim answered.
    EXPECT_NE(out.find("201 Created"), std::string::npos) << out;
    EXPECT_NE(out.find("<NotificationOutcome"), std::string::npos) << out;
    EXPECT_EQ(hub.stat("/accepted"), 9u);
    EXPECT_EQ(hub.stat("/accepted_by_format/windows"), 4u);
    for (const char* format : {"apple", "gcm", "adm", "baidu", "template"}) {
        EXPECT_EQ(hub.stat(std::string("/accepted_by_format/") + format), 1u) << format;
    }
}

}  // namespace
}  // namespace nhpush::testing
