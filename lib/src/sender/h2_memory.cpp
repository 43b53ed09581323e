#include "sender/h2_memory.hpp"

#include <cstdlib>
#include <cstring>
#include <limits>

namespace nhpush::detail {

namespace {

// Before each block: its capacity (for free and realloc, which are given no size). 16 bytes, so
// that the block keeps malloc's alignment.
struct alignas(16) block_header {
    std::size_t capacity;
};

block_header* header_of(void* p) noexcept {
    return static_cast<block_header*>(p) - 1;
}

void*& next_of(void* free_block) noexcept {
    return *static_cast<void**>(free_block);
}

h2_memory& self(void* user_data) noexcept {
    return *static_cast<h2_memory*>(user_data);
}

}  // namespace

h2_memory::h2_memory()
    : mem_{
          this,
          [](std::size_t size, void* me) { return self(me).allocate(size); },
          [](void* p, void* me) { self(me).release(p); },
          [](std::size_t count, std::size_t size, void* me) { return self(me).allocate_zeroed(count, size); },
          [](void* p, std::size_t size, void* me) { return self(me).reallocate(p, size); }} {}

h2_memory::~h2_memory() {
    for (void* p : free_) {
        while (p != nullptr) {
            void* next = next_of(p);
            std::free(header_of(p));
            p = next;
        }
    }
}

void* h2_memory::allocate(std::size_t size) noexcept {
    if (size <= max_pooled) {
        const std::size_t c = size == 0 ? 0 : (size - 1) / granule;
        if (void* p = free_[c]; p != nullptr) {
            free_[c] = next_of(p);
            retained_ -= header_of(p)->capacity;
            return p;
        }
        size = (c + 1) * granule;  // the whole class, so that the block can serve it again
    }
    auto* h = static_cast<block_header*>(std::malloc(sizeof(block_header) + size));
    if (h == nullptr) {
        return nullptr;
    }
    h->capacity = size;
    return h + 1;
}

void* h2_memory::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
    if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) {
        return nullptr;
    }
    void* p = allocate(count * size);
    if (p != nullptr) {
        std::memset(p, 0, count * size);
    }
    return p;
}

void h2_memory::release(void* p) noexcept {
    if (p == nullptr) {
        return;
    }
    const std::size_t capacity = header_of(p)->capacity;
    if (capacity > max_pooled || retained_ + capacity > max_retained) {
        std::free(header_of(p));
        return;
    }
    const std::size_t c = capacity / granule - 1;
    next_of(p) = free_[c];
    free_[c] = p;
    retained_ += capacity;
}

void* h2_memory::reallocate(void* p, std::size_t size) noexcept {
    if (p == nullptr) {
        return allocate(size);
    }
    const std::size_t capacity = header_of(p)->capacity;
    if (size <= capacity) {
        return p;
    }
    void* bigger = allocate(size);
    if (bigger == nullptr) {
        return nullptr;  // as realloc: the old block stays
    }
    std::memcpy(bigger, p, capacity);
    release(p);
    return bigger;
}

}  // namespace nhpush::detail
