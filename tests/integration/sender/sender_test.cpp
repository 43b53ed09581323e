// The library's sender against nhpush-hubsim on loopback: pooling, throttling, retries,
// permanent errors, closed connections, TLS verification, token renewal, queue limits,
// deadlines and graceful stop.

#include "hubsim_process.hpp"
#include "sender_helpers.hpp"
#include "test_wait.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <malloc.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono;
using namespace nhpush;
using nhpush::testing::hubsim_options;
using nhpush::testing::hubsim_process;
using nhpush::testing::poll_until;
using namespace nhpush::testing;
using ::testing::HasSubstr;

namespace {

/// A connection string for a hub at 127.0.0.1:`port` where no hubsim runs.
std::string connection_string_for_port(unsigned short port) {
    return "Endpoint=sb://127.0.0.1:" + std::to_string(port) +
           "/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=a2V5";
}

TEST(sender, http1_n_sends_over_c_connections_open_exactly_c_connections) {
    hubsim_process sim;
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4, hub_protocol::http1));
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
    auto config = config_for(sim, 4, hub_protocol::http1);
    config.retry.backoff_cap = seconds{5};  // above the Retry-After, so that it is honoured in full
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    expect_throttle_pauses_the_hub_then_delivers(sim, hub, 4);  // one request per connection
}

TEST(sender, a_throttling_answer_without_retry_after_pauses_the_hub_for_the_default) {
    // --retry-after-429 0: the 429s carry no Retry-After.
    hubsim_process sim(hubsim_options{.args = {"--fail-429", "1", "--retry-after-429", "0"}});
    worker_pool pool(1);
    auto config = config_for(sim, 2);
    config.retry.max_attempts = 10;
    config.retry.backoff_cap = seconds{5};
    config.retry.throttle_default_pause = milliseconds{800};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto submitted = steady_clock::now();
    auto first = hub.async_send(
        apple(1), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
    ASSERT_TRUE(poll_until([&] { return hub.stats().throttle_pauses >= 1; }, seconds{10}));
    sim.set_faults("{}");
    // A second notification, on the other connection, waits out the same pause.
    const auto second_submitted = steady_clock::now();
    auto second = hub.async_send(
        apple(2), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
    ASSERT_EQ(first.wait_for(seconds{10}), std::future_status::ready);
    ASSERT_EQ(second.wait_for(seconds{10}), std::future_status::ready);
    const auto r1 = first.get(), r2 = second.get();
    EXPECT_FALSE(r1.error) << r1.error.message() << " " << r1.error_detail;
    EXPECT_FALSE(r2.error) << r2.error.message() << " " << r2.error_detail;
    EXPECT_EQ(r1.attempts, 2);
    EXPECT_EQ(r2.attempts, 1);
    EXPECT_GE(r1.latency, milliseconds{800});
    EXPECT_GE(second_submitted + r2.latency - submitted, milliseconds{800});
    EXPECT_EQ(stat(sim, "/answers_by_status/429"), 1);
    EXPECT_EQ(stat(sim, "/requests"), 3);  // the 429, then each notification once
    EXPECT_EQ(hub.stats().throttle_pauses, 1u);
}

TEST(sender, a_retry_after_beyond_backoff_cap_pauses_only_for_the_cap) {
    hubsim_process sim(hubsim_options{.args = {"--fail-429", "1", "--retry-after-429", "3600"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.retry.max_attempts = 3;
    config.retry.backoff_cap = milliseconds{300};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto f = hub.async_send(
        apple(), boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);  // not an hour
    const auto r = f.get();
    EXPECT_EQ(r.error, errc::retries_exhausted);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.http_status, 429u);
    EXPECT_GE(duration_cast<milliseconds>(r.latency), milliseconds{600});  // two pauses of the cap
    EXPECT_EQ(stat(sim, "/requests"), 3);
}

// A notification resumed after a restart brings the attempts a previous run made: max_attempts
// holds across the two runs, and the result counts them all.
TEST(sender, attempts_before_count_against_max_attempts) {
    hubsim_process sim(hubsim_options{.args = {"--fail-503", "1"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.retry.max_attempts = 4;
    config.retry.backoff_base = milliseconds{10};
    config.retry.backoff_cap = milliseconds{10};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto n = apple();
    ASSERT_FALSE(prepare_notification(n, std::chrono::system_clock::now()));
    auto f = hub.async_send_prepared(
        std::move(n),
        send_options{.attempts_before = 3},
        boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);
    const auto r = f.get();
    EXPECT_EQ(r.error, errc::retries_exhausted);
    EXPECT_EQ(r.attempts, 4) << "three before, one now";
    EXPECT_EQ(stat(sim, "/requests"), 1) << "only the one attempt left was made";
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
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2, hub_protocol::http1));
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
    auto config = config_for(sim, 1, hub_protocol::http1);
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
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2, hub_protocol::http1));
    std::atomic<int> sent{0}, stopped{0}, cut_in_flight{0}, other{0};
    for (int i = 0; i < 40; ++i) {
        hub.async_send(apple(i), [&](boost::system::error_code ec, send_result) {
            if (!ec) {
                ++sent;
            } else if (ec == errc::shutting_down) {
                ++stopped;
            } else if (ec == errc::outcome_unknown) {
                ++cut_in_flight;
            } else {
                ++other;
            }
        });
    }
    hub.stop(milliseconds{350});
    // stop() returns once every notification has its result, and none is lost silently.
    EXPECT_EQ(sent + stopped + cut_in_flight, 40);
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
    // hubsim answers a test send with one successful registration.
    EXPECT_EQ(r.test_outcome->success, 1);
    EXPECT_EQ(r.test_outcome->failure, 0);
    ASSERT_EQ(r.test_outcome->results.size(), 1u);
    EXPECT_FALSE(r.test_outcome->results[0].outcome.empty());
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

TEST(sender, a_throwing_exchange_hook_fails_only_that_notification_and_the_connection_recovers) {
    hubsim_process sim;
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.on_exchange = [](const hub_request& req, const hub_response_message&) {
        if (req["X-Nhpush-Id"] == "n3") {
            throw std::runtime_error("hook exploded");
        }
    };
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    constexpr int n = 10;
    completions done(n);
    for (int i = 0; i < n; ++i) {
        hub.async_send(apple(i), done.handler(i));
    }
    ASSERT_TRUE(done.wait(seconds{10}));
    hub.stop(seconds{1});
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(done.calls(i), 1) << i;
        const auto r = done.result(i);
        if (i == 3) {
            EXPECT_EQ(r.error, errc::send_path_failed);
            EXPECT_THAT(r.error_detail, HasSubstr("the on_exchange hook failed: hook exploded"));
        } else {
            EXPECT_FALSE(r.error) << i << " " << r.error.message() << " " << r.error_detail;
            EXPECT_EQ(r.http_status, 201u) << i;
        }
    }
    const auto stats = hub.stats();
    EXPECT_EQ(stats.sent, 9u);
    EXPECT_EQ(stats.failed_send_path, 1u);
    EXPECT_EQ(stats.queue_depth, 0u);
    // Over HTTP/2 the throw touched no connection state: the connection carries on. (Over
    // HTTP/1.1 the connection that threw mid-exchange is replaced.)
    EXPECT_EQ(stats.connections_opened, 1u);
    EXPECT_EQ(stat(sim, "/accepted"), n);  // the hook ran after the hub had accepted n3
}

TEST(sender, a_request_that_cannot_be_built_fails_with_send_path_failed_and_nothing_hangs) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1));
    // Beast refuses header values over 65,535 bytes with an exception; async_send_prepared skips the
    // validation that would have caught it.
    auto too_big = apple(0);
    too_big.device_handle = std::string(70'000, 'd');
    auto failed = hub.async_send_prepared(
        too_big, boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
    ASSERT_EQ(failed.wait_for(seconds{10}), std::future_status::ready);
    const auto r = failed.get();
    EXPECT_EQ(r.error, errc::send_path_failed);
    EXPECT_THAT(r.error_detail, HasSubstr("building the request failed"));
    // The only connection carries on with the next ones.
    constexpr int n = 5;
    completions done(n);
    for (int i = 0; i < n; ++i) {
        hub.async_send(apple(i + 1), done.handler(i));
    }
    ASSERT_TRUE(done.wait(seconds{10}));
    for (int i = 0; i < n; ++i) {
        EXPECT_FALSE(done.result(i).error) << done.result(i).error_detail;
    }
    EXPECT_LT(time_of([&] { hub.stop(seconds{5}); }), seconds{2});
    EXPECT_EQ(hub.stats().failed_send_path, 1u);
    EXPECT_EQ(hub.stats().sent, 5u);
    EXPECT_EQ(stat(sim, "/accepted"), n);
}

TEST(sender, stop_is_bounded_while_connecting_to_an_unreachable_hub) {
    namespace asio = boost::asio;
    using asio::ip::tcp;
    asio::io_context ioc;
    // A hub whose listener never accepts: TCP completes in the kernel, the TLS handshake never does.
    tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    // A hub that refuses: a bound socket that does not listen.
    tcp::socket refusing(ioc);
    refusing.open(tcp::v4());
    refusing.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));

    worker_pool pool(1);
    hub_client_config config;
    config.max_connections = 1;
    config.timeouts.connect = seconds{60};
    config.timeouts.handshake = seconds{60};
    config.reconnect.backoff_base = seconds{60};  // after a refusal, a long back-off
    config.reconnect.backoff_cap = seconds{60};
    notification_hub handshaking(
        pool, connection_string_for_port(silent.local_endpoint().port()), "hub", config);
    notification_hub backing_off(
        pool, connection_string_for_port(refusing.local_endpoint().port()), "hub", config);
    constexpr int n = 3;
    completions a(n), b(n);
    for (int i = 0; i < n; ++i) {
        handshaking.async_send(apple(i), a.handler(i));
        backing_off.async_send(apple(i), b.handler(i));
    }
    ASSERT_TRUE(poll_until([&] { return backing_off.stats().connections_failed >= 1; }, seconds{10}));
    const auto drain = milliseconds{200};
    EXPECT_LT(time_of([&] { handshaking.stop(drain); }), drain + seconds{2});
    EXPECT_LT(time_of([&] { backing_off.stop(drain); }), drain + seconds{2});
    // Nothing was ever sent: every notification says so, once.
    for (auto* c : {&a, &b}) {
        ASSERT_TRUE(c->wait(seconds{1}));
        EXPECT_EQ(c->count(errc::shutting_down), n);
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(c->calls(i), 1);
        }
    }
    EXPECT_EQ(handshaking.stats().queue_depth, 0u);
    EXPECT_EQ(backing_off.stats().queue_depth, 0u);
}

TEST(sender, stop_is_bounded_while_the_hub_is_paused_or_rate_limited) {
    hubsim_process sim(hubsim_options{.args = {"--fail-429", "1", "--retry-after-429", "3600"}});
    worker_pool pool(1);
    auto paused_config = config_for(sim, 2);
    paused_config.retry.backoff_cap = seconds{60};  // a minute's pause
    notification_hub paused(pool, sim.connection_string(), "hub", paused_config);
    auto limited_config = config_for(sim, 1);
    limited_config.rate_limit = 0.01;  // one every 100 s, after the first
    notification_hub limited(pool, sim.connection_string(), "hub", limited_config);
    constexpr int n = 3;
    completions a(n), b(n);
    for (int i = 0; i < n; ++i) {
        paused.async_send(apple(i), a.handler(i));
    }
    ASSERT_TRUE(poll_until([&] { return paused.stats().throttle_pauses >= 1; }, seconds{10}));
    sim.set_faults("{}");
    for (int i = 0; i < n; ++i) {
        limited.async_send(apple(i), b.handler(i));
    }
    ASSERT_TRUE(poll_until([&] { return limited.stats().sent >= 1; }, seconds{10}));
    const auto drain = milliseconds{200};
    EXPECT_LT(time_of([&] { paused.stop(drain); }), drain + seconds{2});
    EXPECT_LT(time_of([&] { limited.stop(drain); }), drain + seconds{2});
    ASSERT_TRUE(a.wait(seconds{1}));
    ASSERT_TRUE(b.wait(seconds{1}));
    EXPECT_EQ(a.count(errc::shutting_down), n);  // answered 429 or never sent: not sent
    EXPECT_EQ(b.count({}), 1);
    EXPECT_EQ(b.count(errc::shutting_down), n - 1);
}

TEST(sender, in_flight_requests_at_stop_complete_as_outcome_unknown) {
    // Two HTTP/1.1 connections, one request each on the wire; the third waits.
    hubsim_process sim(hubsim_options{.args = {"--latency", "5000"}});
    expect_stop_cuts_two_on_the_wire_and_one_queued(sim, config_for(sim, 2, hub_protocol::http1));
}

// Issue 10: async_send_prepared skips validation; the request builder's header gate still refuses
// the injected header lines, and the hub gets nothing.
TEST(sender, prepared_notification_with_injected_tags_fails_naming_the_field_and_never_reaches_the_hub) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1));
    auto n = apple(0);
    n.tags = "\r\nX-Anything:x || user:42";
    const auto r =
        hub.async_send_prepared(
               n, boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }))
            .get();
    EXPECT_EQ(r.error, errc::send_path_failed);
    EXPECT_THAT(r.error_detail, HasSubstr("tags: byte 0x0D (CR) at position 1"));
    EXPECT_EQ(hub.send(apple(1)).error, boost::system::error_code{});
    EXPECT_EQ(stat(sim, "/requests"), 1);
}

}  // namespace

namespace {

TEST(sender, a_cancelled_queued_notification_completes_at_once_and_is_never_sent_one_on_the_wire_is_not) {
    // One HTTP/1.1 connection and a slow hub: the first notification is on the wire, the others wait.
    hubsim_process sim(hubsim_options{.args = {"--latency", "4000"}, .record = true});
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1, hub_protocol::http1));
    std::array<boost::asio::cancellation_signal, 3> signals;
    std::array<std::promise<send_result>, 3> results;
    std::array<std::future<send_result>, 3> done;
    for (std::size_t i = 0; i < 3; ++i) {
        done[i] = results[i].get_future();
        hub.async_send(apple(static_cast<int>(i)),
                       boost::asio::bind_cancellation_slot(
                           signals[i].slot(), [&results, i](boost::system::error_code ec, send_result r) {
                               r.error = ec;
                               results[i].set_value(std::move(r));
                           }));
    }
    ASSERT_TRUE(sim.wait_for_stat("/requests", 1, seconds{5}));

    EXPECT_FALSE(cancel_queued_send(signals[0])) << "on the wire: a request cannot be recalled";
    EXPECT_TRUE(cancel_queued_send(signals[1]));
    EXPECT_FALSE(cancel_queued_send(signals[1])) << "cancelled once";

    ASSERT_EQ(done[1].wait_for(seconds{3}), std::future_status::ready) << "completes without waiting";
    EXPECT_EQ(done[0].wait_for(seconds{0}), std::future_status::timeout);
    const auto cancelled = done[1].get();
    EXPECT_EQ(cancelled.error, errc::cancelled);
    EXPECT_EQ(cancelled.attempts, 0);
    EXPECT_FALSE(done[0].get().error);
    EXPECT_FALSE(done[2].get().error);
    EXPECT_FALSE(cancel_queued_send(signals[2])) << "already sent";

    EXPECT_EQ(stat(sim, "/accepted"), 2);
    for (const auto& line : sim.record_lines()) {
        EXPECT_THAT(line, ::testing::Not(HasSubstr("\"n1\""))) << "the cancelled one never reached the hub";
    }
    EXPECT_EQ(hub.stats().queue_depth, 0u);
}

/// async_send of apple(i) under cancel key `key`.
template <class Handler>
void send_keyed(notification_hub& hub, int i, std::uint64_t key, Handler handler) {
    hub.async_send(apple(i), send_options{.cancel_key = key}, std::move(handler));
}

TEST(sender, a_queued_notification_is_cancelled_by_its_key_and_never_sent_one_on_the_wire_is_not) {
    // One HTTP/1.1 connection and a slow hub: the first notification is on the wire, the others wait.
    hubsim_process sim(hubsim_options{.args = {"--latency", "4000"}, .record = true});
    worker_pool pool(1);
    constexpr int n = 3;
    completions done(n);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 1, hub_protocol::http1));
    for (int i = 0; i < n; ++i) {
        send_keyed(hub, i, 100 + i, done.handler(i));
    }
    ASSERT_TRUE(sim.wait_for_stat("/requests", 1, seconds{5}));

    EXPECT_FALSE(hub.cancel_queued(100)) << "on the wire: a request cannot be recalled";
    EXPECT_TRUE(hub.cancel_queued(101));
    EXPECT_FALSE(hub.cancel_queued(101)) << "cancelled once";
    EXPECT_FALSE(hub.cancel_queued(0)) << "0 is no key";
    EXPECT_FALSE(hub.cancel_queued(999)) << "no such key";

    ASSERT_TRUE(poll_until([&] { return done.calls(1) == 1; }, seconds{3})) << "completes without waiting";
    EXPECT_EQ(done.calls(0), 0);
    EXPECT_EQ(done.result(1).error, errc::cancelled);
    EXPECT_EQ(done.result(1).attempts, 0);
    ASSERT_TRUE(done.wait(seconds{15}));
    EXPECT_FALSE(done.result(0).error);
    EXPECT_FALSE(done.result(2).error);
    EXPECT_FALSE(hub.cancel_queued(102)) << "already sent";

    EXPECT_EQ(stat(sim, "/accepted"), 2);
    for (const auto& line : sim.record_lines()) {
        EXPECT_THAT(line, ::testing::Not(HasSubstr("\"n1\""))) << "the cancelled one never reached the hub";
    }
    EXPECT_EQ(hub.stats().queue_depth, 0u);
}

TEST(sender, one_waiting_for_its_retry_is_cancelled_by_its_key) {
    // The hub answers 503; the retry would come a minute later.
    hubsim_process sim(hubsim_options{.args = {"--fail-503", "1"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1, hub_protocol::http1);
    config.retry.backoff_base = seconds{60};
    config.retry.backoff_cap = seconds{60};
    completions done(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    send_keyed(hub, 0, 7, done.handler(0));
    ASSERT_TRUE(sim.wait_for_stat("/requests", 1, seconds{10}));
    // false while the request is on the wire; true once the answer put it back to wait.
    ASSERT_TRUE(poll_until([&] { return hub.cancel_queued(7); }, seconds{10}));
    ASSERT_TRUE(done.wait(seconds{3}));
    EXPECT_EQ(done.result(0).error, errc::cancelled);
    EXPECT_EQ(done.result(0).attempts, 1);
    EXPECT_EQ(stat(sim, "/requests"), 1) << "not retried";
}

TEST(sender, cancels_by_key_racing_sends_and_work_stealing_each_decide_once) {
    // Two threads, so two shards that take work from each other; a short hub latency keeps some
    // notifications queued and some on the wire while half of the keys are cancelled, in random order.
    hubsim_process sim(hubsim_options{.args = {"--latency", "2", "--latency-jitter", "2"}});
    worker_pool pool(2);
    constexpr int n = 2000;
    completions done(n);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2, hub_protocol::http1));
    std::vector<int> odd;
    for (int i = 0; i < n; ++i) {
        send_keyed(hub, i, static_cast<std::uint64_t>(i + 1), done.handler(i));
        if (i % 2 == 1) {
            odd.push_back(i);
        }
    }
    std::shuffle(odd.begin(), odd.end(), std::mt19937{7});
    ASSERT_TRUE(sim.wait_for_stat("/accepted", 100, seconds{10}));
    std::vector<bool> cancelled(n);
    for (const int i : odd) {
        cancelled[static_cast<std::size_t>(i)] = hub.cancel_queued(static_cast<std::uint64_t>(i + 1));
    }
    ASSERT_TRUE(done.wait(seconds{60}));
    int cancels = 0;
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(done.calls(i), 1);
        if (cancelled[static_cast<std::size_t>(i)]) {
            ++cancels;
            EXPECT_EQ(done.result(i).error, errc::cancelled) << i;
        } else {
            EXPECT_FALSE(done.result(i).error) << i;
        }
    }
    EXPECT_GT(cancels, 0);
    EXPECT_LT(cancels, n / 2) << "some odd ones were sent before their cancel";
    EXPECT_EQ(stat(sim, "/accepted"), n - cancels) << "no cancelled one reached the hub";
    std::printf("%d of %d cancelled while queued\n", cancels, n);
    EXPECT_EQ(hub.stats().queue_depth, 0u);
}

}  // namespace

namespace {

std::size_t heap_in_use() {
    return ::mallinfo2().uordblks;
}

/// Heap bytes per queued notification held by `hub` after submitting `n` (one on the wire, the
/// rest queued behind a hub that answers after a minute).
template <class Submit>
double heap_per_queued(const hubsim_process& sim, int n, Submit submit) {
    worker_pool pool(1);
    auto config = config_for(sim, 1, hub_protocol::http1);
    config.queue_capacity = static_cast<std::size_t>(n) + 1;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto n0 = apple(0);
    std::atomic<int> done{0};
    const auto before = heap_in_use();
    for (int i = 0; i < n; ++i) {
        submit(hub, n0, i, done);
    }
    EXPECT_TRUE(
        poll_until([&] { return hub.stats().queue_depth == static_cast<std::uint64_t>(n); }, seconds{10}));
    const auto after = heap_in_use();
    hub.stop(milliseconds{0});
    EXPECT_TRUE(poll_until([&] { return done.load() == n; }, seconds{10}));
    return static_cast<double>(after - before) / n;
}

TEST(sender, a_cancellation_slot_costs_a_queued_notification_few_bytes_and_a_cancel_key_none) {
    // One malloc arena, so that mallinfo2 sees the workers' allocations too (when this test runs
    // first in its process, as ctest runs it).
    ::mallopt(M_ARENA_MAX, 1);
    hubsim_process sim(hubsim_options{.args = {"--latency", "60000"}});
    constexpr int n = 50'000;
    const auto plain_send = [](notification_hub& hub, const notification& x, int, auto& done) {
        hub.async_send(x, [&done](boost::system::error_code, send_result) { ++done; });
    };
    // The first measurement in a process comes out about 12 bytes lower than the next ones: it is
    // a warm-up, so that the others compare with each other.
    heap_per_queued(sim, n, plain_send);
    const double plain = heap_per_queued(sim, n, plain_send);
    const double keyed =
        heap_per_queued(sim, n, [](notification_hub& hub, const notification& x, int i, auto& done) {
            hub.async_send(x,
                           send_options{.cancel_key = static_cast<std::uint64_t>(i + 1)},
                           [&done](boost::system::error_code, send_result) { ++done; });
        });
    std::vector<boost::asio::cancellation_signal> signals(n);
    const double cancellable =
        heap_per_queued(sim, n, [&signals](notification_hub& hub, const notification& x, int i, auto& done) {
            hub.async_send(x,
                           boost::asio::bind_cancellation_slot(
                               signals[static_cast<std::size_t>(i)].slot(),
                               [&done](boost::system::error_code, send_result) { ++done; }));
        });
    // The figure for docs: the library's share (the handler in the signal's memory, and the
    // binder in the type-erased completion handler); the caller's signal is 8 bytes more.
    std::printf(
        "heap per queued notification: %.0f bytes plain, %.0f with a cancellation slot (+%.0f), %.0f with a "
        "cancel key (%+.1f)\n",
        plain,
        cancellable,
        cancellable - plain,
        keyed,
        keyed - plain);
    EXPECT_LT(cancellable - plain, 128.0);
    EXPECT_LT(keyed - plain, 4.0) << "a cancel key costs a queued notification nothing (a field would be 8)";
}

}  // namespace
