#include "hubs/notification_ids.hpp"

#include <random>

namespace nhpush::hubs {
namespace {

// The SplitMix64 finalizer: every step (xor-shift, multiplication by an odd constant) is invertible,
// so distinct inputs give distinct outputs.
std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

std::uint64_t random_u64() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

id_generator::id_generator() : key_(random_u64()), counter_(random_u64()) {}

std::string id_generator::next() {
    return make(counter_.fetch_add(1, std::memory_order_relaxed));
}

std::string id_generator::make(std::uint64_t n) const {
    static constexpr char digits[] = "0123456789abcdef";
    std::uint64_t v = mix(n ^ key_);
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) {
        id[static_cast<std::size_t>(i)] = digits[v & 0xf];
    }
    return id;
}

}  // namespace nhpush::hubs
