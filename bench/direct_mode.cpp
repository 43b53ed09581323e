// nhpush-bench direct: the library in-process, sending straight to a hub over K connections.

#include "bench_modes.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <fmt/format.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>

namespace nhpush::bench {

namespace {

// A closed loop: `window` notifications outstanding; each completion submits the next one from
// the pool's thread, so the load generator adds no thread hand-off of its own.
class closed_loop {
public:
    closed_loop(notification_hub& hub, const direct_options& o, run_report& report)
        : hub_(hub), o_(o), report_(report), give_up_at_(std::chrono::steady_clock::now() + o.time_limit) {}

    /// Returns once every notification issued has its result.
    void run() {
        for (std::size_t i = 0; i < o_.window; ++i) {
            submit_next();
        }
        release();  // the reference run() held
        finished_.get_future().wait();
    }

    std::map<std::string, std::uint64_t> failures() {
        std::lock_guard lock(mutex_);
        return failures_;
    }
    std::uint64_t completed() const { return completed_.load(); }

private:
    void submit_next() {
        const auto i = next_.fetch_add(1);
        if (i >= o_.count || std::chrono::steady_clock::now() >= give_up_at_) {
            return;
        }
        outstanding_.fetch_add(1);
        hub_.async_send(o_.prototype, [this, i](boost::system::error_code ec, send_result r) {
            if (ec) {
                std::lock_guard lock(mutex_);
                ++failures_[ec.message()];
            } else {
                report_.latencies_ms[i] = std::chrono::duration<double, std::milli>(r.latency).count();
            }
            completed_.fetch_add(1);
            submit_next();
            release();
        });
    }

    void release() {
        if (outstanding_.fetch_sub(1) == 1) {
            finished_.set_value();
        }
    }

    notification_hub& hub_;
    const direct_options& o_;
    run_report& report_;
    std::chrono::steady_clock::time_point give_up_at_;
    std::atomic<std::uint64_t> next_{0}, completed_{0};
    std::atomic<std::uint64_t> outstanding_{1};  // run() holds one until it has issued the window
    std::mutex mutex_;
    std::map<std::string, std::uint64_t> failures_;
    std::promise<void> finished_;
};

}  // namespace

run_report run_direct(const direct_options& o) {
    hub_client_config config;
    config.connections = o.connections;
    config.ca_file = o.ca_file;
    config.queue_capacity = o.window + 1;
    worker_pool pool(o.threads);
    notification_hub hub(pool, o.connection_string, o.hub, config);

    run_report report;
    report.mode = "direct";
    report.latencies_ms.assign(o.count, -1.0);
    closed_loop loop(hub, o, report);
    const auto cpu_before = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    loop.run();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.cpu_seconds = process_cpu_seconds() - cpu_before;
    hub.stop(std::chrono::seconds{5});
    std::erase_if(report.latencies_ms, [](double v) { return v < 0; });
    report.ok = report.latencies_ms.size();
    report.count = loop.completed();
    report.failed = report.count - report.ok;
    const auto failures = loop.failures();
    report.failures_by_reason.assign(failures.begin(), failures.end());
    report.peak_rss_mib = process_peak_rss_mib();
    return report;
}

}  // namespace nhpush::bench
