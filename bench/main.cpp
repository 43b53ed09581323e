// nhpush-bench: load benchmark. See docs/benchmarks.md.

#include "bench_modes.hpp"

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/daemon_client.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* usage = R"TXT(usage: nhpush-bench direct CONNECTION --hub NAME [options]
       nhpush-bench daemon [--socket PATH] [--hub NAME] [options]

modes:
  direct    the nhpush library in-process, sending straight to the hub
  daemon    through nhpushd's Unix socket, as applications submit; waits until nhpushd reports
            every accepted notification final (GET /v1/stats), then reports its CPU and peak RSS

CONNECTION (direct): --connection-string CS | --connection-string-file F | $NH_CONNECTION_STRING
direct options:
  --hub NAME            the hub
  --ca-file F           trust the CAs in F (e.g. nhpush-hubsim's certificate)
  --protocol P          auto (default: h2 if the hub offers it, else HTTP/1.1), h2 or http1; the
                        report says which protocol the hub's answers came in
  --max-connections K   TLS connections at most, opened as the load needs them (default 64)
  --connections K       the same as --max-connections (the older name)
  --max-streams S       requests in flight per HTTP/2 connection at most (default 100)
  --threads T           worker threads (default: one per core)
  --window W            notifications outstanding at most, closed loop (default 4096)
daemon options:
  --socket PATH         nhpushd's socket (default $NHPUSH_SOCKET or /run/nhpush/nhpushd.sock)
  --hub NAME            the [hubs.NAME] to submit to (default main)
  --connections C       client connections to the socket (default 4)
  --batch B             notifications a request: 1 sends JSON objects, more NDJSON batches (default 1)
  --wait                ?wait=true: each answer is the outcome; latency measured per notification
                        (single requests only; needs enough connections for the rate)
  --submit-only         hand the notifications over and stop: ok counts accepted ones (e.g. to
                        measure nhpushd's memory with a full queue)
  --daemon-pid PID      the process to read CPU and RSS of (default: the socket's peer; give it
                        under socket activation, where the peer is systemd)
load options (both modes):
  --count N             notifications to send (default 100000)
  --rate R              fixed rate (open loop): R notifications a second, latency counted from when
                        each was due; default: closed loop, as fast as answers come
  --time-limit S        stop submitting after S seconds, and stop waiting S seconds later (default 120)
  --format F            apple (default), template, fcmv1, gcm, adm, baidu, browser, xiaomi, windows
  --payload-bytes B     payload size (default 200)
  --tags EXPR           tag expression (default: broadcast)
  --latency-file F      write each measured latency (ms), sorted, one a line
  --json                print one JSON object instead of a table
  --no-progress         no progress bar (it is drawn only on a terminal anyway)

Before the clock starts, each mode opens its connections by sending notifications it does not
count: direct 2 a connection, daemon one batch of 256 (none with --submit-only), awaited up to a
minute (or the time limit, if longer), so that none of them is sent during the measurement.
)TXT";

// The value of `--name`, or `fallback`: all of its text read by `parse` (std::stoull, std::stod)
// and accepted by `valid`, else a usage error saying it is not `what`.
template <class T, class Parse, class Valid>
T option_value(const std::optional<std::string>& v,
               std::string_view name,
               T fallback,
               Parse parse,
               Valid valid,
               std::string_view what) {
    if (!v) {
        return fallback;
    }
    std::size_t used = 0;
    try {
        const T n = parse(*v, &used);
        if (used == v->size() && valid(n)) {
            return n;
        }
    } catch (const std::exception&) {
    }
    throw nhpush::cli::usage_error(fmt::format("--{} '{}' is not {}", name, *v, what));
}

std::uint64_t number(const std::optional<std::string>& value, std::string_view name, std::uint64_t fallback) {
    return option_value<std::uint64_t>(
        value,
        name,
        fallback,
        [](const std::string& t, std::size_t* used) { return std::stoull(t, used); },
        [](std::uint64_t) { return true; },
        "a whole number");
}

std::uint64_t number(nhpush::cli::args& a, std::string_view name, std::uint64_t fallback) {
    return number(a.take(name), name, fallback);
}

double positive_number(nhpush::cli::args& a, std::string_view name) {
    return option_value<double>(
        a.take(name),
        name,
        0.0,
        [](const std::string& t, std::size_t* used) { return std::stod(t, used); },
        [](double n) { return n > 0; },
        "a number above 0");
}

nhpush::bench::load_options read_load(nhpush::cli::args& a) {
    nhpush::bench::load_options o;
    o.count = number(a, "count", o.count);
    if (o.count == 0) {
        throw nhpush::cli::usage_error("--count must be at least 1");
    }
    o.rate = positive_number(a, "rate");
    o.time_limit = std::chrono::seconds{number(a, "time-limit", 120)};
    if (const auto f = a.take("format")) {
        const auto format = nhpush::parse_format(*f);
        if (!format) {
            throw nhpush::cli::usage_error(fmt::format("--format '{}' is not a notification format", *f));
        }
        o.format = *format;
    }
    o.payload_bytes = number(a, "payload-bytes", o.payload_bytes);
    o.tags = a.take("tags").value_or("");
    o.progress = !a.take_flag("no-progress");
    nhpush::bench::sample_notification(o);  // throws if the options make an invalid notification
    return o;
}

nhpush::bench::run_report run_direct(nhpush::cli::args& a) {
    nhpush::bench::direct_options o;
    o.connection_string = nhpush::cli::read_connection_string(a);
    o.hub = a.take("hub").value_or("");
    if (o.hub.empty()) {
        throw nhpush::cli::usage_error("--hub is required");
    }
    o.ca_file = a.take("ca-file").value_or("");
    if (const auto p = a.take("protocol")) {
        const auto protocol = nhpush::bench::parse_protocol(*p);
        if (!protocol) {
            throw nhpush::cli::usage_error(fmt::format("--protocol '{}' is not auto, h2 or http1", *p));
        }
        o.protocol = *protocol;
    }
    // --connections is the older name of --max-connections; giving both is a mistake.
    const auto old_name = a.take("connections");
    const auto new_name = a.take("max-connections");
    if (old_name && new_name) {
        throw nhpush::cli::usage_error("--connections is --max-connections: give one of them");
    }
    o.max_connections = old_name ? number(old_name, "connections", o.max_connections)
                                 : number(new_name, "max-connections", o.max_connections);
    o.max_streams = number(a, "max-streams", o.max_streams);
    if (o.max_connections == 0 || o.max_streams == 0) {
        throw nhpush::cli::usage_error("--max-connections and --max-streams must be at least 1");
    }
    o.threads = number(a, "threads", 0);
    o.window = std::max<std::uint64_t>(1, number(a, "window", o.window));
    o.load = read_load(a);
    a.expect_empty();
    return nhpush::bench::run_direct(o);
}

nhpush::bench::run_report run_daemon(nhpush::cli::args& a) {
    nhpush::bench::daemon_options o;
    o.socket = a.take("socket").value_or(nhpush::cli::default_socket_path());
    o.hub = a.take("hub").value_or(o.hub);
    o.connections = std::max<std::uint64_t>(1, number(a, "connections", o.connections));
    o.batch = std::max<std::uint64_t>(1, number(a, "batch", o.batch));
    o.wait = a.take_flag("wait");
    o.submit_only = a.take_flag("submit-only");
    o.daemon_pid = static_cast<pid_t>(number(a, "daemon-pid", 0));
    o.load = read_load(a);
    a.expect_empty();
    if (o.wait && o.batch > 1) {
        throw nhpush::cli::usage_error("--wait takes single requests: leave out --batch");
    }
    if (o.wait && o.submit_only) {
        throw nhpush::cli::usage_error("--wait and --submit-only exclude each other");
    }
    return nhpush::bench::run_daemon(o);
}

}  // namespace

int main(int argc, char** argv) {
    nhpush::cli::args a({argv + 1, argv + argc});
    try {
        const auto mode = a.take_positional();
        if (!mode || a.take_flag("help")) {
            std::cout << usage;
            return mode ? 0 : 2;
        }
        const bool json = a.take_flag("json");
        const auto latency_file = a.take("latency-file");
        nhpush::bench::run_report report;
        if (*mode == "direct") {
            report = run_direct(a);
        } else if (*mode == "daemon") {
            report = run_daemon(a);
        } else {
            throw nhpush::cli::usage_error(fmt::format("unknown mode '{}' (direct or daemon)", *mode));
        }
        if (latency_file) {
            nhpush::bench::write_latencies(report, *latency_file);
        }
        std::cout << (json ? nhpush::bench::to_json(report) + "\n" : nhpush::bench::to_table(report));
        return report.failed == 0 ? 0 : 1;
    } catch (const nhpush::cli::usage_error& e) {
        std::cerr << "nhpush-bench: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "nhpush-bench: " << e.what() << "\n";
        return 2;
    }
}
