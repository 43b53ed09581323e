#pragma once
// What a benchmark run measured, and how it is printed (a table for people, JSON for scripts).

#include <cstdint>
#include <string>
#include <vector>

namespace nhpush::bench {

struct run_report {
    std::string mode;
    std::uint64_t count = 0;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    double seconds = 0;
    std::vector<double> latencies_ms;  // of the notifications that were sent
    double cpu_seconds = 0;            // user + system of this process
    double peak_rss_mib = 0;
    std::vector<std::pair<std::string, std::uint64_t>> failures_by_reason;
};

/// The value below which `q` (0..1) of the sorted samples fall (nearest rank).
double percentile(const std::vector<double>& sorted, double q);

std::string to_json(run_report report);
std::string to_table(run_report report);

/// CPU seconds (user + system) used by this process so far.
double process_cpu_seconds();
/// Peak resident set size of this process, MiB (VmHWM).
double process_peak_rss_mib();

}  // namespace nhpush::bench
