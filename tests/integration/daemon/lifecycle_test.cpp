// nhpushd as a process: backpressure, SIGTERM drains, SIGHUP reloads, the socket's guards, systemd.

#include "nhpushd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;
using testing::HasSubstr;

std::string tracked(const std::string& id) {
    return tracked_notification(id);
}

std::int64_t stat_of(unix_http_client& client, const char* pointer) {
    rapidjson::Document d;
    d.Parse(client.get("/v1/stats").body.c_str());
    const auto* v = rapidjson::Pointer(pointer).Get(d);
    return v != nullptr && v->IsInt64() ? v->GetInt64() : -1;
}

TEST(nhpushd_process, a_full_queue_answers_503_with_retry_after) {
    hubsim_process hub({.args = {"--latency", "1500"}});
    nhpushd_process daemon(
        hub,
        {.daemon_extra = "drain_deadline = 0\n", .hub_extra = "max_connections = 1\nqueue_capacity = 2\n"});
    auto client = daemon.client();
    unsigned accepted = 0, refused = 0;
    for (int i = 0; i < 5; ++i) {
        const auto answer = client.post_json("/v1/notifications", notification_json());
        if (answer.status == 202) {
            ++accepted;
            continue;
        }
        ++refused;
        EXPECT_EQ(answer.status, 503u) << answer.body;
        EXPECT_EQ(answer.header("retry-after"), "1");
        EXPECT_THAT(answer.body, HasSubstr(R"("code":"queue_full")"));
    }
    EXPECT_EQ(accepted, 2u);
    EXPECT_EQ(refused, 3u);
    EXPECT_EQ(stat_of(client, "/hubs/main/rejected_queue_full"), 3);
    EXPECT_TRUE(daemon.wait_for_log("queue full", 5s));
}

TEST(nhpushd_process, sigterm_drains_what_was_accepted) {
    hubsim_process hub({.args = {"--latency", "100"}, .record = true});
    nhpushd_process daemon(hub,
                           {.daemon_extra = "drain_deadline = 20\n", .hub_extra = "max_connections = 2\n"});
    auto client = daemon.client();
    std::set<std::string> accepted;
    for (int i = 0; i < 12; ++i) {
        const auto id = "drain-" + std::to_string(i);
        ASSERT_EQ(client.post_json("/v1/notifications", tracked(id)).status, 202u);
        accepted.insert(id);
    }
    EXPECT_EQ(daemon.stop(), 0);
    EXPECT_TRUE(daemon.wait_for_notify("STOPPING=1", 1s));
    EXPECT_EQ(recorded_ids(hub), accepted);
    EXPECT_THAT(daemon.log(), HasSubstr("drained: every accepted notification has its result"));
    EXPECT_FALSE(std::filesystem::exists(daemon.socket_path())) << "the socket file is removed";
}

TEST(nhpushd_process, a_client_waiting_for_its_result_gets_it_during_the_drain) {
    hubsim_process hub({.args = {"--latency", "500"}});
    nhpushd_process daemon(hub, {.daemon_extra = "drain_deadline = 20\n"});
    auto waiting = daemon.client();
    auto other = daemon.client();
    ASSERT_TRUE(
        waiting.send_raw("POST /v1/notifications?wait=true HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         "application/json\r\nContent-Length: " +
                         std::to_string(notification_json().size()) + "\r\n\r\n" + notification_json()));
    // Once the hub has the notification (its answer is delayed), stop the daemon.
    ASSERT_TRUE(hub.wait_for_stat("/requests", 1, 5s));
    daemon.signal(SIGTERM);
    ASSERT_TRUE(daemon.wait_for_notify("STOPPING=1", 5s));
    const auto answer = waiting.read_answer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200u);
    EXPECT_THAT(answer->body, HasSubstr(R"("status":"sent")"));
    EXPECT_EQ(answer->header("connection"), "close");
    EXPECT_TRUE(other.wait_closed(10s)) << "idle connections are closed";
    EXPECT_EQ(daemon.wait_exit(10s), 0);
}

TEST(nhpushd_process, a_client_that_does_not_read_its_answers_cannot_hold_up_the_stop) {
    hubsim_process hub;
    nhpushd_process daemon(hub, {.daemon_extra = "drain_deadline = 0\n"});
    auto greedy = daemon.client();
    // A batch of 19000 lines with 128-character ids: its answer (about 3 MB, one entry per queued
    // line) is far larger than the socket's buffer, so the daemon's write cannot finish while the
    // client does not read. (Bad lines no longer do it: at most 100 of them are listed.)
    std::string batch;
    for (int i = 0; i < 19000; ++i) {
        auto id = std::to_string(i);
        id.insert(0, 128 - id.size(), 'x');
        batch += notification_json(R"("id":")" + id + R"(")") + "\n";
    }
    ASSERT_TRUE(
        greedy.send_raw("POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        "application/x-ndjson\r\nContent-Length: " +
                        std::to_string(batch.size()) + "\r\n\r\n" + batch));
    ASSERT_TRUE(greedy.wait_readable(10s)) << "the daemon has started writing the answer";
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(daemon.stop(15s), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_THAT(daemon.log(), HasSubstr("closing 1 client connection(s) that did not take their answers"));
}

TEST(nhpushd_process, pings_the_systemd_watchdog) {
    hubsim_process hub;
    nhpushd_process daemon(hub, {.env = {{"WATCHDOG_USEC", "200000"}}});
    EXPECT_TRUE(daemon.wait_for_notify("WATCHDOG=1", 5s));
    EXPECT_TRUE(daemon.wait_for_notify("WATCHDOG=1", 5s));
}

TEST(nhpushd_process, sigterm_logs_what_the_drain_deadline_left_unsent) {
    hubsim_process hub({.args = {"--latency", "2500"}, .record = true});
    nhpushd_process daemon(
        hub,
        {.daemon_extra = "drain_deadline = 1\n", .hub_extra = "max_connections = 1\nprotocol = \"http1\"\n"});
    auto client = daemon.client();
    std::set<std::string> accepted;
    for (int i = 0; i < 5; ++i) {
        const auto id = "late-" + std::to_string(i);
        ASSERT_EQ(client.post_json("/v1/notifications", tracked(id)).status, 202u);
        accepted.insert(id);
    }
    EXPECT_EQ(daemon.stop(), 0);
    const auto log = daemon.log();
    EXPECT_THAT(log,
                testing::AnyOf(HasSubstr("were never sent because nhpushd stopped"),
                               HasSubstr("were in flight when nhpushd stopped")));
    // Each accepted notification was sent (hubsim recorded it) or is named in the drain report.
    const auto sent = recorded_ids(hub);
    for (const auto& id : accepted) {
        EXPECT_TRUE(sent.contains(id) || log.find("main/" + id) != std::string::npos) << id << "\n" << log;
    }
    EXPECT_LT(sent.size(), accepted.size());
}

TEST(nhpushd_process, the_deprecated_connections_key_works_and_is_logged_with_its_replacement) {
    hubsim_process hub;
    nhpushd_process daemon(hub, {.hub_extra = "connections = 3\nmin_connections = 2\n"});
    EXPECT_TRUE(daemon.wait_for_log("hubs.main.connections is deprecated: read as max_connections = 3", 5s))
        << daemon.log();
    auto client = daemon.client();
    EXPECT_EQ(client.post_json("/v1/notifications", notification_json()).status, 202u);
    EXPECT_EQ(stat_of(client, "/hubs/main/connections/min"), 2);
    EXPECT_EQ(stat_of(client, "/hubs/main/connections/max"), 3);
}

TEST(nhpushd_process, sighup_applies_new_limits_and_keeps_connections_and_queued_work) {
    hubsim_process hub({.args = {"--latency", "700"}, .record = true});
    nhpushd_process daemon(hub, {.hub_extra = "max_connections = 1\nqueue_capacity = 1\n"});
    auto client = daemon.client();  // stays open across the reload
    ASSERT_EQ(client.post_json("/v1/notifications", tracked("before-reload")).status, 202u);
    ASSERT_EQ(client.post_json("/v1/notifications", notification_json()).status, 503u);

    daemon.write_config("", "max_connections = 1\nqueue_capacity = 100\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_notify("RELOADING=1", 5s));
    ASSERT_TRUE(daemon.wait_for_notify("READY=1", 5s));
    EXPECT_THAT(daemon.log(), HasSubstr("rebuilt: main"));
    for (int i = 0; i < 3; ++i) {
        const auto answer =
            client.post_json("/v1/notifications", tracked("after-reload-" + std::to_string(i)));
        EXPECT_EQ(answer.status, 202u) << answer.body;
    }
    EXPECT_EQ(stat_of(client, "/daemon/config_generation"), 2);
    EXPECT_EQ(stat_of(client, "/daemon/reloads/ok"), 1);
    EXPECT_EQ(stat_of(client, "/hubs/main/queue_capacity"), 100);
    // The notification queued on the replaced hub is still sent.
    ASSERT_TRUE(hub.wait_for_record_lines(4, 10s));
    EXPECT_EQ(recorded_ids(hub),
              (std::set<std::string>{"before-reload", "after-reload-0", "after-reload-1", "after-reload-2"}));
    // Counters of the replaced hub are kept.
    EXPECT_EQ(stat_of(client, "/hubs/main/submitted"), 4);

    // A broken file: the running configuration stays.
    std::ofstream(daemon.config_file()) << "[daemon]\nsockett = 1\n";
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_notify("READY=1", 5s));
    EXPECT_TRUE(
        daemon.wait_for_log("reload failed, the running configuration stays in force: unknown key "
                            "daemon.sockett",
                            5s));
    EXPECT_EQ(client.post_json("/v1/notifications", notification_json()).status, 202u);
    EXPECT_EQ(stat_of(client, "/daemon/reloads/failed"), 1);
}

TEST(nhpushd_process, the_socket_gets_its_mode_and_refuses_peers_not_allowed) {
    hubsim_process hub;
    const auto other_uid = std::to_string(::getuid() + 1);
    nhpushd_process refusing(
        hub, {.daemon_extra = "socket_mode = \"0640\"\nallowed_uids = [" + other_uid + "]\n"});
    struct stat st {};
    ASSERT_EQ(::stat(refusing.socket_path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0640u);

    auto client = refusing.client();
    client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");  // may fail: the daemon closes at once
    EXPECT_FALSE(client.read_answer()) << "a peer whose uid is not allowed gets no answer";
    EXPECT_TRUE(refusing.wait_for_log("refused a client: uid " + std::to_string(::getuid()), 5s));
    const auto [code, output] = run_cli({"--socket", refusing.socket_path(), "health"});
    EXPECT_EQ(code, 3) << output;
    EXPECT_THAT(output, HasSubstr("allowed_uids"));

    // The primary group lets the same peer in.
    nhpushd_process by_group(hub,
                             {.daemon_extra = "allowed_uids = [" + other_uid + "]\nallowed_gids = [" +
                                              std::to_string(::getgid()) + "]\n"});
    EXPECT_EQ(by_group.client().get("/healthz").status, 200u);
}

TEST(nhpushd_process, connections_beyond_max_clients_are_closed) {
    hubsim_process hub;
    nhpushd_process daemon(hub, {.daemon_extra = "max_clients = 2\n"});
    auto first = daemon.client();
    auto second = daemon.client();
    ASSERT_EQ(first.get("/healthz").status, 200u);
    ASSERT_EQ(second.get("/healthz").status, 200u);
    auto third = daemon.client();
    EXPECT_TRUE(third.wait_closed(5s));
    EXPECT_EQ(first.get("/healthz").status, 200u);
    EXPECT_TRUE(daemon.wait_for_log("daemon.max_clients", 5s));
}

TEST(nhpushd_process, a_stale_socket_file_is_replaced_and_a_live_one_is_not) {
    hubsim_process hub;
    nhpushd_process daemon(hub);
    // A second daemon on the same socket: refused, the first one untouched.
    const auto [code, output] = run_to_completion({.program = nhpushd_process::daemon_binary(),
                                                   .args = {"--config", daemon.config_file()},
                                                   .merge_stderr = true},
                                                  10s);
    EXPECT_EQ(code, 1);
    EXPECT_THAT(output, HasSubstr("another process listens on it"));
    EXPECT_EQ(daemon.client().get("/healthz").status, 200u);

    // A crash leaves the socket file behind; the next start removes it.
    daemon.signal(SIGKILL);
    ASSERT_TRUE(daemon.wait_exit(5s));
    ASSERT_TRUE(std::filesystem::exists(daemon.socket_path()));
    child_process again({.program = nhpushd_process::daemon_binary(),
                         .args = {"--config", daemon.config_file()},
                         .merge_stderr = true});
    std::string lines;
    for (auto line = again.read_line(10s); line; line = again.read_line(10s)) {
        lines += *line + "\n";
        if (line->find("ready") != std::string::npos) {
            break;
        }
    }
    EXPECT_THAT(lines, HasSubstr("removed the stale socket file"));
    EXPECT_EQ(unix_http_client(daemon.socket_path()).get("/healthz").status, 200u);
    again.signal(SIGTERM);
    EXPECT_EQ(again.wait(10s), 0);
}

TEST(nhpushd_process, takes_the_socket_from_systemd_socket_activation) {
    const std::string activate = "/usr/bin/systemd-socket-activate";
    if (!std::filesystem::exists(activate)) {
        GTEST_SKIP() << "no systemd-socket-activate";
    }
    hubsim_process hub;
    // systemd-socket-activate listens, and starts nhpushd with the socket on the first connection.
    nhpushd_process daemon(
        hub,
        {.wait_ready = false, .launcher = {activate, "-l", "{dir}/activated.sock", "-E", "NOTIFY_SOCKET"}});
    ASSERT_TRUE(daemon.wait_for_log("Listening on", 5s)) << daemon.log();
    unix_http_client client(daemon.dir() + "/activated.sock");
    EXPECT_EQ(client.get("/healthz").status, 200u);
    ASSERT_TRUE(daemon.wait_for_notify("READY=1", 10s));
    EXPECT_THAT(daemon.log(), HasSubstr("listening on the socket systemd passed"));
    EXPECT_FALSE(std::filesystem::exists(daemon.socket_path())) << "no socket of its own";
}

TEST(nhpushd_process, check_config_and_version) {
    hubsim_process hub;
    nhpushd_process daemon(hub);
    auto [code, output] = run_to_completion({.program = nhpushd_process::daemon_binary(),
                                             .args = {"--config", daemon.config_file(), "--check-config"},
                                             .merge_stderr = true},
                                            10s);
    EXPECT_EQ(code, 0) << output;
    EXPECT_THAT(output, HasSubstr("the configuration is valid"));
    EXPECT_THAT(output, testing::Not(HasSubstr(hub.key())));
    std::tie(code, output) = run_to_completion(
        {.program = nhpushd_process::daemon_binary(), .args = {"--version"}, .merge_stderr = true}, 10s);
    EXPECT_EQ(code, 0);
    EXPECT_THAT(output, HasSubstr("nhpushd " NHPUSH_VERSION));
}

}  // namespace
