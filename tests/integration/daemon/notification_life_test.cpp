// A notification's life after its 202, through the API and the CLI: dead letters (listed, requeued,
// purged), cancelling one still queued or scheduled at the hub, and the hub's outcome details.

#include "hubsim_process.hpp"
#include "json_answers.hpp"
#include "nhpushd_process.hpp"
#include "test_wait.hpp"

#include <nhpush/notification.hpp>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

using namespace std::chrono;
using namespace nhpush::testing;
using ::testing::HasSubstr;

namespace {

/// A spool directory of the test's own, removed at the end.
struct spool_dir {
    std::string path = make_temp_dir("nhpush-life");
    ~spool_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    /// Lines for nhpushd_options::daemon_extra: the [spool] table (it ends where [hubs.main] starts).
    std::string table() const { return "[spool]\ndir = \"" + path + "/spool\"\n"; }
};

/// hubsim refuses this api-version for sends with 400: a permanent failure the daemon cannot foresee.
constexpr const char* refused_api_version = "api_version = \"2012-01\"\n";

/// Waits until `id` is no longer queued; its final state.
std::string wait_final(nhpushd_process& d, const std::string& id, milliseconds timeout = seconds{20}) {
    std::string status;
    poll_until(
        [&] {
            status = text_at(d.client().get("/v1/notifications/" + id).body, "/status");
            return status == "sent" || status == "failed";
        },
        timeout);
    return status;
}

TEST(dead_letters, a_notification_the_hub_refuses_is_listed_with_its_submission_then_requeued) {
    hubsim_process hub;
    spool_dir spool;
    nhpushd_process d(hub, {.daemon_extra = spool.table(), .hub_extra = refused_api_version});
    auto c = d.client();
    ASSERT_EQ(c.post_json("/v1/notifications", notification_json(R"("id":"dl-1")")).status, 202u);
    ASSERT_EQ(wait_final(d, "dl-1"), "failed");

    const auto listed = c.get("/v1/dead-letters");
    ASSERT_EQ(listed.status, 200u) << listed.body;
    const auto doc = parse_json(listed.body);
    EXPECT_EQ(text_at(doc, "/dead_letters/0/id"), "dl-1") << listed.body;
    EXPECT_EQ(text_at(doc, "/dead_letters/0/reason"), "hub_rejected");
    EXPECT_EQ(rapidjson::Pointer("/dead_letters/0/http_status").Get(doc)->GetUint(), 400u);
    EXPECT_THAT(text_at(doc, "/dead_letters/0/error_detail"), HasSubstr("api-version"));
    // The submission as it was submitted, as JSON.
    EXPECT_EQ(text_at(doc, "/dead_letters/0/submission/payload/message"), "hello") << listed.body;
    EXPECT_EQ(text_at(doc, "/dead_letters/0/submission/id"), "dl-1");
    EXPECT_FALSE(text_at(doc, "/dead_letters/0/accepted_at").empty());
    EXPECT_EQ(hub.stat("/accepted"), 0u);

    const auto [code, out] = run_cli({"--socket", d.socket_path(), "dead-letters", "list"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("dl-1 hub main: hub_rejected (HTTP 400)"));

    // The operator fixes the config; the dead letter is sent again under its id.
    d.write_config(spool.table(), "");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_for_notify("READY=1", seconds{10}));
    const auto requeued = c.request("POST", "/v1/dead-letters/dl-1/requeue");
    EXPECT_EQ(requeued.status, 202u) << requeued.body;
    EXPECT_EQ(text_at(requeued.body, "/id"), "dl-1");
    EXPECT_EQ(wait_final(d, "dl-1"), "sent");
    EXPECT_EQ(hub.stat("/accepted"), 1u);
    EXPECT_EQ(text_at(c.get("/v1/dead-letters").body, "/dead_letters/0/id"), "") << "removed from the file";
    EXPECT_EQ(c.request("POST", "/v1/dead-letters/dl-1/requeue").status, 404u);
}

TEST(dead_letters, purge_removes_them_all_and_without_a_spool_the_answer_names_the_key) {
    hubsim_process hub;
    spool_dir spool;
    {
        nhpushd_process d(hub, {.daemon_extra = spool.table(), .hub_extra = refused_api_version});
        auto c = d.client();
        for (const auto* id : {"p-1", "p-2"}) {
            ASSERT_EQ(
                c.post_json("/v1/notifications", notification_json(fmt::format(R"("id":"{}")", id))).status,
                202u);
            ASSERT_EQ(wait_final(d, id), "failed");
        }
        EXPECT_EQ(text_at(c.get("/v1/dead-letters?limit=1").body, "/dead_letters/0/id"), "p-2");
        const auto [code, out] = run_cli({"--socket", d.socket_path(), "dead-letters", "purge"});
        EXPECT_EQ(code, 0) << out;
        const auto after = parse_json(c.get("/v1/dead-letters").body);
        EXPECT_EQ(after["dead_letters"].Size(), 0u);
    }
    nhpushd_process d(hub);
    const auto answer = d.client().get("/v1/dead-letters");
    EXPECT_EQ(answer.status, 404u);
    EXPECT_EQ(text_at(answer.body, "/error/code"), "spool_off");
    EXPECT_THAT(text_at(answer.body, "/error/message"), HasSubstr("[spool] dir"));
}

TEST(cancel, a_queued_notification_is_never_sent_and_one_on_the_wire_cannot_be_recalled) {
    // One HTTP/1.1 connection to a slow hub: the first is on the wire, the second waits its turn.
    hubsim_process hub({.args = {"--latency", "3000"}});
    spool_dir spool;
    nhpushd_process d(hub,
                      {.daemon_extra = spool.table(),
                       .hub_extra = "protocol = \"http1\"\nmin_connections = 1\nmax_connections = 1\n"});
    auto c = d.client();
    ASSERT_EQ(c.post_json("/v1/notifications", notification_json(R"("id":"c-1")")).status, 202u);
    ASSERT_EQ(c.post_json("/v1/notifications", notification_json(R"("id":"c-2")")).status, 202u);
    ASSERT_TRUE(hub.wait_for_stat("/requests", 1, seconds{10}));

    const auto [code, out] = run_cli({"--socket", d.socket_path(), "cancel", "c-2"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("c-2: cancelled while queued for hub main"));
    const auto on_the_wire = c.request("DELETE", "/v1/notifications/c-1");
    EXPECT_EQ(on_the_wire.status, 409u);
    EXPECT_EQ(text_at(on_the_wire.body, "/error/code"), "cannot_cancel");
    EXPECT_THAT(text_at(on_the_wire.body, "/error/message"), HasSubstr("on the wire"));

    EXPECT_EQ(wait_final(d, "c-2", seconds{2}), "failed") << "cancelled at once, not after c-1";
    EXPECT_EQ(text_at(c.get("/v1/notifications/c-2").body, "/reason"), "cancelled");
    EXPECT_EQ(wait_final(d, "c-1"), "sent");
    EXPECT_EQ(hub.stat("/requests"), 1u) << "c-2 never reached the hub";
    EXPECT_EQ(parse_json(c.get("/v1/dead-letters").body)["dead_letters"].Size(), 0u)
        << "a cancel is not a dead letter";
    EXPECT_EQ(c.request("DELETE", "/v1/notifications/nope").status, 404u);
}

TEST(cancel, without_a_spool_a_queued_notification_is_cancelled_in_the_sender_and_never_sent) {
    // One HTTP/1.1 connection to a slow hub: the first is on the wire, the others wait in the sender.
    hubsim_process hub({.args = {"--latency", "3000"}});
    nhpushd_process d(hub, {.hub_extra = "protocol = \"http1\"\nmin_connections = 1\nmax_connections = 1\n"});
    auto c = d.client();
    for (const auto* id : {"m-1", "m-2", "m-3"}) {
        ASSERT_EQ(c.post_json("/v1/notifications", notification_json(fmt::format(R"("id":"{}")", id))).status,
                  202u);
    }
    ASSERT_TRUE(hub.wait_for_stat("/requests", 1, seconds{10}));

    const auto cancelled = c.request("DELETE", "/v1/notifications/m-2");
    EXPECT_EQ(cancelled.status, 200u) << cancelled.body;
    EXPECT_EQ(text_at(cancelled.body, "/cancelled"), "queue");
    const auto on_the_wire = c.request("DELETE", "/v1/notifications/m-1");
    EXPECT_EQ(on_the_wire.status, 409u);
    EXPECT_THAT(text_at(on_the_wire.body, "/error/message"), HasSubstr("on the wire"));

    EXPECT_EQ(wait_final(d, "m-2", seconds{2}), "failed") << "cancelled at once, not after m-1";
    EXPECT_EQ(text_at(c.get("/v1/notifications/m-2").body, "/reason"), "cancelled");
    EXPECT_EQ(c.request("DELETE", "/v1/notifications/m-2").status, 409u) << "finished: nothing to cancel";
    EXPECT_EQ(wait_final(d, "m-1"), "sent");
    EXPECT_EQ(wait_final(d, "m-3"), "sent");
    EXPECT_EQ(hub.stat("/requests"), 2u) << "m-2 never reached the hub";
    EXPECT_THAT(c.get("/metrics").body,
                HasSubstr(R"(nhpushd_notifications_total{hub="main",outcome="cancelled"} 1)"));
    EXPECT_THAT(c.get("/v1/stats").body, HasSubstr(R"("cancelled":1)"));
}

TEST(cancel, one_waiting_in_the_spool_is_cancelled_when_its_turn_comes_and_never_sent) {
    // memory_window = 1: while c-1 is on the wire, c-2 waits on disk, not yet in the library.
    hubsim_process hub({.args = {"--latency", "1500"}});
    spool_dir spool;
    nhpushd_process d(hub,
                      {.daemon_extra = spool.table() + "memory_window = 1\n",
                       .hub_extra = "protocol = \"http1\"\nmin_connections = 1\nmax_connections = 1\n"});
    auto c = d.client();
    ASSERT_EQ(c.post_json("/v1/notifications", notification_json(R"("id":"w-1")")).status, 202u);
    ASSERT_EQ(c.post_json("/v1/notifications", notification_json(R"("id":"w-2")")).status, 202u);
    ASSERT_TRUE(hub.wait_for_stat("/requests", 1, seconds{10}));
    const auto cancelled = c.request("DELETE", "/v1/notifications/w-2");
    EXPECT_EQ(cancelled.status, 200u) << cancelled.body;
    EXPECT_EQ(wait_final(d, "w-1"), "sent");
    EXPECT_EQ(wait_final(d, "w-2"), "failed");
    EXPECT_EQ(text_at(c.get("/v1/notifications/w-2").body, "/reason"), "cancelled");
    EXPECT_EQ(hub.stat("/requests"), 1u) << "w-2 never reached the hub";
    EXPECT_THAT(c.get("/metrics").body,
                HasSubstr(R"(nhpushd_notifications_total{hub="main",outcome="cancelled"} 1)"))
        << "counted though the library never had it";
}

TEST(cancel, a_scheduled_send_is_cancelled_at_the_hub_and_a_sent_one_cannot_be_recalled) {
    hubsim_process hub;
    nhpushd_process d(hub);
    auto c = d.client();
    const auto at = nhpush::format_utc_iso8601(system_clock::now() + hours{1});
    const auto scheduled = c.post_json("/v1/notifications?wait=true",
                                       notification_json(R"("id":"s-1","schedule_at":")" + at + "\""));
    ASSERT_EQ(text_at(scheduled.body, "/status"), "sent") << scheduled.body;

    const auto cancelled = c.request("DELETE", "/v1/notifications/s-1");
    EXPECT_EQ(cancelled.status, 200u) << cancelled.body;
    EXPECT_EQ(text_at(cancelled.body, "/cancelled"), "hub");
    EXPECT_EQ(text_at(cancelled.body, "/notification_id"), text_at(scheduled.body, "/notification_id"));
    EXPECT_EQ(text_at(c.get("/v1/notifications/s-1").body, "/reason"), "cancelled");
    EXPECT_EQ(c.request("DELETE", "/v1/notifications/s-1").status, 409u) << "finished: nothing to cancel";

    ASSERT_EQ(text_at(c.post_json("/v1/notifications?wait=true", notification_json(R"("id":"s-2")")).body,
                      "/status"),
              "sent");
    const auto sent = c.request("DELETE", "/v1/notifications/s-2");
    EXPECT_EQ(sent.status, 409u);
    EXPECT_THAT(text_at(sent.body, "/error/message"), HasSubstr("cannot be recalled"));
}

TEST(details, the_hubs_outcome_details_come_back_as_json) {
    hubsim_process hub;
    nhpushd_process d(hub);
    auto c = d.client();
    const auto sent = c.post_json("/v1/notifications?wait=true", notification_json(R"("id":"d-1")"));
    ASSERT_EQ(text_at(sent.body, "/status"), "sent") << sent.body;

    const auto details = c.get("/v1/notifications/d-1/details");
    ASSERT_EQ(details.status, 200u) << details.body;
    EXPECT_EQ(text_at(details.body, "/state"), "Completed") << details.body;
    EXPECT_EQ(text_at(details.body, "/notification_id"), text_at(sent.body, "/notification_id"));
    EXPECT_FALSE(text_at(details.body, "/enqueue_time").empty());

    const auto [code, out] = run_cli({"--socket", d.socket_path(), "details", "d-1"});
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("d-1: Completed at hub main"));
    EXPECT_EQ(c.get("/v1/notifications/nope/details").status, 404u);
}

}  // namespace
