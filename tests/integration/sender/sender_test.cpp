// The library's sender against nhpush-hubsim on loopback: pooling, throttling, retries,
// permanent errors, closed connections, TLS verification, token renewal, queue limits,
// deadlines and graceful stop.

#include "hubsim_process.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

using namespace std::chrono;
using namespace nhpush;
using nhpush::testing::hubsim_options;
using nhpush::testing::hubsim_process;
using ::testing::HasSubstr;

namespace {

notification apple(int i = 0) {
    notification n;
    n.format = notification_format::apple;
    n.payload = R"({"aps":{"alert":"hello )" + std::to_string(i) + R"("}})";
    n.headers = {{"X-Nhpush-Id", "n" + std::to_string(i)}};
    return n;
}

hub_client_config config_for(const hubsim_process& sim, std::size_t connections = 2) {
    hub_client_config c;
    c.connections = connections;
    c.ca_file = sim.cert_file();
    c.retry.backoff_base = milliseconds{20};
    c.retry.backoff_cap = milliseconds{200};
    return c;
}

/// Sends `n` notifications at once and waits for every result.
std::vector<send_result> send_all(notification_hub& hub, int n) {
    std::vector<std::future<send_result>> futures;
    for (int i = 0; i < n; ++i) {
        futures.push_back(hub.async_send(
            apple(i), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; })));
    }
    std::vector<send_result> results;
    for (auto& f : futures) {
        results.push_back(f.get());
    }
    return results;
}

/// A hubsim counter, as a signed number for comparisons with counts.
long long stat(const hubsim_process& sim, std::string_view pointer) {
    return static_cast<long long>(sim.stat(pointer));
}

int count_sent(const std::vector<send_result>& results) {
    return static_cast<int>(
        std::count_if(results.begin(), results.end(), [](const send_result& r) { return !r.error; }));
}

TEST(sender, n_sends_over_c_connections_open_exactly_c_connections) {
    hubsim_process sim;
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    const auto results = send_all(hub, 200);
    EXPECT_EQ(count_sent(results), 200);
    for (const auto& r : results) {
        EXPECT_EQ(r.http_status, 201u);
        EXPECT_FALSE(r.notification_id.empty());
        EXPECT_FALSE(r.tracking_id.empty());
        EXPECT_EQ(r.attempts, 1);
    }
    const auto stats = hub.stats();
    EXPECT_EQ(stats.connections_opened, 4u);
    EXPECT_EQ(stats.sent, 200u);
    EXPECT_EQ(stats.tokens_signed, 1u);  // one token for all 200 sends
    EXPECT_EQ(stat(sim, "/accepted"), 200);
    EXPECT_EQ(stat(sim, "/connections"), 4 + 1);  // and the fixture's own connection for /$stats
}

TEST(sender, throttling_pauses_the_whole_hub_for_retry_after_then_delivers_everything) {
    hubsim_process sim(hubsim_options{.args = {"--fail-429", "1", "--retry-after-429", "2"}});
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    std::vector<std::future<send_result>> futures;
    for (int i = 0; i < 8; ++i) {
        futures.push_back(hub.async_send(
            apple(i), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; })));
    }
    ASSERT_TRUE(sim.wait_for_stat("/answers_by_status/429", 1, seconds{10}));
    // The hub keeps throttling for the first half of its 2 s window: any request sent in it would
    // be answered 429 too. Connections retrying on their own (every 20–200 ms) would pile them up.
    std::this_thread::sleep_for(seconds{1});
    sim.set_faults(R"({"fail_429":0})");
    milliseconds longest{0};
    for (auto& f : futures) {
        const auto r = f.get();
        EXPECT_FALSE(r.error) << r.error.message() << " " << r.error_detail;
        longest = std::max(longest, duration_cast<milliseconds>(r.latency));
    }
    // Only requests already in flight when throttling began (one per connection) met a 429.
    EXPECT_LE(stat(sim, "/answers_by_status/429"), 4);
    EXPECT_EQ(stat(sim, "/accepted"), 8);
    EXPECT_GE(longest, milliseconds{1900});  // the throttled ones waited out Retry-After
    EXPECT_GE(hub.stats().throttle_pauses, 1u);
}

TEST(sender, server_errors_are_retried_until_sent) {
    hubsim_process sim(hubsim_options{.args = {"--fail-500", "0.3", "--fail-503", "0.2", "--seed", "7"}});
    worker_pool pool(2);
    auto config = config_for(sim, 4);
    config.retry.max_attempts = 20;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto results = send_all(hub, 100);
    EXPECT_EQ(count_sent(results), 100);
    int attempts = 0;
    for (const auto& r : results) {
        attempts += r.attempts;
    }
    EXPECT_GT(attempts, 100);
    EXPECT_EQ(stat(sim, "/requests"), attempts);
    EXPECT_EQ(static_cast<int>(hub.stats().retries), attempts - 100);
    EXPECT_EQ(stat(sim, "/accepted"), 100);
}

TEST(sender, unauthorized_is_never_retried) {
    hubsim_process sim;
    worker_pool pool(1);
    std::string wrong_key = sim.connection_string();
    wrong_key.replace(wrong_key.rfind('=') + 1, std::string::npos, "wrong-key");
    notification_hub hub(pool, wrong_key, "hub", config_for(sim, 1));
    const auto r = hub.send(apple());
    EXPECT_EQ(r.error, errc::hub_rejected);
    EXPECT_EQ(r.http_status, 401u);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.error_code, "401");
    EXPECT_THAT(r.error_detail, HasSubstr("InvalidSignature"));
    EXPECT_EQ(stat(sim, "/requests"), 1);
    EXPECT_EQ(hub.stats().failed_auth, 1u);
}

TEST(sender, bad_request_and_unknown_hub_are_never_retried) {
    hubsim_process sim(hubsim_options{.args = {"--hub", "hub"}});
    worker_pool pool(1);
    auto old_api = config_for(sim, 1);
    old_api.api_version = "1999-01";  // the hub answers 400 BadRequest
    notification_hub bad(pool, sim.connection_string(), "hub", old_api);
    const auto r400 = bad.send(apple());
    EXPECT_EQ(r400.error, errc::hub_rejected);
    EXPECT_EQ(r400.http_status, 400u);
    EXPECT_EQ(r400.attempts, 1);
    EXPECT_THAT(r400.error_detail, HasSubstr("api-version '1999-01'"));
    notification_hub other(pool, sim.connection_string(), "otherhub", config_for(sim, 1));
    const auto r404 = other.send(apple());
    EXPECT_EQ(r404.error, errc::hub_rejected);
    EXPECT_EQ(r404.http_status, 404u);
    EXPECT_EQ(r404.attempts, 1);
    EXPECT_EQ(stat(sim, "/requests"), 2);
}

TEST(sender, connections_closed_by_the_hub_are_replaced_without_failing_a_notification) {
    hubsim_process sim(hubsim_options{.args = {"--close-after", "3"}});
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2));
    const auto results = send_all(hub, 60);
    EXPECT_EQ(count_sent(results), 60);
    EXPECT_GE(hub.stats().connections_opened, 20u);
    EXPECT_EQ(stat(sim, "/accepted"), 60);
}

TEST(sender, untrusted_certificate_is_refused_with_a_clear_error) {
    hubsim_process sim;
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.ca_file.clear();  // the system store does not trust hubsim's certificate
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto r = hub.send(apple());
    EXPECT_EQ(r.error, errc::tls_verify_failed);
    EXPECT_THAT(r.error_detail, HasSubstr("certificate verify failed: self-signed certificate"));
    EXPECT_EQ(stat(sim, "/requests"), 0);
}

TEST(sender, host_name_mismatch_is_refused_with_a_clear_error) {
    // A certificate for another name, trusted, but presented at 127.0.0.1.
    const auto dir = ::testing::TempDir();
    const std::string cert = dir + "/other-cert.pem", key = dir + "/other-key.pem";
    const auto command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other.example "
        "-addext subjectAltName=DNS:other.example -keyout " +
        key + " -out " + cert + " 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
    hubsim_process sim(hubsim_options{.tls_cert_file = cert, .tls_key_file = key});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.ca_file = cert;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto r = hub.send(apple());
    EXPECT_EQ(r.error, errc::tls_verify_failed);
    EXPECT_THAT(r.error_detail, HasSubstr("IP address mismatch"));
}

TEST(sender, token_is_renewed_across_its_expiry) {
    hubsim_process sim;
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.sas.lifetime = seconds{2};
    config.sas.renew_margin = seconds{1};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    // Keep sending until the first token has passed its renewal point, then past its expiry.
    const auto until = steady_clock::now() + milliseconds{2500};
    int sent = 0;
    while (steady_clock::now() < until) {
        const auto r = hub.send(apple(sent));
        ASSERT_FALSE(r.error) << r.error_detail;
        ++sent;
    }
    EXPECT_GE(hub.stats().tokens_signed, 2u);
    EXPECT_EQ(stat(sim, "/auth_failures"), 0);
    EXPECT_EQ(stat(sim, "/accepted"), sent);
}

TEST(sender, a_full_queue_is_reported_at_once) {
    hubsim_process sim(hubsim_options{.args = {"--latency", "300"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.queue_capacity = 2;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    std::vector<std::future<send_result>> accepted;
    for (int i = 0; i < 2; ++i) {
        accepted.push_back(hub.async_send(
            apple(i), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; })));
    }
    // The third completes before async_send returns: the caller is never blocked.
    bool called = false;
    boost::system::error_code third;
    hub.async_send(apple(3), [&](boost::system::error_code ec, send_result) {
        called = true;
        third = ec;
    });
    EXPECT_TRUE(called);
    EXPECT_EQ(third, errc::queue_full);
    for (auto& f : accepted) {
        EXPECT_FALSE(f.get().error);
    }
    EXPECT_EQ(hub.stats().rejected_queue_full, 1u);
}

TEST(sender, notifications_past_their_deadline_fail_as_expired) {
    hubsim_process sim(hubsim_options{.args = {"--latency", "1500"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.notification_deadline = seconds{1};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto results = send_all(hub, 3);
    // The first is in flight when the deadline passes and is answered; the others wait behind it.
    EXPECT_FALSE(results[0].error);
    EXPECT_EQ(results[1].error, errc::deadline_expired);
    EXPECT_EQ(results[2].error, errc::deadline_expired);
    EXPECT_EQ(stat(sim, "/accepted"), 1);
    EXPECT_EQ(hub.stats().failed_deadline, 2u);
}

TEST(sender, graceful_stop_reports_every_notification) {
    hubsim_process sim(hubsim_options{.args = {"--latency", "100"}});
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2));
    std::atomic<int> sent{0}, stopped{0}, cut_in_flight{0}, other{0};
    for (int i = 0; i < 40; ++i) {
        hub.async_send(apple(i), [&](boost::system::error_code ec, send_result r) {
            if (!ec) {
                ++sent;
            } else if (ec == errc::shutting_down) {
                ++stopped;
                cut_in_flight += r.error_detail.find("in flight") != std::string::npos;
            } else {
                ++other;
            }
        });
    }
    hub.stop(milliseconds{350});
    // stop() returns once every notification has its result, and none is lost silently.
    EXPECT_EQ(sent + stopped, 40);
    EXPECT_EQ(other, 0);
    EXPECT_GT(sent, 0);
    EXPECT_GT(stopped, 0);
    // Requests cut off in flight (at most one per connection) may or may not have reached the hub;
    // their results say so.
    EXPECT_LE(cut_in_flight, 2);
    EXPECT_GE(stat(sim, "/accepted"), sent.load());
    EXPECT_LE(stat(sim, "/accepted"), sent.load() + cut_in_flight.load());
    // After stop, new work is refused at once.
    EXPECT_EQ(hub.send(apple()).error, errc::shutting_down);
}

TEST(sender, test_send_returns_the_outcome) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1));
    auto n = apple();
    n.test = true;
    n.tags = "sports";
    const auto r = hub.send(n);
    ASSERT_FALSE(r.error) << r.error_detail;
    ASSERT_TRUE(r.test_outcome);
    EXPECT_GE(r.test_outcome->success + r.test_outcome->failure, 0);
}

TEST(sender, invalid_notifications_fail_at_once_naming_the_field) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1));
    auto n = apple();
    n.tags = "a && (b";
    const auto r = hub.send(n);
    EXPECT_EQ(r.error, errc::invalid_notification);
    EXPECT_EQ(r.error_code, "tags");
    EXPECT_THAT(r.error_detail, HasSubstr("'(' is not closed"));
    EXPECT_EQ(stat(sim, "/requests"), 0);
}

TEST(sender, prepared_notifications_are_not_validated_again) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1));
    auto n = apple();
    n.tags = "a && (b";  // a caller that claims to have prepared it is trusted: the hub judges
    const auto r =
        hub.async_send_prepared(
               n, boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }))
            .get();
    EXPECT_EQ(r.error, errc::hub_rejected);
    EXPECT_EQ(r.http_status, 400u);
    EXPECT_EQ(stat(sim, "/requests"), 1);
}

}  // namespace
