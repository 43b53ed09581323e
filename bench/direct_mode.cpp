// nhpush-bench direct: the library in-process, sending straight to a hub over K connections.

#include "bench_modes.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>
#include <semaphore>

namespace nhpush::bench {

run_report run_direct(const direct_options& o) {
    hub_client_config config;
    config.connections = o.connections;
    config.ca_file = o.ca_file;
    config.queue_capacity = o.window + 1;
    worker_pool pool(o.threads);
    notification_hub hub(pool, o.connection_string, o.hub, config);

    run_report report;
    report.mode = "direct";
    report.count = o.count;
    report.latencies_ms.assign(o.count, -1.0);
    std::counting_semaphore<> window(static_cast<std::ptrdiff_t>(o.window));
    std::atomic<std::uint64_t> done{0};
    std::mutex failures_mutex;
    std::map<std::string, std::uint64_t> failures;

    const auto cpu_before = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const auto give_up_at = start + o.time_limit;
    for (std::uint64_t i = 0; i < o.count && std::chrono::steady_clock::now() < give_up_at; ++i) {
        window.acquire();
        notification n = o.prototype;
        hub.async_send(std::move(n), [&, i](boost::system::error_code ec, send_result r) {
            if (ec) {
                std::lock_guard lock(failures_mutex);
                ++failures[ec.message()];
            } else {
                report.latencies_ms[i] = std::chrono::duration<double, std::milli>(r.latency).count();
            }
            done.fetch_add(1);
            window.release();
        });
    }
    // Wait for the window to drain: every notification has its result then.
    for (std::size_t i = 0; i < o.window; ++i) {
        window.acquire();
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.cpu_seconds = process_cpu_seconds() - cpu_before;
    std::erase_if(report.latencies_ms, [](double v) { return v < 0; });
    report.ok = report.latencies_ms.size();
    report.failed = done.load() - report.ok;
    report.count = done.load();
    report.failures_by_reason.assign(failures.begin(), failures.end());
    hub.stop(std::chrono::seconds{5});
    report.peak_rss_mib = process_peak_rss_mib();
    return report;
}

}  // namespace nhpush::bench
