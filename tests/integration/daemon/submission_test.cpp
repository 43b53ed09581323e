// nhpushd end to end: the real daemon sending to nhpush-hubsim on loopback.

#include "json_answers.hpp"
#include "nhpushd_process.hpp"
#include "prometheus_lint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <set>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;
using testing::HasSubstr;

std::int64_t number_at(const rapidjson::Document& d, const char* pointer) {
    const auto* v = rapidjson::Pointer(pointer).Get(d);
    return v != nullptr && v->IsInt64() ? v->GetInt64() : -1;
}

struct format_case {
    const char* format;
    const char* payload;  // a JSON value: an object, or a string for XML
};

const format_case every_format[] = {
    {"template", R"({"message":"hello"})"},
    {"apple", R"({"aps":{"alert":"hello"}})"},
    {"fcmv1", R"({"message":{"notification":{"title":"hello"}}})"},
    {"gcm", R"({"data":{"message":"hello"}})"},
    {"windows",
     R"("<toast><visual><binding template=\"ToastText01\"><text id=\"1\">hello</text></binding></visual></toast>")"},
    {"windowsphone",
     R"("<?xml version=\"1.0\" encoding=\"utf-8\"?><wp:Notification xmlns:wp=\"WPNotification\"><wp:Toast><wp:Text1>hello</wp:Text1></wp:Toast></wp:Notification>")"},
    {"adm", R"({"data":{"message":"hello"}})"},
    {"baidu", R"({"title":"hello","description":"hello"})"},
    {"browser", R"({"title":"hello","body":"hello"})"},
    {"xiaomi", R"({"title":"hello","description":"hello"})"},
};

TEST(nhpushd, every_format_is_sent_and_answered_with_the_hubs_result) {
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub);
    auto client = daemon.client();  // one keep-alive connection for every request
    for (const auto& c : every_format) {
        const auto body = std::string(R"({"hub":"main","format":")") + c.format + R"(","payload":)" +
                          c.payload + R"(,"tags":"format:)" + c.format + R"("})";
        const auto answer = client.post_json("/v1/notifications?wait=true", body);
        ASSERT_EQ(answer.status, 200u) << c.format << ": " << answer.body;
        const auto d = parse_json(answer.body);
        EXPECT_EQ(text_at(d, "/status"), "sent") << c.format << ": " << answer.body;
        EXPECT_EQ(number_at(d, "/http_status"), 201) << c.format;
        EXPECT_FALSE(text_at(d, "/notification_id").empty()) << c.format;
        EXPECT_FALSE(text_at(d, "/tracking_id").empty()) << c.format;
        EXPECT_EQ(text_at(d, "/id").size(), 16u) << "a daemon-made id: " << answer.body;
    }
    ASSERT_TRUE(hub.wait_for_record_lines(std::size(every_format), 5s));
    std::set<std::string> formats;
    for (const auto& line : hub.record_lines()) {
        formats.insert(text_at(parse_json(line), "/format"));
    }
    EXPECT_EQ(formats.size(), std::size(every_format));
    for (const auto& c : every_format) {
        EXPECT_EQ(hub.stat(std::string("/accepted_by_format/") + c.format), 1u) << c.format;
    }
}

TEST(nhpushd, accepts_at_once_then_reports_the_state_by_id) {
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub);
    auto client = daemon.client();
    auto answer = client.post_json(
        "/v1/notifications",
        notification_json(
            R"("id":"order-17","tags":"user:42 || user:43","headers":{"X-Nhpush-Id":"order-17"})"));
    ASSERT_EQ(answer.status, 202u) << answer.body;
    EXPECT_EQ(answer.body, R"({"id":"order-17"})");
    ASSERT_TRUE(hub.wait_for_record_lines(1, 5s));
    EXPECT_THAT(hub.record_lines()[0], HasSubstr(R"("client_id":"order-17")"));
    // The result is recorded once the hub has answered: wait for it.
    rapidjson::Document d;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
        answer = client.get("/v1/notifications/order-17");
        ASSERT_EQ(answer.status, 200u) << answer.body;
        d = parse_json(answer.body);
    } while (text_at(d, "/status") == "queued" && std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(text_at(d, "/status"), "sent") << answer.body;
    EXPECT_EQ(text_at(d, "/hub"), "main");
    EXPECT_EQ(number_at(d, "/attempts"), 1);

    answer = client.get("/v1/notifications/never-seen");
    EXPECT_EQ(answer.status, 404u);
    EXPECT_EQ(text_at(parse_json(answer.body), "/error/code"), "not_found");
}

TEST(nhpushd, wait_mode_reports_a_failure_with_the_hubs_answer) {
    hubsim_process hub({.args = {"--hub", "main"}});
    nhpushd_process daemon(hub, {.hub_name = "no-such-hub"});
    const auto answer = daemon.client().post_json("/v1/notifications?wait=true", notification_json());
    ASSERT_EQ(answer.status, 200u) << answer.body;
    const auto d = parse_json(answer.body);
    EXPECT_EQ(text_at(d, "/status"), "failed");
    EXPECT_EQ(text_at(d, "/reason"), "hub_rejected");
    EXPECT_EQ(number_at(d, "/http_status"), 404);
}

TEST(nhpushd, ndjson_batch_queues_the_valid_lines_and_reports_the_others_by_line) {
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub);
    const std::string batch =
        notification_json(R"("tags":"user:1")") + "\n" +
        R"({"hub":"main","format":"template","payload":{"message":"b"},"tag":"user:2"})" + "\r\n\n" +
        "not json\n" + notification_json(R"("tags":"user:3 &&")") + "\n" +
        R"({"hub":"other","format":"template","payload":{"message":"c"}})" + "\n" +
        notification_json(R"("id":"last")");  // no final newline
    const auto answer = daemon.client().request("POST", "/v1/notifications", batch, "application/x-ndjson");
    ASSERT_EQ(answer.status, 202u) << answer.body;
    const auto d = parse_json(answer.body);
    ASSERT_EQ(d["accepted"].Size(), 2u) << answer.body;
    EXPECT_EQ(d["accepted"][0]["line"].GetInt(), 1);
    EXPECT_EQ(d["accepted"][1]["line"].GetInt(), 7);
    EXPECT_STREQ(d["accepted"][1]["id"].GetString(), "last");
    ASSERT_EQ(d["rejected"].Size(), 4u) << answer.body;
    const std::pair<int, const char*> expected[] = {
        {2, "unknown_field"}, {4, "invalid_json"}, {5, "invalid_tags"}, {6, "unknown_hub"}};
    for (std::size_t i = 0; i < std::size(expected); ++i) {
        EXPECT_EQ(d["rejected"][i]["line"].GetInt(), expected[i].first);
        EXPECT_STREQ(d["rejected"][i]["code"].GetString(), expected[i].second);
    }
    EXPECT_TRUE(hub.wait_for_record_lines(2, 5s));
}

TEST(nhpushd, stats_and_metrics_report_per_hub_and_the_metrics_parse) {
    hubsim_process hub;
    nhpushd_process daemon(hub);
    auto client = daemon.client();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(client.post_json("/v1/notifications?wait=true", notification_json()).status, 200u);
    }
    ASSERT_EQ(client.post_json("/v1/notifications", R"({"hub":"main","format":"template"})").status, 400u);

    const auto stats = client.get("/v1/stats");
    ASSERT_EQ(stats.status, 200u);
    EXPECT_EQ(stats.header("content-type"), "application/json");
    const auto d = parse_json(stats.body);
    EXPECT_EQ(number_at(d, "/hubs/main/sent"), 3);
    EXPECT_EQ(number_at(d, "/hubs/main/submitted"), 3);
    EXPECT_EQ(number_at(d, "/hubs/main/queue_capacity"), 100000);
    EXPECT_EQ(text_at(d, "/hubs/main/hub"), "main");
    EXPECT_EQ(number_at(d, "/daemon/client_connections/open"), 1);
    EXPECT_THAT(stats.body, testing::Not(HasSubstr(hub.key())));
    EXPECT_THAT(stats.body, testing::Not(HasSubstr("SharedAccessKey")));

    const auto metrics = client.get("/metrics");
    ASSERT_EQ(metrics.status, 200u);
    EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    std::vector<nhpush::test::exposition_sample> samples;
    const auto problems = nhpush::test::lint_exposition(metrics.body, &samples);
    EXPECT_TRUE(problems.empty()) << testing::PrintToString(problems);
    const auto value = [&](std::string_view name, std::vector<std::pair<std::string, std::string>> labels) {
        for (const auto& s : samples) {
            if (s.name == name && s.labels == labels) {
                return s.value;
            }
        }
        return -1.0;
    };
    EXPECT_EQ(value("nhpushd_notifications_total", {{"hub", "main"}, {"outcome", "sent"}}), 3);
    EXPECT_EQ(value("nhpushd_send_latency_seconds_count", {{"hub", "main"}}), 3);
    EXPECT_EQ(value("nhpushd_request_errors_total", {{"code", "missing_field"}}), 1);
    EXPECT_EQ(value("nhpushd_ready", {}), 1);
    EXPECT_THAT(metrics.body, testing::Not(HasSubstr(hub.key())));

    const auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 200u);
    EXPECT_EQ(health.body, R"({"status":"ok"})");
}

TEST(nhpushd, healthz_turns_unhealthy_when_every_send_fails_authentication) {
    hubsim_process hub;
    const auto wrong_key = "Endpoint=sb://127.0.0.1:" + std::to_string(hub.port()) +
                           "/;SharedAccessKeyName=" + hub.key_name() +
                           ";SharedAccessKey=d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=";
    nhpushd_process daemon(hub, {.connection_string = wrong_key});
    auto client = daemon.client();
    for (int i = 0; i < 3; ++i) {
        const auto answer = client.post_json("/v1/notifications?wait=true", notification_json());
        ASSERT_EQ(answer.status, 200u);
        EXPECT_EQ(number_at(parse_json(answer.body), "/http_status"), 401) << answer.body;
    }
    const auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 503u);
    EXPECT_THAT(health.body, HasSubstr("hub main: the last 3 sends failed authentication (HTTP 401)"));
    EXPECT_THAT(health.body, testing::Not(HasSubstr("d3Jvbmcta2V5")));
    const auto [code, output] = run_cli({"--socket", daemon.socket_path(), "health"});
    EXPECT_EQ(code, 1) << output;
    EXPECT_THAT(output, HasSubstr("unhealthy"));
    EXPECT_THAT(daemon.log(), testing::Not(HasSubstr("d3Jvbmcta2V5")));
}

}  // namespace
