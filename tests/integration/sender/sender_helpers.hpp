#pragma once
/** @file What the sender's integration tests share: notifications, a config for hubsim, sending
 * many at once and collecting their completions. */

#include "hubsim_process.hpp"
#include "test_wait.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace nhpush::testing {

/// An apple notification whose X-Nhpush-Id is "n<i>" (hubsim records it as client_id).
inline notification apple(int i = 0) {
    notification n;
    n.format = notification_format::apple;
    n.payload = R"({"aps":{"alert":"hello )" + std::to_string(i) + R"("}})";
    n.headers = {{"X-Nhpush-Id", "n" + std::to_string(i)}};
    return n;
}

/// `protocol`: HTTP/1.1 for the tests whose counts rest on one request per connection at a time.
inline hub_client_config config_for(const hubsim_process& sim,
                                    std::size_t connections = 2,
                                    hub_protocol protocol = hub_protocol::automatic) {
    hub_client_config c;
    c.protocol = protocol;
    c.max_connections = connections;
    c.ca_file = sim.cert_file();
    c.retry.backoff_base = std::chrono::milliseconds{20};
    c.retry.backoff_cap = std::chrono::milliseconds{200};
    return c;
}

/// async_send with a future of the result.
inline std::future<send_result> send_future(notification_hub& hub, const notification& n) {
    return hub.async_send(
        n, boost::asio::use_future([](boost::system::error_code, send_result r) { return r; }));
}

/// Sends `n` notifications at once and waits for every result.
inline std::vector<send_result> send_all(notification_hub& hub, int n, int first = 0) {
    std::vector<std::future<send_result>> futures;
    for (int i = 0; i < n; ++i) {
        futures.push_back(send_future(hub, apple(first + i)));
    }
    std::vector<send_result> results;
    for (auto& f : futures) {
        results.push_back(f.get());
    }
    return results;
}

/// A hubsim counter, as a signed number for comparisons with counts.
inline long long stat(const hubsim_process& sim, std::string_view pointer) {
    return static_cast<long long>(sim.stat(pointer));
}

inline int count_sent(const std::vector<send_result>& results) {
    return static_cast<int>(
        std::count_if(results.begin(), results.end(), [](const send_result& r) { return !r.error; }));
}

/// The completions of `n` notifications, counted per notification so that a second completion of
/// one would show. Thread-safe: handlers run on the pool's threads.
class completions {
public:
    explicit completions(int n) : calls_(static_cast<std::size_t>(n)), results_(calls_.size()) {}

    auto handler(int i) {
        return [this, i](boost::system::error_code, send_result r) {
            std::lock_guard lock(mutex_);
            if (calls_[static_cast<std::size_t>(i)]++ == 0) {
                results_[static_cast<std::size_t>(i)] = std::move(r);
                ++done_;
            }
            changed_.notify_all();
        };
    }
    /// Waits until every notification has completed; false if `timeout` passes first.
    bool wait(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return done_ == calls_.size(); });
    }
    int calls(int i) {
        std::lock_guard lock(mutex_);
        return calls_[static_cast<std::size_t>(i)];
    }
    send_result result(int i) {
        std::lock_guard lock(mutex_);
        return results_[static_cast<std::size_t>(i)];
    }
    int count(boost::system::error_code ec) {
        std::lock_guard lock(mutex_);
        return static_cast<int>(std::count_if(
            results_.begin(), results_.end(), [&](const send_result& r) { return r.error == ec; }));
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<int> calls_;
    std::vector<send_result> results_;
    std::size_t done_ = 0;
};

template <class F>
std::chrono::milliseconds time_of(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

/// Stops a hub with two requests on the wire (the hub answers after 5 s) and one queued, given a
/// config that carries two at once: stop takes the drain, not the hub's 5 s; the two on the wire
/// end as outcome_unknown (the hub may have them), the queued one as shutting_down.
inline void expect_stop_cuts_two_on_the_wire_and_one_queued(const hubsim_process& sim,
                                                            const hub_client_config& config) {
    worker_pool pool(1);
    constexpr int n = 3;
    completions done(n);  // before the hub: its handlers must outlive the hub
    notification_hub hub(pool, sim.connection_string(), "hub", config);
    for (int i = 0; i < n; ++i) {
        hub.async_send(apple(i), done.handler(i));
    }
    ASSERT_TRUE(sim.wait_for_stat("/accepted", 2, std::chrono::seconds{10}));
    const auto drain = std::chrono::milliseconds{200};
    EXPECT_LT(time_of([&] { hub.stop(drain); }), drain + std::chrono::seconds{2});
    ASSERT_TRUE(done.wait(std::chrono::seconds{1}));
    EXPECT_EQ(done.count(errc::outcome_unknown), 2);
    EXPECT_EQ(done.count(errc::shutting_down), 1);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(done.calls(i), 1);
        if (done.result(i).error == errc::outcome_unknown) {
            EXPECT_THAT(done.result(i).error_detail, ::testing::HasSubstr("may have accepted it"));
        }
    }
    const auto stats = hub.stats();
    EXPECT_EQ(stats.outcome_unknown, 2u);
    EXPECT_EQ(stats.failed_shutdown, 1u);
    EXPECT_EQ(stats.queue_depth, 0u);
    EXPECT_EQ(stats.connections_open, 0u);
}

/// Sends 8 notifications to a hub that answers 429 with Retry-After: 2 until the sender has paused
/// (a request sent in the pause would meet a 429 or, once the hub accepts again, arrive before the
/// pause is over), then accepts: all 8 arrive after the pause, and only the requests in flight when
/// throttling began, at most `in_flight_at_once`, met a 429 and were sent once more.
inline void expect_throttle_pauses_the_hub_then_delivers(hubsim_process& sim,
                                                         notification_hub& hub,
                                                         long long in_flight_at_once) {
    using namespace std::chrono;
    std::vector<std::future<send_result>> futures;
    for (int i = 0; i < 8; ++i) {
        futures.push_back(send_future(hub, apple(i)));
    }
    ASSERT_TRUE(poll_until([&] { return hub.stats().throttle_pauses >= 1; }, seconds{10}));
    sim.set_faults("{}");
    for (auto& f : futures) {
        ASSERT_EQ(f.wait_for(seconds{10}), std::future_status::ready);
        const auto r = f.get();
        EXPECT_FALSE(r.error) << r.error.message() << " " << r.error_detail;
        EXPECT_GE(duration_cast<milliseconds>(r.latency), milliseconds{1900});
    }
    const auto throttled = stat(sim, "/answers_by_status/429");
    EXPECT_GE(throttled, 1);
    EXPECT_LE(throttled, in_flight_at_once);
    EXPECT_EQ(stat(sim, "/requests"), 8 + throttled);
    EXPECT_EQ(stat(sim, "/accepted"), 8);
    EXPECT_GE(hub.stats().throttle_pauses, 1u);
}

}  // namespace nhpush::testing
