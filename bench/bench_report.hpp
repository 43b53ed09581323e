#pragma once
// What a benchmark run measured, and how it is printed (a table for people, JSON for scripts).

#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nhpush::bench {

/// Latency percentiles, milliseconds.
struct latency_summary {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

struct run_report {
    std::string mode;
    std::string protocol_requested;   ///< direct mode: --protocol
    std::string protocol;             ///< direct mode: what the hub's answers came in ("h2", "http/1.1")
    std::size_t max_connections = 0;  ///< direct mode: the pool's bounds (0: not applicable)
    std::size_t max_streams = 0;
    std::uint64_t count = 0;           ///< notifications submitted or refused
    std::uint64_t ok = 0;              ///< the hub answered 201
    std::uint64_t failed = 0;          ///< count - ok
    double seconds = 0;                ///< from the first submission until every one was final
    double submit_seconds = 0;         ///< until the last was handed over (daemon mode)
    double offered_rate = 0;           ///< notifications a second offered (fixed-rate mode); 0: closed loop
    std::vector<double> latencies_ms;  ///< each notification's, when measured one by one
    /// Percentiles estimated from a histogram, when not measured one by one (daemon mode without --wait).
    std::optional<latency_summary> latency_estimate_ms;
    std::string latency_source = "per notification";
    std::string cpu_of = "nhpush-bench";  ///< the process cpu_seconds and peak_rss_mib are of
    double cpu_seconds = 0;               ///< user + system
    double peak_rss_mib = 0;
    std::optional<double> client_cpu_seconds;  ///< nhpush-bench's own, when cpu_of is another process
    std::vector<std::pair<std::string, std::uint64_t>> failures_by_reason;
    std::uint64_t queue_full_answers = 0;  ///< 503 queue_full (or batch lines): resubmitted, not failed
};

/// The value below which `q` (0..1) of the sorted samples fall (nearest rank).
double percentile(const std::vector<double>& sorted, double q);

/// The report's latency percentiles: from the samples, or the histogram estimate.
latency_summary summarize_latency(const run_report& report);

std::string to_json(const run_report& report);
std::string to_table(const run_report& report);

/// Writes each measured latency (ms), sorted, one a line: for plots.
void write_latencies(const run_report& report, const std::string& path);

/// CPU seconds (user + system) and peak resident set size of a process, from /proc.
struct process_usage {
    double cpu_seconds = 0;
    double peak_rss_mib = 0;  ///< VmHWM: the most it ever held
};

/// Of this process (pid 0) or of `pid`. @throws std::runtime_error if /proc has no such process.
process_usage read_process_usage(pid_t pid = 0);

/// The user + system clock ticks in the text of /proc/PID/stat (fields 14 and 15).
std::optional<std::uint64_t> cpu_ticks_of_proc_stat(const std::string& stat);

/// VmHWM in MiB from the text of /proc/PID/status.
std::optional<double> peak_rss_mib_of_proc_status(const std::string& status);

}  // namespace nhpush::bench
