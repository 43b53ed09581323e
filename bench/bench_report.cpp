#include "bench_report.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nhpush::bench {

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

latency_summary summarize_latency(const run_report& r) {
    if (r.latency_estimate_ms) {
        return *r.latency_estimate_ms;
    }
    auto sorted = r.latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    return {
        percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 0.99), percentile(sorted, 1.0)};
}

namespace {

double per_second(std::uint64_t n, double seconds) {
    return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

double cpu_ms_per_1000(const run_report& r) {
    return r.ok > 0 ? r.cpu_seconds * 1e6 / static_cast<double>(r.ok) : 0;
}

}  // namespace

std::string to_json(const run_report& r) {
    const auto latency = summarize_latency(r);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    const auto number = [&w](const char* key, double value) {
        w.Key(key);
        w.Double(value);
    };
    const auto count = [&w](const char* key, std::uint64_t value) {
        w.Key(key);
        w.Uint64(value);
    };
    const auto text = [&w](const char* key, const std::string& value) {
        w.Key(key);
        w.String(value.c_str());
    };
    w.StartObject();
    text("mode", r.mode);
    if (!r.protocol_requested.empty()) {
        text("protocol_requested", r.protocol_requested);
        text("protocol", r.protocol);
        count("max_connections", r.max_connections);
        count("max_streams", r.max_streams);
    }
    count("count", r.count);
    count("ok", r.ok);
    count("failed", r.failed);
    number("seconds", r.seconds);
    number("per_second", per_second(r.ok, r.seconds));
    if (r.submit_seconds > 0) {
        number("submit_seconds", r.submit_seconds);
        number("submitted_per_second", per_second(r.count, r.submit_seconds));
    }
    if (r.offered_rate > 0) {
        number("offered_rate", r.offered_rate);
    }
    w.Key("latency_ms");
    w.StartObject();
    number("p50", latency.p50);
    number("p90", latency.p90);
    number("p99", latency.p99);
    number("max", latency.max);
    w.EndObject();
    text("latency_source", r.latency_source);
    text("cpu_of", r.cpu_of);
    number("cpu_seconds", r.cpu_seconds);
    number("cpu_ms_per_1000", cpu_ms_per_1000(r));
    number("peak_rss_mib", r.peak_rss_mib);
    if (r.client_cpu_seconds) {
        number("client_cpu_seconds", *r.client_cpu_seconds);
    }
    if (r.queue_full_answers > 0) {
        count("queue_full_answers", r.queue_full_answers);
    }
    w.Key("failures");
    w.StartObject();
    for (const auto& [reason, n] : r.failures_by_reason) {
        count(reason.c_str(), n);
    }
    w.EndObject();
    w.EndObject();
    return out.GetString();
}

std::string to_table(const run_report& r) {
    const auto latency = summarize_latency(r);
    std::string s = fmt::format("mode        {}\n", r.mode);
    if (!r.protocol_requested.empty()) {
        s += fmt::format("protocol    {} (asked for {}; at most {} connections, {} streams each)\n",
                         r.protocol,
                         r.protocol_requested,
                         r.max_connections,
                         r.max_streams);
    }
    if (r.offered_rate > 0) {
        s += fmt::format("offered     {:.0f} notifications/s (fixed rate)\n", r.offered_rate);
    }
    if (r.submit_seconds > 0) {
        s += fmt::format("submitted   {} in {:.2f} s, {:.0f}/s\n",
                         r.count,
                         r.submit_seconds,
                         per_second(r.count, r.submit_seconds));
    }
    s += fmt::format(
        "sent        {} of {} ({} failed) in {:.2f} s\n"
        "rate        {:.0f} notifications/s\n"
        "latency ms  p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}  ({})\n"
        "cpu         {:.2f} s of {} ({:.1f} ms per 1000)\n"
        "peak rss    {:.1f} MiB ({})\n",
        r.ok,
        r.count,
        r.failed,
        r.seconds,
        per_second(r.ok, r.seconds),
        latency.p50,
        latency.p90,
        latency.p99,
        latency.max,
        r.latency_source,
        r.cpu_seconds,
        r.cpu_of,
        cpu_ms_per_1000(r),
        r.peak_rss_mib,
        r.cpu_of);
    if (r.client_cpu_seconds) {
        s += fmt::format("client cpu  {:.2f} s of nhpush-bench\n", *r.client_cpu_seconds);
    }
    if (r.queue_full_answers > 0) {
        s += fmt::format("queue full  {} answers; their notifications were resubmitted\n",
                         r.queue_full_answers);
    }
    for (const auto& [reason, n] : r.failures_by_reason) {
        s += fmt::format("failed      {}: {}\n", reason, n);
    }
    return s;
}

void write_latencies(const run_report& r, const std::string& path) {
    auto sorted = r.latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    std::ofstream out(path);
    for (const auto v : sorted) {
        out << fmt::format("{:.4f}\n", v);
    }
    if (!out) {
        throw std::runtime_error(fmt::format("cannot write {}", path));
    }
}

std::optional<std::uint64_t> cpu_ticks_of_proc_stat(const std::string& stat) {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const auto end_of_name = stat.rfind(')');
    if (end_of_name == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(end_of_name + 1));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 13 && fields >> field; ++i) {
    }
    if (!(fields >> utime >> stime)) {
        return std::nullopt;
    }
    return utime + stime;
}

std::optional<double> peak_rss_mib_of_proc_status(const std::string& status) {
    std::istringstream lines(status);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with("VmHWM:")) {
            std::istringstream fields(line.substr(6));
            double kib = 0;
            if (fields >> kib) {
                return kib / 1024;
            }
        }
    }
    return std::nullopt;
}

process_usage read_process_usage(pid_t pid) {
    const auto dir = pid == 0 ? std::string("/proc/self") : fmt::format("/proc/{}", pid);
    const auto slurp = [&](const char* name) {
        std::ifstream in(dir + "/" + name);
        if (!in) {
            throw std::runtime_error(fmt::format("cannot read {}/{}: is the process running?", dir, name));
        }
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const auto ticks = cpu_ticks_of_proc_stat(slurp("stat"));
    const auto peak = peak_rss_mib_of_proc_status(slurp("status"));
    if (!ticks || !peak) {
        throw std::runtime_error(fmt::format("cannot make sense of {}/stat or {}/status", dir, dir));
    }
    return {static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)), *peak};
}

}  // namespace nhpush::bench
