// nhpush-bench daemon: notifications through nhpushd's Unix socket, as applications submit them.
// C client connections each send one request at a time (a JSON object, or an NDJSON batch of B),
// then the bench polls /v1/stats until the daemon reports every accepted notification final.

#include "bench_modes.hpp"
#include "daemon_stats.hpp"
#include "progress_meter.hpp"

#include "cli/daemon_client.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <map>
#include <thread>

namespace nhpush::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using clock = std::chrono::steady_clock;
using stream_type = beast::basic_stream<asio::local::stream_protocol>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds answer_timeout{60};  // a wait=true answer can take the hub's deadline

/// The code of an error answer, `{"error":{"code":…}}`, or `http_<status>`.
std::string error_code_of(const http::response<http::string_body>& answer) {
    rapidjson::Document d;
    d.Parse(answer.body().c_str());
    if (!d.HasParseError() && d.IsObject() && d.HasMember("error") && d["error"].IsObject() &&
        d["error"].HasMember("code") && d["error"]["code"].IsString()) {
        return d["error"]["code"].GetString();
    }
    return fmt::format("http_{}", answer.result_int());
}

/// Submits `count` notifications over C connections and records what each answer says.
/// Runs on one thread (its own io_context), so its counters need no locks.
class submitter {
public:
    explicit submitter(const daemon_options& o)
        : o_(o), submission_(submission_json(o.hub, o.load)), remaining_(o.load.count) {
        if (o.wait) {
            latencies_ms_.reserve(o.load.count);
        }
    }

    /// Opens the connections; the daemon's pid is the first one's peer (SO_PEERCRED).
    pid_t connect() {
        pid_t peer = 0;
        for (std::size_t i = 0; i < o_.connections; ++i) {
            stream_type s(context_);
            boost::system::error_code ec;
            s.socket().connect(asio::local::stream_protocol::endpoint(o_.socket), ec);
            if (ec) {
                throw cli::daemon_unreachable(
                    fmt::format("cannot connect to {}: {}", o_.socket, ec.message()));
            }
            if (peer == 0) {
                ucred cred{};
                socklen_t size = sizeof cred;
                if (getsockopt(s.socket().native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &size) == 0) {
                    peer = cred.pid;
                }
            }
            streams_.push_back(std::move(s));
        }
        return peer;
    }

    /// Returns when every notification was handed over (or refused), or the time limit passed.
    void run() {
        start_ = clock::now();
        give_up_at_ = start_ + o_.load.time_limit;
        if (o_.load.rate > 0) {
            schedule_.emplace(start_, o_.load.rate);
        }
        for (auto& s : streams_) {
            asio::co_spawn(context_, connection(std::move(s)), asio::detached);
        }
        context_.run();
        streams_.clear();
    }

    std::uint64_t handed_over() const { return handed_over_.load(std::memory_order_relaxed); }
    std::uint64_t accepted() const { return accepted_; }
    std::uint64_t sent() const { return sent_; }  // wait mode: answers that said sent
    std::uint64_t queue_full_answers() const { return queue_full_answers_; }
    const std::map<std::string, std::uint64_t>& failures() const { return failures_; }
    std::vector<double>& latencies_ms() { return latencies_ms_; }

private:
    struct claim {
        std::uint64_t slot = 0;  // its place in the fixed-rate schedule
        std::size_t n = 0;
    };

    std::optional<claim> take() {
        if (remaining_ == 0 || clock::now() >= give_up_at_) {
            return std::nullopt;
        }
        const claim c{next_slot_, static_cast<std::size_t>(std::min<std::uint64_t>(o_.batch, remaining_))};
        remaining_ -= c.n;
        next_slot_ += c.n;
        return c;
    }

    const std::string& request_for(std::size_t n) {
        auto& r = requests_[n];
        if (r.empty()) {
            r = submission_request(submission_, n, o_.wait);
        }
        return r;
    }

    asio::awaitable<void> connection(stream_type stream) {
        beast::flat_buffer buffer;
        asio::steady_timer timer(context_);
        while (const auto c = take()) {
            auto since = clock::now();
            if (schedule_) {
                since = schedule_->due(c->slot);
                timer.expires_at(since);
                co_await timer.async_wait(use_tuple);
            }
            stream.expires_after(answer_timeout);
            const auto& request = request_for(c->n);
            auto [error, written] = co_await asio::async_write(stream, asio::buffer(request), use_tuple);
            http::response_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            if (!error) {
                std::tie(error, std::ignore) = co_await http::async_read(stream, buffer, parser, use_tuple);
            }
            if (error) {  // this connection is done; the others go on
                refuse(fmt::format("connection: {}", error.message()), c->n);
                co_return;
            }
            if (record(*c, parser.get(), since) == outcome::retry_later) {
                timer.expires_after(std::chrono::milliseconds{2});  // the queue is full: let it drain
                co_await timer.async_wait(use_tuple);
            }
        }
    }

    enum class outcome { done, retry_later };

    outcome record(const claim& c, const http::response<http::string_body>& answer, clock::time_point since) {
        switch (answer.result_int()) {
            case 202:
                return c.n == 1 ? accept(1) : record_batch(c, answer);
            case 200:
                return record_outcome(answer, since);
            default: {
                const auto code = error_code_of(answer);
                return code == "queue_full" ? give_back(c.n) : refuse(code, c.n);
            }
        }
    }

    // Refused for good: counted as failed, not resubmitted.
    outcome refuse(const std::string& reason, std::size_t n) {
        failures_[reason] += n;
        handed_over_.fetch_add(n, std::memory_order_relaxed);
        return outcome::done;
    }

    // Refused for a full queue: resubmitted once the queue has had a moment to drain.
    outcome give_back(std::size_t n) {
        ++queue_full_answers_;
        remaining_ += n;
        return outcome::retry_later;
    }

    outcome accept(std::size_t n) {
        accepted_ += n;
        handed_over_.fetch_add(n, std::memory_order_relaxed);
        return outcome::done;
    }

    // {"accepted":[…],"rejected":[first 100],"rejected_by_code":{"queue_full":N,…},…}: every rejected
    // line is counted by code (the list stops at 100); lines refused for a full queue go back.
    outcome record_batch(const claim& c, const http::response<http::string_body>& answer) {
        rapidjson::Document d;
        d.Parse(answer.body().c_str());
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("accepted") || !d["accepted"].IsArray() ||
            !d.HasMember("rejected_by_code") || !d["rejected_by_code"].IsObject()) {
            return refuse("unreadable_batch_answer", c.n);
        }
        accept(d["accepted"].Size());
        std::size_t queue_full = 0;
        for (const auto& [name, count] : d["rejected_by_code"].GetObject()) {
            const std::string code = name.GetString();
            const auto n = count.IsUint64() ? static_cast<std::size_t>(count.GetUint64()) : 0;
            if (code == "queue_full") {
                queue_full += n;
            } else {
                refuse(code, n);
            }
        }
        return queue_full == 0 ? outcome::done : give_back(queue_full);
    }

    // A ?wait=true answer: the notification's outcome.
    outcome record_outcome(const http::response<http::string_body>& answer, clock::time_point since) {
        rapidjson::Document d;
        d.Parse(answer.body().c_str());
        accept(1);
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("status")) {
            ++failures_["unreadable_outcome"];
        } else if (d["status"] == "sent") {
            ++sent_;
            latencies_ms_.push_back(std::chrono::duration<double, std::milli>(clock::now() - since).count());
        } else {
            ++failures_[d.HasMember("reason") ? d["reason"].GetString() : "failed"];
        }
        return outcome::done;
    }

    const daemon_options& o_;
    const std::string submission_;
    asio::io_context context_{1};
    std::vector<stream_type> streams_;
    std::map<std::size_t, std::string> requests_;  // by notifications in the request
    std::optional<fixed_rate_schedule> schedule_;
    clock::time_point start_, give_up_at_;
    std::uint64_t remaining_;  // not yet handed over, nor refused for good
    std::uint64_t next_slot_ = 0;
    std::atomic<std::uint64_t> handed_over_{0};  // accepted or refused for good; read by the progress bar
    std::uint64_t accepted_ = 0, sent_ = 0, queue_full_answers_ = 0;
    std::map<std::string, std::uint64_t> failures_;
    std::vector<double> latencies_ms_;
};

hub_progress read_hub_progress(const daemon_options& o) {
    cli::daemon_request request;
    request.socket = o.socket;
    request.target = "/v1/stats";
    request.timeout = std::chrono::seconds{10};
    const auto answer = cli::call_daemon(request);
    if (answer.status != 200) {
        throw std::runtime_error(fmt::format("GET /v1/stats answered {}", answer.status));
    }
    return parse_hub_progress(answer.body, o.hub);
}

/// Polls /v1/stats until `accepted` more notifications than in `before` are final, or `limit` passes.
hub_progress wait_until_final(const daemon_options& o,
                              const hub_progress& before,
                              std::uint64_t accepted,
                              std::chrono::seconds limit) {
    const auto give_up_at = clock::now() + limit;
    for (;;) {
        auto done = read_hub_progress(o) - before;
        if (done.finished() >= accepted || clock::now() >= give_up_at) {
            return done;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
}

// Lets nhpushd open its hub connections before the clock starts, as a long-running daemon has
// them open: one NDJSON batch, sent and awaited, not counted. It is awaited for up to a minute
// whatever the time limit: at hub latency (256 over 8 HTTP/1.1 connections at 200 ms take 6.4 s)
// what is left of it would otherwise be sent, and counted, during the measurement.
constexpr std::chrono::seconds warm_up_limit{60};

void warm_up(const daemon_options& o) {
    constexpr std::size_t lines = 256;
    const auto before = read_hub_progress(o);
    cli::daemon_request request;
    request.socket = o.socket;
    request.method = "POST";
    request.target = "/v1/notifications";
    request.content_type = "application/x-ndjson";
    const auto line = submission_json(o.hub, o.load) + "\n";
    for (std::size_t i = 0; i < lines; ++i) {
        request.body += line;
    }
    const auto answer = cli::call_daemon(request);
    rapidjson::Document d;
    d.Parse(answer.body.c_str());
    if (answer.status != 202 || d.HasParseError() || !d.IsObject() || !d.HasMember("accepted")) {
        throw std::runtime_error(
            fmt::format("nhpushd refused the warm-up batch ({}): {}", answer.status, answer.body));
    }
    wait_until_final(o, before, d["accepted"].Size(), std::max(warm_up_limit, o.load.time_limit));
}

void add_failures(run_report& report, const std::map<std::string, std::uint64_t>& failures) {
    for (const auto& [reason, n] : failures) {
        report.failures_by_reason.emplace_back(reason, n);
    }
}

}  // namespace

run_report run_daemon(const daemon_options& o) {
    submitter load(o);
    const auto peer = load.connect();
    const pid_t daemon = o.daemon_pid != 0 ? o.daemon_pid : peer;
    if (!o.submit_only) {
        warm_up(o);
    }
    const auto before = read_hub_progress(o);
    const auto daemon_before = read_process_usage(daemon);
    const auto client_before = read_process_usage();

    run_report report;
    report.mode = o.submit_only ? "daemon, submit only" : "daemon";
    report.offered_rate = o.load.rate;
    report.cpu_of = "nhpushd";
    const auto start = clock::now();
    {
        const progress_meter progress(o.load.progress, o.load.count, [&load] { return load.handed_over(); });
        load.run();
    }
    report.submit_seconds = std::chrono::duration<double>(clock::now() - start).count();
    report.count = load.handed_over();
    add_failures(report, load.failures());

    if (o.wait) {
        report.ok = load.sent();
        report.latencies_ms = std::move(load.latencies_ms());
        report.latency_source = "per notification, measured by nhpush-bench";
    } else if (o.submit_only) {
        report.ok = load.accepted();
        report.latency_source = "none: submit only";
    } else {
        const auto done = wait_until_final(o, before, load.accepted(), o.load.time_limit);
        report.ok = done.sent;
        add_failures(report, done.failed);
        if (done.finished() < load.accepted()) {
            report.failures_by_reason.emplace_back("not_final_within_time_limit",
                                                   load.accepted() - done.finished());
        }
        report.latency_estimate_ms = estimate_latency(done);
        report.latency_source = "nhpushd's histogram, bucket upper bounds";
    }
    report.seconds = std::chrono::duration<double>(clock::now() - start).count();
    const auto daemon_after = read_process_usage(daemon);
    report.cpu_seconds = daemon_after.cpu_seconds - daemon_before.cpu_seconds;
    report.peak_rss_mib = daemon_after.peak_rss_mib;
    report.client_cpu_seconds = read_process_usage().cpu_seconds - client_before.cpu_seconds;
    report.failed = report.count - std::min(report.ok, report.count);
    report.queue_full_answers = load.queue_full_answers();
    return report;
}

}  // namespace nhpush::bench
