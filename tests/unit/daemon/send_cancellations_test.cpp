#include "hubs/send_cancellations.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using nhpush::errc;
using nhpush::notification_hub;
using nhpush::send_result;
using nhpush::hubs::send_cancellations;
using outcome = send_cancellations::outcome;
using namespace std::chrono_literals;

/// A hub whose sends stay queued: its listener never accepts, so TCP completes in the kernel and
/// the TLS handshake never does (for a minute).
class silent_hub {
public:
    silent_hub() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
        nhpush::hub_client_config config;
        config.min_connections = 0;
        config.max_connections = 1;
        config.timeouts.connect = 60s;
        config.timeouts.handshake = 60s;
        hub_.emplace(pool_,
                     "Endpoint=sb://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
                         "/;SharedAccessKeyName=k;SharedAccessKey=a2V5",
                     "hub",
                     config);
    }
    ~silent_hub() { hub_->stop(0ms); }

    notification_hub& hub() { return *hub_; }

    /// Queues a notification under `key`; the future has its result.
    std::future<send_result> send(std::uint64_t key) {
        nhpush::notification n;
        n.format = nhpush::notification_format::apple;
        n.payload = R"({"aps":{"alert":"hi"}})";
        return hub_->async_send(n,
                                nhpush::send_options{.cancel_key = key},
                                asio::use_future([](boost::system::error_code ec, send_result r) {
                                    r.error = ec;
                                    return r;
                                }));
    }

private:
    asio::io_context ioc_;
    asio::ip::tcp::acceptor acceptor_;
    nhpush::worker_pool pool_{1};
    std::optional<notification_hub> hub_;
};

TEST(send_cancellations, a_cancel_before_the_hand_over_is_honoured_at_it) {
    silent_hub s;
    send_cancellations c;
    EXPECT_EQ(c.cancel("a"), outcome::cancelled_at_hand_over);
    const auto t = c.open(s.hub(), "a");
    EXPECT_TRUE(t.cancelled);
    EXPECT_EQ(t.key, 0u);
    EXPECT_FALSE(c.open(s.hub(), "a").cancelled) << "once";
}

TEST(send_cancellations, a_withdrawn_cancel_leaves_the_hand_over_alone) {
    silent_hub s;
    send_cancellations c;
    c.cancel("a");
    c.withdraw("a");
    EXPECT_FALSE(c.open(s.hub(), "a").cancelled);
}

TEST(send_cancellations, a_queued_send_is_cancelled_in_the_library_once) {
    silent_hub s;
    send_cancellations c;
    const auto t = c.open(s.hub(), "a");
    ASSERT_NE(t.key, 0u);
    EXPECT_EQ(t.key, send_cancellations::key_of("a"));
    auto result = s.send(t.key);
    c.arm(t);
    EXPECT_EQ(c.cancel("a"), outcome::cancelled);
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready) << "completes without waiting";
    EXPECT_EQ(result.get().error, errc::cancelled);
    EXPECT_EQ(c.cancel("a"), outcome::on_the_wire) << "completed, not closed yet: nothing to cancel";
    c.close(t.key);
    EXPECT_EQ(c.size(), 0u);
}

/// cancel("a") on another thread while "a" is being handed over (opened, not armed): it waits.
std::future<outcome> cancel_during_hand_over(send_cancellations& c) {
    auto cancelled = std::async(std::launch::async, [&c] { return c.cancel("a"); });
    EXPECT_EQ(cancelled.wait_for(200ms), std::future_status::timeout) << "not before the library holds it";
    return cancelled;
}

/// What the waiting cancel() answered once the hand-over ended.
outcome answer_of(std::future<outcome>& cancelled) {
    EXPECT_EQ(cancelled.wait_for(10s), std::future_status::ready);
    return cancelled.get();
}

TEST(send_cancellations, a_cancel_during_the_hand_over_waits_for_it_and_cancels_the_queued_send) {
    silent_hub s;
    send_cancellations c;
    const auto t = c.open(s.hub(), "a");
    auto cancelled = cancel_during_hand_over(c);
    auto result = s.send(t.key);
    c.arm(t);
    EXPECT_EQ(answer_of(cancelled), outcome::cancelled);
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(result.get().error, errc::cancelled);
}

TEST(send_cancellations, a_cancel_during_the_hand_over_of_a_send_already_on_the_wire_says_so) {
    silent_hub s;  // nothing queued under the key when it is armed: as if a connection took it at once
    send_cancellations c;
    const auto t = c.open(s.hub(), "a");
    auto cancelled = cancel_during_hand_over(c);
    c.arm(t);
    EXPECT_EQ(answer_of(cancelled), outcome::on_the_wire)
        << "never 'cancelled' for a notification that is sent";
}

TEST(send_cancellations, a_cancel_during_a_hand_over_that_completes_at_once_leaves_it_to_the_caller) {
    silent_hub s;
    send_cancellations c;
    const auto t = c.open(s.hub(), "a");
    auto cancelled = cancel_during_hand_over(c);
    c.close(t.key);  // refused inside async_send: completed before it was armed
    EXPECT_EQ(answer_of(cancelled), outcome::cancelled_at_hand_over) << "the caller checks its state again";
}

TEST(send_cancellations, one_armed_that_the_library_does_not_hold_is_on_the_wire) {
    silent_hub s;  // nothing sent: as if it were on the wire, or completing
    send_cancellations c;
    const auto t = c.open(s.hub(), "a");
    c.arm(t);
    EXPECT_EQ(c.cancel("a"), outcome::on_the_wire);
    c.close(t.key);
    EXPECT_EQ(c.cancel("a"), outcome::cancelled_at_hand_over) << "closed: the caller checks its state again";
}

TEST(send_cancellations, a_send_completed_before_it_was_armed_stays_closed) {
    silent_hub s;
    send_cancellations c;
    const auto first = c.open(s.hub(), "a");
    c.close(first.key);                        // completed inside async_send (a refusal)
    const auto second = c.open(s.hub(), "a");  // the id submitted again at once
    c.arm(first);
    EXPECT_EQ(c.size(), 1u) << "the second is still being handed over, not armed by the first's arm()";
    c.close(second.key);
    EXPECT_EQ(c.size(), 0u);
}

TEST(send_cancellations, a_second_send_of_an_open_id_is_not_cancellable_and_closes_nothing) {
    silent_hub s;
    send_cancellations c;
    const auto first = c.open(s.hub(), "a");
    ASSERT_NE(first.key, 0u);
    c.arm(first);
    const auto second = c.open(s.hub(), "a");
    EXPECT_EQ(second.key, 0u);
    c.arm(second);
    c.close(second.key);
    EXPECT_EQ(c.size(), 1u);
    c.close(first.key);
    EXPECT_EQ(c.size(), 0u);
}

TEST(send_cancellations, an_open_entry_costs_a_few_bytes) {
    constexpr int n = 100'000;
    silent_hub s;
    send_cancellations c;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
        ids.push_back("n-" + std::to_string(1'000'000 + i));
    }
    const auto before = ::mallinfo2().uordblks;
    for (const auto& id : ids) {
        c.arm(c.open(s.hub(), id));
    }
    const auto per_entry = static_cast<double>(::mallinfo2().uordblks - before) / n;
    std::printf("send_cancellations: %.1f heap bytes per open entry\n", per_entry);
    EXPECT_LT(per_entry, 24.0);
    EXPECT_EQ(c.size(), static_cast<std::size_t>(n));
    for (const auto& id : ids) {
        c.close(send_cancellations::key_of(id));
    }
    EXPECT_EQ(c.size(), 0u);
    const auto left = static_cast<double>(::mallinfo2().uordblks) - static_cast<double>(before);
    std::printf("send_cancellations: %.0f heap bytes left once all are closed\n", left);
    EXPECT_LT(left, 64.0 * 1024) << "the key tables shrink once the burst is over";
}

}  // namespace
