#pragma once
/** @file Small helpers the integration-test fixtures share. */

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

namespace nhpush::testing {

/// Polls `ready` with growing pauses (2 ms up to 50 ms) until it holds or `timeout` passes;
/// for state a fixture can only observe, such as a counter in another process.
template <class Ready>
bool poll_until(Ready ready, std::chrono::milliseconds timeout) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + timeout;
    for (auto pause = milliseconds{2};; pause = std::min(pause * 2, milliseconds{50})) {
        if (ready()) {
            return true;
        }
        if (steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(pause);
    }
}

/// A new private directory `base/prefix-XXXXXX` (base: the system's temp directory).
inline std::string make_temp_dir(const std::string& prefix,
                                 const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::string pattern = (base / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

}  // namespace nhpush::testing
