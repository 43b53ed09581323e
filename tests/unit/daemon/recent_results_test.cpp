#include "hubs/recent_results.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace nhpush::hubs;

namespace {

result_record sent(std::string hub, std::string notification_id) {
    result_record r;
    r.hub = std::move(hub);
    r.state = notification_state::sent;
    r.http_status = 201;
    r.attempts = 1;
    r.notification_id = std::move(notification_id);
    return r;
}

// A submission as the dispatcher makes it: claimed, then confirmed once queued.
void queue(recent_results& t, const std::string& id) {
    EXPECT_FALSE(t.claim(id, "main")) << id << " was known already";
    t.confirm(id);
}

TEST(recent_results, queued_then_finished) {
    recent_results t(10);
    queue(t, "a");
    ASSERT_TRUE(t.find("a"));
    EXPECT_EQ(t.find("a")->state, notification_state::queued);
    EXPECT_EQ(t.find("a")->hub, "main");
    t.finished("a", sent("main", "n1"));
    EXPECT_EQ(t.find("a")->state, notification_state::sent);
    EXPECT_EQ(t.find("a")->notification_id, "n1");
    EXPECT_FALSE(t.find("b"));
}

TEST(recent_results, forgets_the_oldest_finished_first_and_keeps_queued_ones) {
    recent_results t(3);
    queue(t, "q");
    for (auto id : {"a", "b", "c", "d"}) {
        queue(t, id);
        t.finished(id, sent("main", id));
    }
    EXPECT_FALSE(t.find("a"));
    EXPECT_TRUE(t.find("b"));
    EXPECT_TRUE(t.find("d"));
    EXPECT_TRUE(t.find("q"));  // still queued: not counted against the bound
    EXPECT_EQ(t.size(), 4u);
}

TEST(recent_results, an_id_forgotten_by_the_bound_can_be_used_again) {
    recent_results t(2);
    queue(t, "x");
    t.finished("x", sent("main", "old"));
    for (const char* id : {"y", "z"}) {
        queue(t, id);
        t.finished(id, sent("main", id));
    }
    EXPECT_FALSE(t.find("x"));  // the oldest finished one left the table
    queue(t, "x");              // so the client may use the id again
    t.finished("x", sent("main", "new"));
    ASSERT_TRUE(t.find("x"));
    EXPECT_EQ(t.find("x")->notification_id, "new");
}

TEST(recent_results, capacity_zero_keeps_nothing_and_a_reload_can_shrink_it) {
    recent_results off(0);
    queue(off, "a");
    off.finished("a", sent("main", "n"));
    EXPECT_FALSE(off.find("a"));
    EXPECT_EQ(off.size(), 0u);

    recent_results t(5);
    for (auto id : {"a", "b", "c", "d", "e"}) {
        t.finished(id, sent("main", id));
    }
    t.set_capacity(2);
    EXPECT_FALSE(t.find("c"));
    EXPECT_TRUE(t.find("d"));
    EXPECT_TRUE(t.find("e"));
}

TEST(recent_results, forget_removes_a_refused_submission) {
    recent_results t(5);
    queue(t, "a");
    t.forget("a");
    EXPECT_FALSE(t.find("a"));
}

TEST(recent_results, large_tables_stay_bounded_under_concurrent_use) {
    constexpr std::size_t capacity = 8192;
    recent_results t(capacity);
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&t, w] {
            for (int i = 0; i < 10'000; ++i) {
                const auto id = std::to_string(w) + "-" + std::to_string(i);
                queue(t, id);
                t.finished(id, sent("main", id));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_LE(t.size(), capacity);
    EXPECT_GE(t.size(), capacity - 16);
    t.finished("latest", sent("main", "latest"));
    EXPECT_TRUE(t.find("latest"));
}

TEST(recent_results, result_record_of_a_failure) {
    nhpush::send_result r;
    r.http_status = 401;
    r.attempts = 1;
    r.error_code = "401";
    r.error_detail = "ExpiredToken";
    const auto rec = result_record::finished("main", nhpush::errc::hub_rejected, r);
    EXPECT_EQ(rec.state, notification_state::failed);
    EXPECT_EQ(rec.reason, "hub_rejected");
    EXPECT_EQ(rec.http_status, 401u);
    EXPECT_EQ(reason_name(nhpush::errc::read_timeout), "read_timeout");
    EXPECT_EQ(reason_name({}), "");
    EXPECT_EQ(reason_name(boost::system::errc::make_error_code(boost::system::errc::connection_reset)),
              "network_error");
}

}  // namespace

namespace {

TEST(recent_results, claim_refuses_a_known_id_and_keeps_its_record) {
    recent_results t(5);
    EXPECT_FALSE(t.claim("order-7", "main")) << "a new id is claimed";
    t.confirm("order-7");
    const auto queued = t.claim("order-7", "other");
    ASSERT_TRUE(queued);
    EXPECT_EQ(queued->state, notification_state::queued);
    EXPECT_EQ(queued->hub, "main") << "the refused claim changed nothing";
    t.finished("order-7", sent("main", "n1"));
    const auto finished = t.claim("order-7", "main");
    ASSERT_TRUE(finished);
    EXPECT_EQ(finished->state, notification_state::sent);
    EXPECT_EQ(finished->notification_id, "n1");
    EXPECT_EQ(t.find("order-7")->notification_id, "n1");
}

TEST(recent_results, concurrent_claims_of_one_id_claim_exactly_once) {
    recent_results t(10'000);  // striped
    for (int round = 0; round < 50; ++round) {
        const auto id = "id-" + std::to_string(round);
        std::atomic<int> claimed{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&] {
                if (!t.claim(id, "main")) {
                    claimed.fetch_add(1);
                    t.confirm(id);  // queued: the others, waiting, are duplicates
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        EXPECT_EQ(claimed.load(), 1) << id;
    }
}

TEST(recent_results, capacity_zero_claims_every_id) {
    recent_results off(0);
    EXPECT_FALSE(off.claim("a", "main"));
    EXPECT_FALSE(off.claim("a", "main"));
}

}  // namespace

namespace {

// A claim of an id whose claim is pending waits until it is settled: it must not answer "already
// queued" for a notification that is then refused. The outcomes hold whichever thread runs first.
TEST(recent_results, a_claim_of_a_pending_id_waits_for_it_to_be_confirmed_or_forgotten) {
    recent_results t(5);
    ASSERT_FALSE(t.claim("refused", "main"));
    std::optional<result_record> second;
    std::thread other([&] { second = t.claim("refused", "main"); });
    t.forget("refused");  // the first submission was refused (queue full)
    other.join();
    EXPECT_FALSE(second) << "the id is free again: the second submission takes it";
    EXPECT_TRUE(t.find("refused"));

    ASSERT_FALSE(t.claim("queued", "main"));
    std::thread another([&] { second = t.claim("queued", "main"); });
    t.confirm("queued");
    another.join();
    ASSERT_TRUE(second) << "the first submission was queued: the second one is a duplicate";
    EXPECT_EQ(second->state, notification_state::queued);
}

}  // namespace

namespace {

// Queued notifications are held in a compact form (a spool may hold a million): each still answers
// with its own hub, is refused as a duplicate, and becomes a full result when it finishes.
TEST(recent_results, many_queued_ids_of_several_hubs_keep_their_hub_and_their_claim) {
    recent_results t(100);
    constexpr int count = 20'000;
    for (int i = 0; i < count; ++i) {
        const auto id = "id-" + std::to_string(i);
        ASSERT_FALSE(t.claim(id, i % 2 == 0 ? "even" : "odd"));
        t.confirm(id);
    }
    EXPECT_EQ(t.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; i += 997) {
        const auto id = "id-" + std::to_string(i);
        const auto claimed = t.claim(id, "even");
        ASSERT_TRUE(claimed) << id << " is queued: a second claim is refused";
        EXPECT_EQ(claimed->state, notification_state::queued);
        EXPECT_EQ(claimed->hub, i % 2 == 0 ? "even" : "odd");
    }
    t.finished("id-3", sent("odd", "n3"));
    EXPECT_EQ(t.find("id-3")->notification_id, "n3");
    t.forget("id-4");
    EXPECT_FALSE(t.find("id-4"));
    EXPECT_FALSE(t.find("id-" + std::to_string(count)));
}

}  // namespace
