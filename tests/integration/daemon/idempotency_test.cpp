// Idempotent ids: a submission whose id nhpushd holds (queued, in flight or a recent result) is
// answered 409 duplicate_id with that notification's state and never changes it.

#include "json_answers.hpp"
#include "nhpushd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;
using testing::HasSubstr;

std::string with_id(const std::string& id) {
    return notification_json(R"("id":")" + id + R"(")");
}

/// A TCP port on 127.0.0.1 that refuses connections while this object lives: bound, not listening.
class refusing_port {
public:
    refusing_port() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
            throw std::runtime_error("cannot bind a port");
        }
        port_ = ntohs(a.sin_port);
    }
    ~refusing_port() { ::close(fd_); }
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;

    /// A connection string to this port, with hubsim's credentials.
    std::string connection_string(const hubsim_process& hub) const {
        return "Endpoint=sb://127.0.0.1:" + std::to_string(port_) +
               "/;SharedAccessKeyName=" + hub.key_name() + ";SharedAccessKey=" + hub.key();
    }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

/// nhpushd whose hub cannot be reached: what it accepts stays queued (retrying to connect).
nhpushd_options unreachable_hub(const hubsim_process& hub, const refusing_port& port, unsigned capacity) {
    return {.daemon_extra = "drain_deadline = 0\n",
            .hub_extra = "max_connections = 1\nmax_attempts = 100\nqueue_capacity = " +
                         std::to_string(capacity) + "\n",
            .connection_string = port.connection_string(hub)};
}

TEST(idempotency, resubmitting_a_queued_id_answers_409_with_its_state_and_keeps_it) {
    hubsim_process hub;
    refusing_port port;
    nhpushd_process daemon(hub, unreachable_hub(hub, port, 10));
    auto client = daemon.client();
    ASSERT_EQ(client.post_json("/v1/notifications", with_id("order-7")).status, 202u);

    const auto again = client.post_json("/v1/notifications", with_id("order-7"));
    EXPECT_EQ(again.status, 409u) << again.body;
    EXPECT_EQ(text_at(again.body, "/id"), "order-7");
    EXPECT_EQ(text_at(again.body, "/hub"), "main");
    EXPECT_EQ(text_at(again.body, "/status"), "queued");
    EXPECT_EQ(text_at(again.body, "/error/code"), "duplicate_id");
    EXPECT_EQ(text_at(again.body, "/error/field"), "id");

    const auto waited = client.post_json("/v1/notifications?wait=true", with_id("order-7"));
    EXPECT_EQ(waited.status, 409u) << "wait=true does not queue a duplicate either: " << waited.body;

    const auto state = client.get("/v1/notifications/order-7");
    EXPECT_EQ(state.status, 200u) << state.body;
    EXPECT_EQ(state.body, R"({"id":"order-7","hub":"main","status":"queued"})");
    rapidjson::Document stats = parse_json(client.get("/v1/stats").body);
    EXPECT_EQ(rapidjson::Pointer("/hubs/main/submitted").Get(stats)->GetUint64(), 1u);
    EXPECT_EQ(rapidjson::Pointer("/daemon/request_errors/duplicate_id").Get(stats)->GetUint64(), 2u);
}

TEST(idempotency, refused_submission_does_not_erase_the_accepted_record) {
    hubsim_process hub;
    refusing_port port;
    nhpushd_process daemon(hub, unreachable_hub(hub, port, 2));
    auto client = daemon.client();
    ASSERT_EQ(client.post_json("/v1/notifications", with_id("order-7")).status, 202u);
    ASSERT_EQ(client.post_json("/v1/notifications", with_id("filler")).status, 202u);

    const auto full = client.post_json("/v1/notifications", with_id("order-8"));
    ASSERT_EQ(full.status, 503u) << full.body;
    EXPECT_EQ(text_at(full.body, "/error/code"), "queue_full");
    EXPECT_EQ(client.get("/v1/notifications/order-8").status, 404u) << "a refused id leaves no record";

    // Before: this answered 503 queue_full and erased order-7's record.
    const auto again = client.post_json("/v1/notifications", with_id("order-7"));
    EXPECT_EQ(again.status, 409u) << again.body;
    const auto state = client.get("/v1/notifications/order-7");
    EXPECT_EQ(state.status, 200u) << state.body;
    EXPECT_EQ(text_at(state.body, "/status"), "queued");
}

TEST(idempotency, resubmitting_a_sent_id_answers_409_with_its_result) {
    hubsim_process hub({.record = true});
    nhpushd_process daemon(hub);
    auto client = daemon.client();
    const auto first = client.post_json("/v1/notifications?wait=true", with_id("done-1"));
    ASSERT_EQ(first.status, 200u) << first.body;
    ASSERT_EQ(text_at(first.body, "/status"), "sent");

    const auto again = client.post_json("/v1/notifications", with_id("done-1"));
    EXPECT_EQ(again.status, 409u) << again.body;
    EXPECT_EQ(text_at(again.body, "/status"), "sent");
    EXPECT_EQ(text_at(again.body, "/notification_id"), text_at(first.body, "/notification_id"));
    EXPECT_EQ(text_at(again.body, "/error/code"), "duplicate_id");
    EXPECT_EQ(hub.stat("/accepted"), 1u) << "sent once";
}

TEST(idempotency, concurrent_submissions_of_one_id_accept_exactly_one) {
    hubsim_process hub;
    nhpushd_process daemon(hub);
    for (int round = 0; round < 5; ++round) {
        const auto id = "race-" + std::to_string(round);
        std::vector<unix_http_client> clients;
        for (int i = 0; i < 8; ++i) {
            clients.push_back(daemon.client());  // connected before the race starts
        }
        std::atomic<int> accepted{0}, duplicates{0}, other{0};
        std::vector<std::thread> threads;
        for (auto& c : clients) {
            threads.emplace_back([&] {
                const auto status = c.post_json("/v1/notifications", with_id(id)).status;
                (status == 202 ? accepted : status == 409 ? duplicates : other).fetch_add(1);
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        EXPECT_EQ(accepted.load(), 1) << id;
        EXPECT_EQ(duplicates.load(), 7) << id;
        EXPECT_EQ(other.load(), 0) << id;
    }
}

TEST(idempotency, a_batch_line_with_a_known_id_is_rejected_as_duplicate_id) {
    hubsim_process hub;
    refusing_port port;
    nhpushd_process daemon(hub, unreachable_hub(hub, port, 10));
    auto client = daemon.client();
    ASSERT_EQ(client.post_json("/v1/notifications", with_id("b-1")).status, 202u);
    const auto batch = with_id("b-1") + "\n" + with_id("b-2") + "\n" + with_id("b-2") + "\n";
    const auto answer = client.request("POST", "/v1/notifications", batch, "application/x-ndjson");
    ASSERT_EQ(answer.status, 202u) << answer.body;
    const auto d = parse_json(answer.body);
    ASSERT_EQ(d["accepted"].Size(), 1u) << answer.body;
    EXPECT_EQ(d["accepted"][0]["line"].GetUint(), 2u);
    ASSERT_EQ(d["rejected"].Size(), 2u) << answer.body;
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_STREQ(d["rejected"][i]["code"].GetString(), "duplicate_id");
        EXPECT_STREQ(d["rejected"][i]["field"].GetString(), "id");
    }
    EXPECT_EQ(d["rejected"][0]["line"].GetUint(), 1u);
    EXPECT_EQ(d["rejected"][1]["line"].GetUint(), 3u) << "a repeat inside one batch is a duplicate too";
    EXPECT_EQ(d["rejected_by_code"]["duplicate_id"].GetUint(), 2u);
}

TEST(idempotency, cli_send_reports_an_already_accepted_id_and_exits_0) {
    hubsim_process hub;
    refusing_port port;
    nhpushd_process daemon(hub, unreachable_hub(hub, port, 10));
    const std::vector<std::string> send = {"--socket",
                                           daemon.socket_path(),
                                           "send",
                                           "--hub",
                                           "main",
                                           "--format",
                                           "template",
                                           "--payload",
                                           R"({"message":"hi"})",
                                           "--id",
                                           "cli-1"};
    auto [code, out] = run_cli(send);
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("queued: cli-1"));
    std::tie(code, out) = run_cli(send);
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr("already accepted, nothing new queued: cli-1: queued for hub main"));
}

}  // namespace
