#pragma once
/** @file The ids nhpushd gives notifications submitted without one. */

#include <atomic>
#include <cstdint>
#include <string>

namespace nhpush::hubs {

/**
 * @brief Makes short unique ids: 16 lowercase hex digits, e.g. `5f0c2a9e81d4b7a3`.
 *
 * Each id is a counter passed through a bijective 64-bit mix, so no two ids of one process are
 * equal, and a random starting point and key make ids of different runs differ (with overwhelming
 * probability) and hard to guess. Thread-safe: one relaxed atomic increment per id.
 */
class id_generator {
public:
    /// A random key and starting point.
    id_generator();
    /// Fixed key and starting point, for tests.
    id_generator(std::uint64_t key, std::uint64_t start) noexcept : key_(key), counter_(start) {}

    std::string next();

    /// The id of counter value `n`: a bijection of n.
    std::string make(std::uint64_t n) const;

private:
    std::uint64_t key_;
    std::atomic<std::uint64_t> counter_;
};

}  // namespace nhpush::hubs
