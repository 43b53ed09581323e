#pragma once
// nghttp2's memory for one session, recycled: a stream costs nghttp2 some fifteen small blocks
// (the stream, its frames, HPACK strings), allocated and freed in bursts of a hundred streams that
// overflow malloc's per-thread caches, so each went through malloc's slower paths.

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>

namespace nhpush::detail {

/**
 * Blocks of up to max_pooled bytes go back to a free list of their size class when nghttp2 frees
 * them, and serve its next allocations of that class; at most max_retained bytes are kept, the
 * rest freed. Larger blocks come from malloc. Must outlive the session that uses it. Not
 * thread-safe (neither is the session).
 */
class h2_memory {
public:
    h2_memory();
    ~h2_memory();
    h2_memory(const h2_memory&) = delete;
    h2_memory& operator=(const h2_memory&) = delete;

    /// For nghttp2_session_client_new3.
    nghttp2_mem* mem() noexcept { return &mem_; }

    static constexpr std::size_t max_pooled = 512;
    static constexpr std::size_t max_retained = 256 * 1024;

private:
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t classes = max_pooled / granule;

    void* allocate(std::size_t size) noexcept;
    void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
    void release(void* p) noexcept;
    void* reallocate(void* p, std::size_t size) noexcept;

    // By size class, blocks of (class + 1) granules, each free block holding the next's address.
    std::array<void*, classes> free_{};
    std::size_t retained_ = 0;  // bytes in the free lists
    nghttp2_mem mem_;
};

}  // namespace nhpush::detail
