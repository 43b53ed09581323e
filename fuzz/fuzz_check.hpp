#pragma once
/** @file What the fuzz targets share: an invariant check that fails loudly, and a fixed clock. */

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace nhpush::fuzz {

/** @brief A fixed "now" (2023-11-14), so that an input behaves the same on every run. */
inline const std::chrono::system_clock::time_point fixed_now{std::chrono::seconds{1'700'000'000}};

/** @brief Aborts (a libFuzzer crash, with the input saved) when an invariant does not hold. */
#define NHPUSH_FUZZ_CHECK(cond)                                                               \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)

}  // namespace nhpush::fuzz
