#include "bench_report.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace nhpush::bench {

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

namespace {

double per_second(const run_report& r) {
    return r.seconds > 0 ? static_cast<double>(r.ok) / r.seconds : 0;
}

}  // namespace

std::string to_json(run_report r) {
    std::sort(r.latencies_ms.begin(), r.latencies_ms.end());
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartObject();
    w.Key("mode");
    w.String(r.mode.c_str());
    w.Key("count");
    w.Uint64(r.count);
    w.Key("ok");
    w.Uint64(r.ok);
    w.Key("failed");
    w.Uint64(r.failed);
    w.Key("seconds");
    w.Double(r.seconds);
    w.Key("per_second");
    w.Double(per_second(r));
    w.Key("latency_ms");
    w.StartObject();
    for (auto [name, q] : {std::pair{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"max", 1.0}}) {
        w.Key(name);
        w.Double(percentile(r.latencies_ms, q));
    }
    w.EndObject();
    w.Key("cpu_seconds");
    w.Double(r.cpu_seconds);
    w.Key("cpu_ms_per_1000");
    w.Double(r.ok > 0 ? r.cpu_seconds * 1e6 / static_cast<double>(r.ok) : 0);
    w.Key("peak_rss_mib");
    w.Double(r.peak_rss_mib);
    w.Key("failures");
    w.StartObject();
    for (const auto& [reason, n] : r.failures_by_reason) {
        w.Key(reason.c_str());
        w.Uint64(n);
    }
    w.EndObject();
    w.EndObject();
    return out.GetString();
}

std::string to_table(run_report r) {
    std::sort(r.latencies_ms.begin(), r.latencies_ms.end());
    std::string s = fmt::format(
        "mode        {}\n"
        "sent        {} of {} ({} failed) in {:.2f} s\n"
        "rate        {:.0f} notifications/s\n"
        "latency ms  p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}\n"
        "cpu         {:.2f} s ({:.1f} ms per 1000)\n"
        "peak rss    {:.1f} MiB\n",
        r.mode,
        r.ok,
        r.count,
        r.failed,
        r.seconds,
        per_second(r),
        percentile(r.latencies_ms, 0.5),
        percentile(r.latencies_ms, 0.9),
        percentile(r.latencies_ms, 0.99),
        percentile(r.latencies_ms, 1.0),
        r.cpu_seconds,
        r.ok > 0 ? r.cpu_seconds * 1e6 / static_cast<double>(r.ok) : 0,
        r.peak_rss_mib);
    for (const auto& [reason, n] : r.failures_by_reason) {
        s += fmt::format("failed      {}: {}\n", reason, n);
    }
    return s;
}

double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto secs = [](timeval t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

double process_peak_rss_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmHWM:")) {
            std::istringstream fields(line.substr(6));
            double kib = 0;
            fields >> kib;
            return kib / 1024;
        }
    }
    return 0;
}

}  // namespace nhpush::bench
