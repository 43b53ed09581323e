#include "hubs/notification_ids.hpp"

#include <gtest/gtest.h>

#include <set>

using nhpush::hubs::id_generator;

namespace {

TEST(notification_ids, sixteen_lowercase_hex_digits) {
    id_generator ids;
    for (int i = 0; i < 100; ++i) {
        const auto id = ids.next();
        ASSERT_EQ(id.size(), 16u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    }
}

TEST(notification_ids, unique_across_the_counter_and_its_wrap) {
    id_generator ids(0x1234, ~0ULL - 500);  // wraps around 2^64 in the middle
    std::set<std::string> seen;
    for (int i = 0; i < 100'000; ++i) {
        ASSERT_TRUE(seen.insert(ids.next()).second);
    }
}

TEST(notification_ids, different_keys_give_different_ids) {
    EXPECT_NE(id_generator(1, 0).make(0), id_generator(2, 0).make(0));
    EXPECT_EQ(id_generator(7, 0).make(42), id_generator(7, 99).make(42));
}

}  // namespace
