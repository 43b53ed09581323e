// nhpush-bench direct: the library in-process, sending straight to a hub over K connections.

#include "bench_modes.hpp"
#include "progress_meter.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <thread>

namespace nhpush::bench {

namespace {

using clock = std::chrono::steady_clock;

// What both loops share: the notification, the results, and when the run must stop.
class load_state {
public:
    load_state(notification_hub& hub, const direct_options& o, run_report& report)
        : hub_(hub)
        , o_(o)
        , prototype_(sample_notification(o.load))
        , report_(report)
        , give_up_at_(clock::now() + o.load.time_limit) {
        report_.latencies_ms.assign(o.load.count, -1.0);
    }

    std::map<std::string, std::uint64_t> failures() {
        std::lock_guard lock(mutex_);
        return failures_;
    }
    std::uint64_t completed() const { return completed_.load(); }

protected:
    bool out_of_time() const { return clock::now() >= give_up_at_; }

    /// Sends notification `i`; its latency counts from `since`. `then` runs after its result.
    template <class Then>
    void send(std::uint64_t i, clock::time_point since, Then then) {
        hub_.async_send_prepared(
            prototype_, [this, i, since, then](boost::system::error_code ec, send_result) {
                if (ec) {
                    std::lock_guard lock(mutex_);
                    ++failures_[ec.message()];
                } else {
                    report_.latencies_ms[i] =
                        std::chrono::duration<double, std::milli>(clock::now() - since).count();
                }
                completed_.fetch_add(1);
                then();
            });
    }

    notification_hub& hub_;
    const direct_options& o_;
    const notification prototype_;

private:
    run_report& report_;
    clock::time_point give_up_at_;
    std::atomic<std::uint64_t> completed_{0};
    std::mutex mutex_;
    std::map<std::string, std::uint64_t> failures_;
};

// Closed loop: `window` notifications outstanding; each completion submits the next one from the
// pool's thread, so the load generator adds no thread hand-off of its own.
class closed_loop : public load_state {
public:
    using load_state::load_state;

    /// Returns once every notification issued has its result.
    void run() {
        for (std::size_t i = 0; i < o_.window; ++i) {
            submit_next();
        }
        release();  // the reference run() held
        finished_.get_future().wait();
    }

private:
    void submit_next() {
        const auto i = next_.fetch_add(1);
        if (i >= o_.load.count || out_of_time()) {
            return;
        }
        outstanding_.fetch_add(1);
        send(i, clock::now(), [this] {
            submit_next();
            release();
        });
    }

    void release() {
        if (outstanding_.fetch_sub(1) == 1) {
            finished_.set_value();
        }
    }

    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::uint64_t> outstanding_{1};  // run() holds one until it has issued the window
    std::promise<void> finished_;
};

// Open loop: notification i is submitted when it is due (start + i / rate), whether or not earlier
// ones are done; its latency counts from when it was due. Each worker thread paces its share with a
// timer of its own, so submissions start on the thread that sends them (no hand-off between threads).
class open_loop : public load_state {
public:
    open_loop(notification_hub& hub, const direct_options& o, run_report& report, worker_pool& pool)
        : load_state(hub, o, report), pool_(pool), schedule_(clock::now(), o.load.rate) {}

    void run() {
        for (std::size_t t = 0; t < pool_.size(); ++t) {
            auto& timer = timers_.emplace_back(pool_.context(t));
            boost::asio::post(pool_.context(t), [this, t, &timer] { pace(timer, t); });
        }
        finished_.get_future().wait();
    }

private:
    // Sends every notification of this thread's share (t, t + T, t + 2T, …) that is due, then
    // sleeps until the next one is.
    void pace(boost::asio::steady_timer& timer, std::uint64_t next) {
        const auto now = clock::now();
        for (; next < o_.load.count && schedule_.due(next) <= now; next += pool_.size()) {
            outstanding_.fetch_add(1);
            send(next, schedule_.due(next), [this] { release(); });
        }
        if (next >= o_.load.count || out_of_time()) {
            release();  // this thread's pacer is done
            return;
        }
        timer.expires_at(schedule_.due(next));
        timer.async_wait([this, &timer, next](boost::system::error_code) { pace(timer, next); });
    }

    void release() {
        if (outstanding_.fetch_sub(1) == 1) {
            finished_.set_value();
        }
    }

    worker_pool& pool_;
    const fixed_rate_schedule schedule_;
    std::deque<boost::asio::steady_timer> timers_;
    std::atomic<std::uint64_t> outstanding_{pool_.size()};  // one per pacer until it is done
    std::promise<void> finished_;
};

// Opens the connections before the clock starts, as a long-running sender has them open:
// 2 notifications per connection, sent and awaited, not counted.
void warm_up(notification_hub& hub, const direct_options& o) {
    const auto n = static_cast<std::ptrdiff_t>(2 * o.max_connections);
    std::latch done(n);
    const auto prototype = sample_notification(o.load);
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        hub.async_send_prepared(prototype,
                                [&done](boost::system::error_code, send_result) { done.count_down(); });
    }
    done.wait();
}

template <class Loop>
void measure(Loop& loop, const direct_options& o, run_report& report) {
    const progress_meter progress(o.load.progress, o.load.count, [&loop] { return loop.completed(); });
    const auto cpu_before = read_process_usage().cpu_seconds;
    const auto start = clock::now();
    loop.run();
    report.seconds = std::chrono::duration<double>(clock::now() - start).count();
    report.cpu_seconds = read_process_usage().cpu_seconds - cpu_before;
}

// The protocol the connections spoke, from the sender's stats: the row says which protocol was
// used, not only which was asked for. (Not through on_exchange: a hook makes the HTTP/2 path keep a
// copy of every request for it, which the benchmark would then measure.)
std::string protocol_used(const sender_stats_snapshot& s) {
    if (s.connections_opened == 0) {
        return "none";
    }
    if (s.connections_h2 == 0) {
        return "http/1.1";
    }
    return s.connections_h2 == s.connections_opened ? "h2" : "mixed";
}

}  // namespace

std::string_view to_string(hub_protocol p) noexcept {
    switch (p) {
        case hub_protocol::h2:
            return "h2";
        case hub_protocol::http1:
            return "http1";
        case hub_protocol::automatic:
            break;
    }
    return "auto";
}

std::optional<hub_protocol> parse_protocol(std::string_view name) noexcept {
    for (const auto p : {hub_protocol::automatic, hub_protocol::h2, hub_protocol::http1}) {
        if (name == to_string(p)) {
            return p;
        }
    }
    return std::nullopt;
}

run_report run_direct(const direct_options& o) {
    const bool fixed_rate = o.load.rate > 0;
    hub_client_config config;
    config.protocol = o.protocol;
    config.max_connections = o.max_connections;
    config.max_streams = o.max_streams;
    config.ca_file = o.ca_file;
    config.queue_capacity =
        std::max<std::size_t>(2 * o.max_connections, fixed_rate ? o.load.count : o.window) + 1;
    worker_pool pool(o.threads);
    notification_hub hub(pool, o.connection_string, o.hub, config);

    run_report report;
    report.mode = "direct";
    report.protocol_requested = to_string(o.protocol);
    report.max_connections = o.max_connections;
    report.max_streams = o.max_streams;
    report.offered_rate = o.load.rate;
    std::map<std::string, std::uint64_t> failures;
    warm_up(hub, o);
    if (fixed_rate) {
        open_loop loop(hub, o, report, pool);
        measure(loop, o, report);
        report.count = loop.completed();
        failures = loop.failures();
    } else {
        closed_loop loop(hub, o, report);
        measure(loop, o, report);
        report.count = loop.completed();
        failures = loop.failures();
    }
    hub.stop(std::chrono::seconds{5});
    report.protocol = protocol_used(hub.stats());
    std::erase_if(report.latencies_ms, [](double v) { return v < 0; });
    report.ok = report.latencies_ms.size();
    report.failed = report.count - report.ok;
    report.failures_by_reason.assign(failures.begin(), failures.end());
    report.peak_rss_mib = read_process_usage().peak_rss_mib;
    return report;
}

}  // namespace nhpush::bench
