// The spool, by force: nhpushd killed with SIGKILL under load again and again, stopped with work
// left, and refused its disk; every notification that got a 202 must reach the hub.

#include "child_process.hpp"
#include "nhpushd_process.hpp"
#include "test_wait.hpp"

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;
using testing::HasSubstr;

std::string spool_table(const std::string& dir, std::string_view fsync, std::size_t window = 100) {
    return fmt::format("[spool]\ndir = \"{}\"\nfsync = \"{}\"\nmemory_window = {}\nsegment_bytes = 65536\n",
                       dir,
                       fsync,
                       window);
}

/// A directory that outlives the daemons of one test.
class spool_dir {
public:
    spool_dir() : path_(make_temp_dir("nhpush-spool")) {}
    ~spool_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string batch_of(const std::string& prefix, int count) {
    std::string body;
    for (int i = 0; i < count; ++i) {
        body += tracked_notification(fmt::format("{}-{}", prefix, i)) + "\n";
    }
    return body;
}

/// The ids of a 202 answer to an NDJSON batch.
std::vector<std::string> accepted_ids(const std::string& body) {
    std::vector<std::string> ids;
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (d.IsObject() && d.HasMember("accepted")) {
        for (const auto& a : d["accepted"].GetArray()) {
            ids.emplace_back(a["id"].GetString());
        }
    }
    return ids;
}

std::vector<std::string> missing_from(const std::set<std::string>& expected,
                                      const std::set<std::string>& got) {
    std::vector<std::string> missing;
    std::set_difference(
        expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
    return missing;
}

TEST(nhpushd_spool, every_202_survives_twenty_kill_9s_under_load) {
    spool_dir spool;
    hubsim_process hub({.args = {"--latency", "20"}, .record = true});
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::mt19937 random(20261130);
    constexpr const char* modes[] = {"always", "interval", "never"};
    for (int round = 0; round < 20; ++round) {
        nhpushd_process daemon(hub, {.tables_extra = spool_table(spool.path(), modes[round % 3])});
        const std::size_t kill_after = 50 + random() % 400;
        std::atomic<std::size_t> accepted_now{0};
        std::thread submitter([&] {
            try {
                auto client = daemon.client();
                for (int batch = 0; batch < 200; ++batch) {
                    const auto answer = client.request("POST",
                                                       "/v1/notifications",
                                                       batch_of(fmt::format("k{}-{}", round, batch), 20),
                                                       "application/x-ndjson");
                    if (answer.status != 202) {
                        return;
                    }
                    const auto ids = accepted_ids(answer.body);
                    std::lock_guard lock(mutex);
                    acknowledged.insert(ids.begin(), ids.end());
                    accepted_now += ids.size();
                }
            } catch (const std::exception&) {
                // The kill cut the connection: what was not answered 202 was never promised.
            }
        });
        EXPECT_TRUE(poll_until([&] { return accepted_now >= kill_after; }, 30s)) << "round " << round;
        daemon.signal(SIGKILL);
        submitter.join();
        // Killed, not crashed: a crash would look like a kill to the submitter.
        EXPECT_EQ(daemon.wait_exit(10s), 128 + SIGKILL) << "round " << round;
    }
    nhpushd_process last(hub, {.tables_extra = spool_table(spool.path(), "interval")});
    EXPECT_TRUE(poll_until([&] { return missing_from(acknowledged, recorded_ids(hub)).empty(); }, 120s));
    const auto missing = missing_from(acknowledged, recorded_ids(hub));
    EXPECT_THAT(missing, testing::IsEmpty()) << missing.size() << " of " << acknowledged.size() << " lost";
    std::size_t duplicates = 0;
    for (const auto& [id, count] : recorded_id_counts(hub)) {
        duplicates += static_cast<std::size_t>(count - 1);
    }
    // Only what was handed to the sender at a kill can be sent twice: at most the window per kill.
    EXPECT_LE(duplicates, 20u * 100u);
    std::printf("[          ] %zu acknowledged over 20 kills; %zu delivered twice\n",
                acknowledged.size(),
                duplicates);
}

// Lines of a batch are spooled in groups, their ids claimed together: two sessions (on two threads)
// sending the same ids in opposite orders must neither wait on each other's claims nor accept an id
// twice.
TEST(nhpushd_spool, batches_sharing_ids_in_opposite_orders_accept_each_id_once) {
    spool_dir spool;
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub, {.tables_extra = spool_table(spool.path(), "interval")});
    for (int round = 0; round < 20; ++round) {
        std::vector<std::string> lines;
        for (int i = 0; i < 50; ++i) {
            lines.push_back(tracked_notification(fmt::format("shared-{}-{}", round, i)));
        }
        std::string forward;
        std::string backward;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            forward += lines[i] + "\n";
            backward += lines[lines.size() - 1 - i] + "\n";
        }
        auto first = daemon.client();
        auto second = daemon.client();
        std::vector<std::string> accepted;
        std::mutex mutex;
        const auto send = [&](unix_http_client& client, const std::string& body) {
            const auto answer = client.request("POST", "/v1/notifications", body, "application/x-ndjson");
            ASSERT_EQ(answer.status, 202u) << answer.body;
            const auto ids = accepted_ids(answer.body);
            std::lock_guard lock(mutex);
            accepted.insert(accepted.end(), ids.begin(), ids.end());
        };
        std::thread a([&] { send(first, forward); });
        std::thread b([&] { send(second, backward); });
        a.join();
        b.join();
        std::sort(accepted.begin(), accepted.end());
        EXPECT_EQ(std::adjacent_find(accepted.begin(), accepted.end()), accepted.end())
            << "round " << round << ": an id accepted twice";
        EXPECT_EQ(accepted.size(), lines.size()) << "round " << round << ": every id accepted once";
    }
}

TEST(nhpushd_spool, sigterm_keeps_what_it_did_not_send_for_the_next_start) {
    spool_dir spool;
    std::set<std::string> ids;
    {
        hubsim_process slow({.args = {"--latency", "5000"}});
        nhpushd_process daemon(slow,
                               {.daemon_extra = "drain_deadline = 0\n",
                                .hub_extra = "max_connections = 1\nprotocol = \"http1\"\n",
                                .tables_extra = spool_table(spool.path(), "interval")});
        auto client = daemon.client();
        const auto answer =
            client.request("POST", "/v1/notifications", batch_of("term", 30), "application/x-ndjson");
        ASSERT_EQ(answer.status, 202u) << answer.body;
        for (const auto& id : accepted_ids(answer.body)) {
            ids.insert(id);
        }
        ASSERT_EQ(ids.size(), 30u);
        ASSERT_EQ(daemon.stop(), 0);
        EXPECT_THAT(daemon.log(), HasSubstr("stay in the spool"));
        EXPECT_THAT(daemon.log(), testing::Not(HasSubstr("safe to submit again")));
    }
    hubsim_process fast({.record = true});
    nhpushd_process again(fast, {.tables_extra = spool_table(spool.path(), "interval")});
    EXPECT_THAT(again.log(), HasSubstr("30 unfinished notification(s) queued again"));
    auto client = again.client();
    EXPECT_THAT(client.get("/metrics").body, HasSubstr("nhpushd_spool_recovered 30"));
    EXPECT_EQ(client.get("/v1/notifications/term-7").status, 200u) << "known after the restart";
    EXPECT_TRUE(poll_until([&] { return missing_from(ids, recorded_ids(fast)).empty(); }, 30s));
    EXPECT_TRUE(poll_until(
        [&] { return client.get("/v1/notifications/term-7").body.find("\"sent\"") != std::string::npos; },
        10s));
}

// max_attempts holds across a restart: the attempts a stop cut short are spooled with the
// notification, and the next start makes only the ones left.
TEST(nhpushd_spool, attempts_made_before_a_restart_count_against_max_attempts) {
    spool_dir spool;
    hubsim_process hub({.args = {"--fail-503", "1"}});
    const std::string retry_keys = "max_attempts = 5\nbackoff_base = 50\nbackoff_cap = 50\n";
    {
        nhpushd_process daemon(hub,
                               {.daemon_extra = "drain_deadline = 0\n",
                                .hub_extra = retry_keys,
                                .tables_extra = spool_table(spool.path(), "interval")});
        auto client = daemon.client();
        ASSERT_EQ(client.post_json("/v1/notifications", tracked_notification("retried")).status, 202u);
        ASSERT_TRUE(hub.wait_for_stat("/answers_by_status/503", 2, 10s));
        ASSERT_EQ(daemon.stop(), 0);
    }
    const auto first_run = hub.stat("/answers_by_status/503");
    ASSERT_LT(first_run, 5u) << "the first run was to be stopped before its last attempt";
    nhpushd_process again(hub,
                          {.hub_extra = retry_keys, .tables_extra = spool_table(spool.path(), "interval")});
    auto client = again.client();
    std::string status;
    EXPECT_TRUE(poll_until(
        [&] {
            status = client.get("/v1/notifications/retried").body;
            return status.find("\"failed\"") != std::string::npos;
        },
        20s))
        << status;
    EXPECT_THAT(status, HasSubstr("\"attempts\":5")) << "the attempts of both runs";
    // The second run made only what was left: 5 in all, or 6 when the stop cut one short whose
    // answer came too late to be counted. Without the spooled attempts it would be first_run + 5.
    EXPECT_LE(hub.stat("/answers_by_status/503"), 6u) << "first run: " << first_run;
}

TEST(nhpushd_spool, a_full_disk_refuses_with_503_and_recovers_when_space_returns) {
    spool_dir spool;
    hubsim_process hub({.record = true});
    // The spool's files may not grow past 40 kB (a soft limit, which the test can lift again): a
    // stand-in for a full disk.
    nhpushd_process daemon(hub,
                           {.tables_extra = spool_table(spool.path(), "always"),
                            .launcher = {"/usr/bin/prlimit", "--fsize=40000:unlimited", "--"}});
    auto client = daemon.client();
    std::set<std::string> acknowledged;
    unsigned refused_status = 0;
    std::string refusal;
    for (int i = 0; i < 2000 && refused_status == 0; ++i) {
        const auto id = fmt::format("full-{}", i);
        const auto answer = client.post_json("/v1/notifications", tracked_notification(id));
        if (answer.status == 202) {
            acknowledged.insert(id);
        } else {
            refused_status = answer.status;
            refusal = answer.body;
            EXPECT_EQ(answer.headers.count("retry-after") + answer.headers.count("Retry-After"), 1u);
        }
    }
    ASSERT_EQ(refused_status, 503u);
    EXPECT_THAT(refusal, HasSubstr("spool_unavailable"));
    const auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 503u);
    EXPECT_THAT(health.body, HasSubstr("spool"));
    EXPECT_THAT(client.get("/v1/stats").body, HasSubstr(R"("writable":false)"));
    EXPECT_THAT(client.get("/metrics").body, HasSubstr("nhpushd_spool_writable 0"));

    const auto [status, output] =
        run_to_completion({.program = "/usr/bin/prlimit",
                           .args = {"--pid", std::to_string(daemon.pid()), "--fsize=unlimited:unlimited"},
                           .merge_stderr = true},
                          10s);
    ASSERT_EQ(status, 0) << output;
    EXPECT_EQ(client.post_json("/v1/notifications", tracked_notification("after-space")).status, 202u);
    acknowledged.insert("after-space");
    EXPECT_EQ(client.get("/healthz").status, 200u);
    EXPECT_TRUE(poll_until([&] { return missing_from(acknowledged, recorded_ids(hub)).empty(); }, 30s));
}

}  // namespace

namespace {

TEST(nhpushd_spool, a_reload_that_replaces_the_hub_loses_nothing) {
    spool_dir spool;
    hubsim_process hub({.args = {"--latency", "200"}, .record = true});
    const auto tables = spool_table(spool.path(), "interval");
    nhpushd_process daemon(hub,
                           {.daemon_extra = "drain_deadline = 0\n",
                            .hub_extra = "max_connections = 1\nprotocol = \"http1\"\n",
                            .tables_extra = tables});
    auto client = daemon.client();
    const auto answer =
        client.request("POST", "/v1/notifications", batch_of("reload", 10), "application/x-ndjson");
    ASSERT_EQ(answer.status, 202u);
    const auto ids = accepted_ids(answer.body);
    ASSERT_EQ(ids.size(), 10u);
    // A changed hub table rebuilds the hub while the old one has one on the wire and nine queued.
    daemon.write_config("drain_deadline = 0\n", "max_connections = 10\nprotocol = \"http1\"\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_notify("READY=1", 10s));
    const std::set<std::string> expected(ids.begin(), ids.end());
    EXPECT_TRUE(poll_until([&] { return missing_from(expected, recorded_ids(hub)).empty(); }, 20s))
        << "missing: " << testing::PrintToString(missing_from(expected, recorded_ids(hub)));
}

}  // namespace
