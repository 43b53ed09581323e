#pragma once
// The benchmark's modes. Each is bounded by a count and a time limit and stops by itself.

#include "bench_report.hpp"

#include <nhpush/notification.hpp>

#include <chrono>
#include <string>

namespace nhpush::bench {

struct direct_options {
    std::string connection_string;
    std::string hub;
    std::string ca_file;
    std::size_t connections = 64;
    std::size_t threads = 0;
    std::uint64_t count = 100'000;
    std::size_t window = 4096;  ///< notifications outstanding at most (closed loop)
    std::chrono::seconds time_limit{120};
    notification prototype;
};

run_report run_direct(const direct_options& o);

}  // namespace nhpush::bench
