#include "cli/cli.hpp"
#include "cli/daemon_answers.hpp"
#include "cli/send_request.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <sstream>

using namespace nhpush::cli;
using testing::HasSubstr;

namespace {

send_options read(std::vector<std::string> words) {
    args a(std::move(words));
    auto o = read_send_options(a);
    a.expect_empty();
    return o;
}

TEST(cli_send, notification_object_from_options) {
    const auto o = read({"--hub",
                         "main",
                         "--format",
                         "apple",
                         "--payload",
                         R"({"aps":{"alert":"Hi"}})",
                         "--tags",
                         "a && !b",
                         "--header",
                         "apns-priority: 10",
                         "--id",
                         "order-1",
                         "--test"});
    EXPECT_EQ(notification_json(o),
              R"({"hub":"main","format":"apple","payload":"{\"aps\":{\"alert\":\"Hi\"}}","tags":"a && !b",)"
              R"("headers":{"apns-priority":"10"},"test":true,"id":"order-1"})");
    EXPECT_FALSE(o.wait);
    EXPECT_EQ(o.timeout, std::chrono::seconds{30});
}

TEST(cli_send, direct_scheduled_and_wait) {
    const auto o = read({"--hub=h",
                         "--format=fcmv1",
                         "--payload={}",
                         "--device-handle",
                         "tok",
                         "--schedule-at",
                         "2030-01-01T00:00:00Z",
                         "--wait"});
    EXPECT_EQ(
        notification_json(o),
        R"({"hub":"h","format":"fcmv1","payload":"{}","device_handle":"tok","schedule_at":"2030-01-01T00:00:00Z"})");
    EXPECT_TRUE(o.wait);
    EXPECT_EQ(o.timeout, std::chrono::seconds{1800});
}

TEST(cli_send, usage_errors) {
    EXPECT_THROW(read({"--format", "apple", "--payload", "{}"}), usage_error);
    EXPECT_THROW(read({"--hub", "h", "--payload", "{}"}), usage_error);
    EXPECT_THROW(read({"--hub", "h", "--format", "apple", "--payload", "@/nonexistent/file"}), usage_error);
    EXPECT_THROW(read({"--ndjson", "-", "--wait"}), usage_error);
    EXPECT_THROW(read({"--hub", "h", "--format", "a", "--payload", "{}", "--timeout", "soon"}), usage_error);
    EXPECT_THROW(read({"--hub", "h", "--format", "a", "--payload", "{}", "--header", "novalue"}),
                 usage_error);
}

TEST(cli_send, unreachable_daemon_exits_3_and_says_where_it_looked) {
    std::ostringstream out, err;
    const int code = run({"--socket",
                          "/nonexistent/nhpushd.sock",
                          "send",
                          "--hub",
                          "h",
                          "--format",
                          "apple",
                          "--payload",
                          "{}"},
                         out,
                         err);
    EXPECT_EQ(code, 3);
    EXPECT_THAT(err.str(), HasSubstr("/nonexistent/nhpushd.sock"));
    EXPECT_EQ(run({"--socket", "/nonexistent/x.sock", "health"}, out, err), 3);
    EXPECT_EQ(run({"status"}, out, err), 2);
    EXPECT_EQ(run({"stats", "--help"}, out, err), 0);
}

TEST(cli_answers, results) {
    auto d = describe_result(
        R"({"id":"x1","hub":"main","status":"sent","notification_id":"n9","tracking_id":"t","attempts":2,"http_status":201})");
    EXPECT_EQ(d.exit_code, exit_ok);
    EXPECT_EQ(d.text, "x1: sent: HTTP 201, notification id n9, tracking id t, 2 attempt(s)\n");
    d = describe_result(
        R"({"id":"x2","status":"failed","reason":"hub_rejected","attempts":1,"http_status":401,"error_code":"401","error_detail":"ExpiredToken"})");
    EXPECT_EQ(d.exit_code, exit_failed);
    EXPECT_EQ(d.text, "x2: not sent: hub_rejected (HTTP 401, code 401): ExpiredToken, 1 attempt(s)\n");
    EXPECT_EQ(describe_result(R"({"id":"q","hub":"main","status":"queued"})").text,
              "q: queued for hub main\n");
    EXPECT_EQ(accepted_id(R"({"id":"abc"})"), "abc");
}

TEST(cli_answers, a_duplicate_id_is_reported_as_already_accepted_with_its_state) {
    auto d = describe_duplicate(
        R"({"id":"order-7","hub":"main","status":"queued","error":{"code":"duplicate_id","message":"m","field":"id"}})");
    EXPECT_EQ(d.exit_code, exit_ok);
    EXPECT_EQ(d.text, "already accepted, nothing new queued: order-7: queued for hub main\n");
    d = describe_duplicate(
        R"({"id":"o","hub":"main","status":"failed","reason":"hub_rejected","attempts":1,"error":{"code":"duplicate_id"}})");
    EXPECT_EQ(d.exit_code, exit_failed) << "with --wait, the state decides";
}

TEST(cli_answers, a_truncated_batch_answer_counts_every_rejected_line) {
    const auto b = describe_batch(
        R"({"accepted":[],"rejected":[{"line":1,"code":"invalid_json","message":"m","field":""}],)"
        R"("rejected_count":250,"rejected_by_code":{"invalid_json":200,"queue_full":50},"rejected_truncated":true})");
    EXPECT_EQ(b.exit_code, exit_usage);
    EXPECT_THAT(b.text, HasSubstr("queued 0 notification(s), rejected 250 (the first 1 listed)\n"));
    EXPECT_THAT(b.text, HasSubstr("rejected lines by code: invalid_json 200, queue_full 50\n"));
}

TEST(cli_answers, errors_batches_and_health) {
    const auto e = describe_error(
        {503, "application/json", "2", R"({"error":{"code":"queue_full","message":"full","field":""}})"});
    EXPECT_EQ(e.exit_code, exit_failed);
    EXPECT_EQ(e.text, "queue_full: full; retry after 2 s\n");
    const auto bad = describe_error(
        {400, "application/json", "", R"({"error":{"code":"invalid_tags","message":"bad","field":"tags"}})"});
    EXPECT_EQ(bad.exit_code, exit_usage);
    EXPECT_EQ(bad.text, "invalid_tags: bad (field tags)\n");

    auto b = describe_batch(
        R"({"accepted":[{"line":1,"id":"a"}],"rejected":[{"line":2,"code":"queue_full","message":"m","field":""}]})");
    EXPECT_EQ(b.exit_code, exit_failed);
    b = describe_batch(
        R"({"accepted":[],"rejected":[{"line":3,"code":"unknown_field","message":"m","field":"tag"}]})");
    EXPECT_EQ(b.exit_code, exit_usage);
    EXPECT_THAT(b.text, HasSubstr("line 3: rejected: unknown_field: m (field tag)"));

    b = describe_batch(
        R"({"accepted":[{"line":1,"id":"a"}],"rejected":[{"line":2,"code":"duplicate_id","message":"m","field":"id"}],)"
        R"("rejected_count":1,"rejected_by_code":{"duplicate_id":1},"rejected_truncated":false})");
    EXPECT_EQ(b.exit_code, exit_ok) << "a line accepted before is not an error";
    EXPECT_THAT(b.text, HasSubstr("line 2: already accepted: duplicate_id: m (field id)"));

    EXPECT_EQ(describe_health({200, "", "", R"({"status":"ok"})"}).exit_code, exit_ok);
    const auto h = describe_health({503, "", "", R"({"status":"unhealthy","reasons":["hub main: auth"]})"});
    EXPECT_EQ(h.exit_code, exit_failed);
    EXPECT_EQ(h.text, "unhealthy\n  hub main: auth\n");
}

TEST(cli_answers, stats_table) {
    const auto s = describe_stats(
        R"({"daemon":{"version":"1","uptime_seconds":3,"ready":true,"client_connections":{"open":1}},)"
        R"("hubs":{"main":{"submitted":5,"sent":4,"failed":{"hub_rejected":1},"rejected_queue_full":0,)"
        R"("queue_depth":0,"retries":0,"healthy":true,"latency_seconds":{"p50":0.002,"p99":0.01}}}})");
    EXPECT_EQ(s.exit_code, exit_ok);
    EXPECT_THAT(s.text, HasSubstr("nhpushd 1: up 3 s, ready"));
    EXPECT_THAT(s.text, HasSubstr("main"));
}

}  // namespace

namespace {

TEST(cli_answers, dead_letters_are_listed_one_a_line_with_the_next_page) {
    const auto d = nhpush::cli::describe_dead_letters(
        {.status = 200,
         .body =
             R"({"dead_letters":[{"id":"n-2","hub":"main","submission":{"hub":"main"},"reason":"hub_rejected",)"
             R"("http_status":400,"error_code":"BadRequest","error_detail":"bad payload","attempts":1,)"
             R"("accepted_at":"2026-11-30T14:00:00Z","failed_at":"2026-11-30T14:00:01Z"}],)"
             R"("more":true,"next_after":"n-2","dropped":0,"file_bytes":300,"max_bytes":67108864})"});
    EXPECT_EQ(d.exit_code, nhpush::cli::exit_ok);
    EXPECT_EQ(
        d.text,
        "2026-11-30T14:00:01Z n-2 hub main: hub_rejected (HTTP 400): bad payload, 1 attempt(s), accepted "
        "2026-11-30T14:00:00Z\n"
        "more: nhpush dead-letters list --after n-2\n");
}

TEST(cli_answers, a_cancel_says_where_and_a_refusal_fails) {
    auto d = nhpush::cli::describe_cancel(
        {.status = 200,
         .body = R"({"id":"n-1","hub":"main","status":"failed","reason":"cancelled","cancelled":"queue"})"});
    EXPECT_EQ(d.text, "n-1: cancelled while queued for hub main; it will not be sent\n");
    d = nhpush::cli::describe_cancel(
        {.status = 409, .body = R"({"error":{"code":"cannot_cancel","message":"on the wire","field":""}})"});
    EXPECT_EQ(d.exit_code, nhpush::cli::exit_failed);
    EXPECT_EQ(d.text, "cannot_cancel: on the wire\n");
}

}  // namespace
