// The library's sender over HTTP/2 against nhpush-hubsim on loopback: concurrent streams,
// GOAWAY, stream resets, per-stream timeouts, misbehaving peers, protocol choice, stop with
// streams in flight, connection recycling, the demand-sized pool and throttling.

#include "hubsim_process.hpp"
#include "sender_helpers.hpp"
#include "test_wait.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono;
using namespace nhpush;
using namespace nhpush::testing;
using ::testing::AnyOf;
using ::testing::HasSubstr;

namespace {

std::string message_of(errc e) {
    return make_error_code(e).message();
}

/// Sends `n` and waits at most `bound` for each: a hang fails the test instead of blocking it.
std::vector<send_result> send_all_within(notification_hub& hub, int n, milliseconds bound) {
    std::vector<std::future<send_result>> futures;
    for (int i = 0; i < n; ++i) {
        futures.push_back(send_future(hub, apple(i)));
    }
    const auto deadline = steady_clock::now() + bound;
    std::vector<send_result> results;
    for (auto& f : futures) {
        if (f.wait_until(deadline) != std::future_status::ready) {
            ADD_FAILURE() << "a notification did not complete within " << bound.count() << " ms";
            continue;
        }
        results.push_back(f.get());
    }
    return results;
}

/// The client ids hubsim recorded, each once: a duplicate fails the test.
std::set<std::string> recorded_once(const hubsim_process& sim) {
    std::set<std::string> ids;
    for (const auto& line : sim.record_lines()) {
        const auto at = line.find("\"client_id\":\"");
        if (at == std::string::npos) {
            continue;
        }
        const auto begin = at + 13;
        const auto id = line.substr(begin, line.find('"', begin) - begin);
        EXPECT_TRUE(ids.insert(id).second) << "recorded twice: " << id;
    }
    return ids;
}

TEST(sender_h2, sends_go_as_concurrent_streams_over_few_connections) {
    // 200 notifications reach the hub over HTTP/2, many at once on each connection.
    hubsim_process sim;
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    const auto results = send_all(hub, 200);
    EXPECT_EQ(count_sent(results), 200);
    for (const auto& r : results) {
        EXPECT_EQ(r.http_status, 201u);
        EXPECT_EQ(r.attempts, 1);
    }
    const auto stats = hub.stats();
    EXPECT_LE(stats.connections_opened, 4u);
    EXPECT_EQ(stats.connections_h2, stats.connections_opened);
    EXPECT_EQ(stat(sim, "/requests_h2"), 200);
    EXPECT_EQ(stat(sim, "/requests_http1"), 0);
    EXPECT_GT(stat(sim, "/max_open_streams"), 1);
    // A connection the pool opened as the burst ended may be through hubsim's handshake and not yet
    // counted here.
    EXPECT_GE(stat(sim, "/connections_h2"), static_cast<long long>(stats.connections_h2));
    EXPECT_LE(stat(sim, "/connections_h2"), 4);
}

TEST(sender_h2, goaway_moves_later_streams_to_a_new_connection_without_duplicates) {
    // A hub that drains its connections every 10 streams loses nothing and duplicates nothing.
    hubsim_process sim(hubsim_options{.args = {"--goaway-after", "10"}, .record = true});
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    const auto results = send_all_within(hub, 100, seconds{30});
    ASSERT_EQ(results.size(), 100u);
    for (const auto& r : results) {
        EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
        EXPECT_EQ(r.http_status, 201u);
        EXPECT_EQ(r.attempts, 1);
    }
    EXPECT_EQ(stat(sim, "/accepted"), 100);
    EXPECT_EQ(recorded_once(sim).size(), 100u);
    // A connection counts one GOAWAY however many the hub sends on it; the refused streams count
    // the hub's resets and the streams a GOAWAY refused before they went out.
    EXPECT_GE(hub.stats().goaways_received, 1u);
    EXPECT_LE(hub.stats().goaways_received, static_cast<std::uint64_t>(sim.stat("/goaways_sent")));
    EXPECT_GE(hub.stats().streams_reset, static_cast<std::uint64_t>(sim.stat("/streams_reset")));
    EXPECT_EQ(hub.stats().queue_depth, 0u);
}

TEST(sender_h2, a_connection_cut_with_streams_in_flight_loses_no_notification) {
    // --drop cuts the connection after a stream's HEADERS, and every stream on it with it: each is
    // retried as an attempt (the hub may have it) until delivered.
    hubsim_process sim(hubsim_options{.args = {"--drop", "0.05", "--seed", "3"}});
    worker_pool pool(2);
    auto config = config_for(sim, 2);
    config.retry.max_attempts = 50;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    constexpr int n = 100;
    const auto results = send_all_within(hub, n, seconds{60});
    ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
    int attempts = 0;
    for (const auto& r : results) {
        EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
        attempts += r.attempts;
    }
    EXPECT_GT(attempts, n);
    EXPECT_GE(stat(sim, "/accepted"), n);
    EXPECT_EQ(hub.stats().queue_depth, 0u);
}

TEST(sender_h2, our_stream_limit_holds) {
    hubsim_process sim(hubsim_options{.args = {"--latency", "20"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.max_streams = 3;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    EXPECT_EQ(count_sent(send_all(hub, 30)), 30);
    EXPECT_EQ(stat(sim, "/max_open_streams"), 3);
    EXPECT_EQ(hub.stats().connections_opened, 1u);
}

TEST(sender_h2, refused_streams_are_resent_without_an_attempt) {
    // REFUSED_STREAM means the hub did not process it: resent, never a duplicate, no attempt spent
    // (up to max_free_resends refusals of one notification: 10% makes a fourth unlikely).
    hubsim_process sim(hubsim_options{
        .args = {"--rst-stream", "0.1", "--rst-stream-code", "refused", "--seed", "11"}, .record = true});
    worker_pool pool(2);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2));
    constexpr int n = 60;
    const auto results = send_all_within(hub, n, seconds{30});
    ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
    for (const auto& r : results) {
        EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
        EXPECT_EQ(r.attempts, 1);
    }
    const auto stats = hub.stats();
    EXPECT_GT(stats.resent_after_close, 0u);
    EXPECT_EQ(stats.streams_reset, sim.stat("/faults/stream_reset"));
    EXPECT_EQ(stat(sim, "/accepted"), n);
    EXPECT_EQ(recorded_once(sim).size(), static_cast<std::size_t>(n));
}

TEST(sender_h2, streams_reset_with_internal_error_are_retried_as_attempts) {
    // INTERNAL_ERROR after processing: the hub may have it, so a retry counts as an attempt.
    hubsim_process sim(
        hubsim_options{.args = {"--rst-stream", "0.3", "--rst-stream-code", "internal", "--seed", "5"}});
    worker_pool pool(2);
    auto config = config_for(sim, 2);
    config.retry.max_attempts = 20;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    constexpr int n = 60;
    const auto results = send_all_within(hub, n, seconds{30});
    ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
    int attempts = 0, retried = 0;
    for (const auto& r : results) {
        EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
        attempts += r.attempts;
        retried += r.attempts >= 2 ? 1 : 0;
    }
    const auto resets = stat(sim, "/faults/stream_reset");
    EXPECT_GT(retried, 0);
    EXPECT_EQ(attempts, n + resets);  // every reset cost one attempt
    EXPECT_EQ(stat(sim, "/requests"), attempts);
    EXPECT_EQ(static_cast<long long>(hub.stats().streams_reset), resets);
    EXPECT_EQ(hub.stats().resent_after_close, 0u);
}

TEST(sender_h2, a_reset_stream_with_one_attempt_fails_naming_the_reset) {
    hubsim_process sim(hubsim_options{.args = {"--rst-stream", "1", "--rst-stream-code", "internal"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.retry.max_attempts = 1;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    const auto r = hub.send(apple());
    EXPECT_EQ(r.error, errc::retries_exhausted);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_THAT(r.error_detail, HasSubstr("RST_STREAM INTERNAL_ERROR"));
}

TEST(sender_h2, a_slow_stream_times_out_alone_while_others_on_its_connection_are_answered) {
    // One connection; two requests meet a 3 s hub, later ones a fast hub. The slow ones fail at
    // timeouts.read, not after the hub's 3 s, and the fast ones never wait for them.
    hubsim_process sim(hubsim_options{.args = {"--latency", "3000"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.timeouts.read = milliseconds{1000};
    config.retry.max_attempts = 1;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto slow1 = send_future(hub, apple(1));
    auto slow2 = send_future(hub, apple(2));
    ASSERT_TRUE(sim.wait_for_stat("/requests", 2, seconds{10}));
    sim.set_faults("{}");
    const auto fast = send_all_within(hub, 5, seconds{10});
    ASSERT_EQ(fast.size(), 5u);
    for (const auto& r : fast) {
        EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
        EXPECT_LT(r.latency, milliseconds{900});
    }
    for (auto* f : {&slow1, &slow2}) {
        ASSERT_EQ(f->wait_for(seconds{5}), std::future_status::ready);
        const auto r = f->get();
        EXPECT_EQ(r.error, errc::retries_exhausted);
        EXPECT_THAT(r.error_detail, HasSubstr(message_of(errc::read_timeout)));
        EXPECT_GE(r.latency, milliseconds{1000});
        EXPECT_LT(r.latency, milliseconds{2500});  // well before the hub's 3 s
    }
    EXPECT_EQ(hub.stats().connections_opened, 1u);  // all on the same connection
}

TEST(sender_h2, a_timed_out_stream_frees_its_place_for_the_next_notification_at_once) {
    // One connection, one stream at a time: the notification behind a stream that timed out goes
    // as soon as that stream is given up, not when the hub next sends something.
    hubsim_process sim(hubsim_options{.args = {"--latency", "10000"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.max_streams = 1;
    config.timeouts.read = milliseconds{500};
    config.retry.max_attempts = 1;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto slow = send_future(hub, apple(1));
    ASSERT_TRUE(sim.wait_for_stat("/requests", 1, seconds{10}));
    sim.set_faults("{}");
    auto next = send_future(hub, apple(2));
    ASSERT_EQ(slow.wait_for(seconds{5}), std::future_status::ready);
    EXPECT_EQ(slow.get().error, errc::retries_exhausted);
    ASSERT_EQ(next.wait_for(seconds{20}), std::future_status::ready);
    const auto r = next.get();
    EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
    EXPECT_LT(r.latency, milliseconds{2000});  // not the hub's 10 s
}

/// Runs 5 sends against a hubsim in a bad-peer mode: each must end, with `detail` named.
void expect_named_failure(std::string_view mode,
                          std::string_view detail,
                          hub_client_config tweak(hub_client_config)) {
    hubsim_process sim(hubsim_options{.args = {"--h2-misbehave", std::string(mode)}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.retry.max_attempts = 2;
    config = tweak(config);
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    constexpr int n = 5;
    const auto results = send_all_within(hub, n, seconds{20});
    EXPECT_EQ(results.size(), static_cast<std::size_t>(n));
    for (const auto& r : results) {
        EXPECT_EQ(r.error, errc::retries_exhausted) << mode << ": " << r.error.message();
        EXPECT_THAT(r.error_detail, HasSubstr(detail)) << mode;
    }
    EXPECT_EQ(hub.stats().queue_depth, 0u);
    EXPECT_LT(time_of([&] { hub.stop(seconds{5}); }), seconds{2});
    EXPECT_EQ(hub.stats().connections_open, 0u);
}

TEST(sender_h2, a_hub_that_sends_no_settings_fails_naming_them) {
    expect_named_failure("no-settings", "sent no HTTP/2 SETTINGS", [](hub_client_config c) {
        c.timeouts.handshake = milliseconds{500};
        return c;
    });
}

TEST(sender_h2, a_header_block_beyond_the_limit_fails_naming_it) {
    expect_named_failure("huge-headers", "response header list over", [](hub_client_config c) { return c; });
}

TEST(sender_h2, a_hub_that_never_opens_its_window_times_out) {
    expect_named_failure("zero-window", message_of(errc::read_timeout), [](hub_client_config c) {
        c.timeouts.read = milliseconds{500};
        return c;
    });
}

TEST(sender_h2, a_stream_reset_after_its_headers_fails_naming_the_reset) {
    expect_named_failure(
        "reset-mid-stream", "RST_STREAM INTERNAL_ERROR", [](hub_client_config c) { return c; });
}

TEST(sender_h2, protocol_h2_fails_against_a_hub_without_http2) {
    hubsim_process sim(hubsim_options{.args = {"--protocols", "http1"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1, hub_protocol::h2);
    config.retry.max_attempts = 2;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto f = send_future(hub, apple());
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);
    const auto r = f.get();
    EXPECT_TRUE(r.error);
    EXPECT_THAT(r.error_detail, HasSubstr("did not agree to HTTP/2"));
    EXPECT_EQ(stat(sim, "/requests"), 0);
}

TEST(sender_h2, protocol_http1_speaks_http1_to_an_http2_hub) {
    hubsim_process sim;
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 2, hub_protocol::http1));
    EXPECT_EQ(count_sent(send_all(hub, 20)), 20);
    EXPECT_EQ(stat(sim, "/requests_http1"), 20);
    EXPECT_EQ(stat(sim, "/connections_h2"), 0);
    EXPECT_EQ(hub.stats().connections_h2, 0u);
}

TEST(sender_h2, automatic_falls_back_to_http1_and_opens_a_connection_per_request_in_flight) {
    // A hub without HTTP/2: protocol automatic still delivers, and the pool grows as HTTP/1.1 needs.
    hubsim_process sim(hubsim_options{.args = {"--protocols", "http1", "--latency", "50"}});
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    EXPECT_EQ(count_sent(send_all(hub, 40)), 40);
    EXPECT_EQ(stat(sim, "/requests_http1"), 40);
    EXPECT_EQ(hub.stats().connections_h2, 0u);
    EXPECT_EQ(hub.stats().connections_opened, 4u);
}

TEST(sender_h2, protocol_http1_fails_against_a_hub_with_only_http2) {
    hubsim_process sim(hubsim_options{.args = {"--protocols", "h2"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1, hub_protocol::http1);
    config.retry.max_attempts = 2;
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto f = send_future(hub, apple());
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);
    const auto r = f.get();
    EXPECT_TRUE(r.error);
    EXPECT_THAT(r.error_detail, HasSubstr("application protocol"));
    // (hubsim's /$stats cannot be read here: its fixture client offers no ALPN, which --protocols h2
    // refuses.)
}

TEST(sender_h2, a_hub_allowing_fewer_streams_is_respected_and_the_pool_grows_instead) {
    // The hub's MAX_CONCURRENT_STREAMS 5 under our 100: no stream over it (none refused), and the
    // pool opens more connections to carry the work.
    hubsim_process sim(hubsim_options{.args = {"--max-streams", "5", "--latency", "50"}});
    worker_pool pool(1);
    notification_hub hub(pool, sim.connection_string(), "hub", config_for(sim, 4));
    const auto results = send_all(hub, 100);
    EXPECT_EQ(count_sent(results), 100);
    for (const auto& r : results) {
        EXPECT_EQ(r.attempts, 1);
    }
    EXPECT_LE(stat(sim, "/max_open_streams"), 5);
    EXPECT_EQ(stat(sim, "/streams_reset"), 0);
    EXPECT_EQ(hub.stats().resent_after_close, 0u);
    EXPECT_EQ(hub.stats().connections_opened, 4u);
}

TEST(sender_h2, a_hub_that_refuses_every_stream_is_not_hammered_until_the_deadline) {
    // REFUSED_STREAM costs no attempt; a hub that refuses everything must still end the
    // notification after a bounded number of requests, not resend it at full speed.
    hubsim_process sim(hubsim_options{.args = {"--rst-stream", "1", "--rst-stream-code", "refused"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.notification_deadline = seconds{3};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    auto f = send_future(hub, apple());
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);
    const auto r = f.get();
    EXPECT_TRUE(r.error);
    EXPECT_LE(stat(sim, "/requests"), 50) << r.error.message() << ": " << r.error_detail;
}

TEST(sender_h2, stop_is_bounded_while_waiting_for_the_hub_s_settings) {
    hubsim_process sim(hubsim_options{.args = {"--h2-misbehave", "no-settings"}});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.timeouts.handshake = seconds{60};
    completions done(2);  // before the hub: its handlers must outlive the hub
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    hub.async_send(apple(0), done.handler(0));
    hub.async_send(apple(1), done.handler(1));
    // Our connection and the fixture's own for /$stats (no-settings connections are not counted
    // as h2).
    ASSERT_TRUE(poll_until([&] { return sim.stat("/connections") >= 2; }, seconds{10}));
    const auto drain = milliseconds{200};
    EXPECT_LT(time_of([&] { hub.stop(drain); }), drain + seconds{2});
    ASSERT_TRUE(done.wait(seconds{1}));
    EXPECT_EQ(done.count(errc::shutting_down), 2);
    EXPECT_EQ(hub.stats().connections_open, 0u);
}

TEST(sender_h2, stop_with_streams_in_flight_reports_them_as_outcome_unknown) {
    // One HTTP/2 connection carrying two streams; the third waits.
    hubsim_process sim(hubsim_options{.args = {"--latency", "5000"}});
    auto config = config_for(sim, 1);
    config.max_streams = 2;
    expect_stop_cuts_two_on_the_wire_and_one_queued(sim, config);
}

TEST(sender_h2, connections_past_their_max_age_drain_gracefully) {
    // A steady trickle for ~3 s over connections that age out after 1 s: nothing fails, nothing
    // is sent twice.
    hubsim_process sim(hubsim_options{.record = true});
    worker_pool pool(1);
    auto config = config_for(sim, 1);
    config.connection_max_age = seconds{1};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    int sent = 0;
    for (const auto until = steady_clock::now() + seconds{3}; steady_clock::now() < until;) {
        for (const auto& r : send_all(hub, 5, sent)) {
            EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
            EXPECT_EQ(r.attempts, 1);
        }
        sent += 5;
        std::this_thread::sleep_for(milliseconds{20});  // the pace of the trickle, not a wait for state
    }
    EXPECT_GE(hub.stats().connections_recycled, 1u);
    EXPECT_EQ(stat(sim, "/accepted"), sent);
    EXPECT_EQ(recorded_once(sim).size(), static_cast<std::size_t>(sent));
}

TEST(sender_h2, idle_connections_close_and_reopen_on_demand) {
    hubsim_process sim;
    worker_pool pool(1);
    auto config = config_for(sim, 4);
    config.min_connections = 0;
    config.idle_timeout = seconds{1};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    EXPECT_EQ(count_sent(send_all(hub, 50)), 50);
    ASSERT_TRUE(poll_until(
        [&] {
            const auto s = hub.stats();
            return s.connections_closed_idle >= 1 && s.connections_open == 0;
        },
        seconds{10}));
    const auto opened = hub.stats().connections_opened;
    auto f = send_future(hub, apple(50));
    ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready)
        << "opened " << hub.stats().connections_opened << ", open " << hub.stats().connections_open
        << ", closed idle " << hub.stats().connections_closed_idle;
    const auto r = f.get();
    EXPECT_FALSE(r.error) << r.error.message() << ": " << r.error_detail;
    EXPECT_GT(hub.stats().connections_opened, opened);
}

TEST(sender_h2, idle_connections_close_down_to_min_connections_and_no_further) {
    // Two connections go idle together; min_connections 1: one closes, the other stays open.
    hubsim_process sim;
    worker_pool pool(1);
    auto config = config_for(sim, 2);
    config.min_connections = 1;
    config.max_streams = 10;
    config.idle_timeout = seconds{1};
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    EXPECT_EQ(count_sent(send_all(hub, 40)), 40);
    ASSERT_EQ(hub.stats().connections_opened, 2u);
    ASSERT_TRUE(poll_until([&] { return hub.stats().connections_closed_idle >= 1; }, seconds{10}));
    // Nothing more happens: no second close, no reconnect to make up for it.
    EXPECT_FALSE(poll_until([&] { return hub.stats().connections_opened > 2; }, seconds{2}));
    const auto stats = hub.stats();
    EXPECT_EQ(stats.connections_closed_idle, 1u);
    EXPECT_EQ(stats.connections_open, 1u);
}

TEST(sender_h2, throttling_pauses_the_whole_hub_for_retry_after_then_delivers_everything) {
    hubsim_process sim(hubsim_options{.args = {"--fail-429", "1", "--retry-after-429", "2"}});
    worker_pool pool(2);
    auto config = config_for(sim, 2);
    config.max_streams = 2;
    config.retry.backoff_cap = seconds{5};  // above the Retry-After, so that it is honoured in full
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    expect_throttle_pauses_the_hub_then_delivers(sim, hub, 2 * 2);  // max_streams × connections
    EXPECT_GE(stat(sim, "/requests_h2"), 8);
}

}  // namespace
