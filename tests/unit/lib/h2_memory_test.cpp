// h2_memory: nghttp2's allocator for one session, with free lists by size class.

#include "sender/h2_memory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

using nhpush::detail::h2_memory;

namespace {

void* allocate(h2_memory& m, std::size_t size) {
    return m.mem()->malloc(size, m.mem()->mem_user_data);
}
void release(h2_memory& m, void* p) {
    m.mem()->free(p, m.mem()->mem_user_data);
}

TEST(h2_memory, a_freed_block_serves_the_next_allocation_of_its_size_class) {
    h2_memory m;
    void* a = allocate(m, 100);
    std::memset(a, 0xab, 100);
    release(m, a);
    EXPECT_EQ(allocate(m, 97), a);  // 97 and 100 bytes round up to the same 112
    void* b = allocate(m, 100);
    EXPECT_NE(b, a);
    release(m, a);
    release(m, b);
}

TEST(h2_memory, blocks_are_aligned_and_large_ones_come_from_malloc) {
    h2_memory m;
    for (const std::size_t size : {0, 1, 16, 17, 511, 512, 513, 100'000}) {
        void* p = allocate(m, size);
        ASSERT_NE(p, nullptr) << size;
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u) << size;
        std::memset(p, 1, size);
        release(m, p);
    }
    release(m, nullptr);
}

TEST(h2_memory, calloc_zeroes_and_refuses_an_overflowing_size) {
    h2_memory m;
    void* dirty = allocate(m, 64);
    std::memset(dirty, 0xff, 64);
    release(m, dirty);
    auto* p = static_cast<unsigned char*>(m.mem()->calloc(8, 8, m.mem()->mem_user_data));
    ASSERT_EQ(static_cast<void*>(p), dirty);  // the recycled block, zeroed
    for (int i = 0; i < 64; ++i) {
        EXPECT_EQ(p[i], 0) << i;
    }
    release(m, p);
    EXPECT_EQ(m.mem()->calloc(std::numeric_limits<std::size_t>::max() / 2, 4, m.mem()->mem_user_data),
              nullptr);
}

TEST(h2_memory, realloc_keeps_the_contents) {
    h2_memory m;
    auto* p = static_cast<char*>(allocate(m, 20));
    std::memcpy(p, "0123456789abcdefghi", 20);
    p = static_cast<char*>(m.mem()->realloc(p, 30, m.mem()->mem_user_data));  // fits its 32 bytes
    EXPECT_STREQ(p, "0123456789abcdefghi");
    p = static_cast<char*>(m.mem()->realloc(p, 4000, m.mem()->mem_user_data));
    EXPECT_STREQ(p, "0123456789abcdefghi");
    release(m, p);
    void* fresh = m.mem()->realloc(nullptr, 10, m.mem()->mem_user_data);
    EXPECT_NE(fresh, nullptr);
    release(m, fresh);
}

TEST(h2_memory, blocks_up_to_the_retained_limit_are_recycled) {
    h2_memory m;
    std::vector<void*> blocks(h2_memory::max_retained / h2_memory::max_pooled + 10);
    for (auto& b : blocks) {
        b = allocate(m, h2_memory::max_pooled);
    }
    for (auto* b : blocks) {
        release(m, b);  // the last ten go back to malloc
    }
    std::vector<void*> again(blocks.size());
    std::size_t recycled = 0;
    for (auto& b : again) {
        b = allocate(m, h2_memory::max_pooled);
        recycled += std::find(blocks.begin(), blocks.end(), b) != blocks.end() ? 1 : 0;
    }
    EXPECT_GE(recycled, h2_memory::max_retained / h2_memory::max_pooled);
    for (auto* b : again) {
        release(m, b);
    }
}

}  // namespace
