#include "hubs/send_cancellations.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdio>
#include <string>

namespace {

using nhpush::hubs::send_cancellations;

TEST(send_cancellations, a_cancel_before_the_hand_over_is_honoured_at_it) {
    send_cancellations c;
    EXPECT_EQ(c.cancel("a"), send_cancellations::outcome::cancelled_at_hand_over);
    const auto t = c.open("a");
    EXPECT_TRUE(t.cancelled);
    EXPECT_EQ(t.signal, nullptr);
    EXPECT_FALSE(c.open("a").cancelled) << "once";
}

TEST(send_cancellations, a_withdrawn_cancel_leaves_the_hand_over_alone) {
    send_cancellations c;
    c.cancel("a");
    c.withdraw("a");
    EXPECT_FALSE(c.open("a").cancelled);
}

TEST(send_cancellations, a_cancel_during_the_hand_over_is_emitted_when_armed) {
    send_cancellations c;
    const auto t = c.open("a");
    ASSERT_NE(t.signal, nullptr);
    bool emitted = false;
    t.signal->slot().assign([&](boost::asio::cancellation_type) { emitted = true; });
    EXPECT_EQ(c.cancel("a"), send_cancellations::outcome::cancelled);
    EXPECT_FALSE(emitted) << "not before the library holds the slot";
    c.arm("a", t.signal);
    EXPECT_TRUE(emitted);
}

TEST(send_cancellations, a_second_send_of_an_open_id_is_not_cancellable_and_closes_nothing) {
    send_cancellations c;
    const auto first = c.open("a");
    ASSERT_NE(first.signal, nullptr);
    const auto second = c.open("a");
    EXPECT_EQ(second.signal, nullptr);
    c.close("a", second.signal);
    EXPECT_EQ(c.size(), 1u);
    c.close("a", first.signal);
    EXPECT_EQ(c.size(), 0u);
}

TEST(send_cancellations, an_open_entry_costs_about_a_hundred_bytes) {
    constexpr int n = 100'000;
    send_cancellations c;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
        ids.push_back("n-" + std::to_string(1'000'000 + i));  // 9 characters: inline in std::string
    }
    const auto before = ::mallinfo2().uordblks;
    for (const auto& id : ids) {
        c.arm(id, c.open(id).signal);
    }
    const auto per_entry = static_cast<double>(::mallinfo2().uordblks - before) / n;
    std::printf("send_cancellations: %.0f heap bytes per open entry\n", per_entry);
    EXPECT_LT(per_entry, 160.0);
}

}  // namespace
