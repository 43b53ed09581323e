// nhpush-bench: load benchmark. See docs/benchmarks.md.

#include "bench_modes.hpp"

#include "cli/args.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>

#include <iostream>

namespace {

constexpr const char* usage = R"TXT(usage: nhpush-bench direct CONNECTION --hub NAME [options]

modes:
  direct    the nhpush library in-process, sending straight to the hub

CONNECTION: --connection-string CS | --connection-string-file F | $NH_CONNECTION_STRING
options:
  --hub NAME            the hub
  --ca-file F           trust the CAs in F (e.g. nhpush-hubsim's certificate)
  --connections K       keep-alive connections (default 64)
  --threads T           worker threads (default: one per core)
  --count N             notifications to send (default 100000)
  --window W            notifications outstanding at most (default 4096)
  --time-limit S        stop submitting after S seconds (default 120)
  --payload-bytes B     size of the apple payload (default 200)
  --tags EXPR           tag expression (default: broadcast)
  --json                print one JSON object instead of a table
)TXT";

std::string apple_payload(std::size_t bytes) {
    std::string body = R"({"aps":{"alert":")";
    const std::string tail = R"("}})";
    body += std::string(bytes > body.size() + tail.size() ? bytes - body.size() - tail.size() : 1, 'x');
    return body + tail;
}

std::uint64_t number(nhpush::cli::args& a, std::string_view name, std::uint64_t fallback) {
    const auto v = a.take(name);
    if (!v) {
        return fallback;
    }
    try {
        return std::stoull(*v);
    } catch (const std::exception&) {
        throw nhpush::cli::usage_error(fmt::format("--{} '{}' is not a number", name, *v));
    }
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
        if (*mode != "direct") {
            throw nhpush::cli::usage_error(fmt::format("unknown mode '{}'", *mode));
        }
        nhpush::bench::direct_options o;
        o.connection_string = nhpush::cli::read_connection_string(a);
        o.hub = a.take("hub").value_or("");
        if (o.hub.empty()) {
            throw nhpush::cli::usage_error("--hub is required");
        }
        o.ca_file = a.take("ca-file").value_or("");
        o.connections = number(a, "connections", 64);
        o.threads = number(a, "threads", 0);
        o.count = number(a, "count", 100'000);
        o.window = std::max<std::uint64_t>(1, number(a, "window", 4096));
        o.time_limit = std::chrono::seconds{number(a, "time-limit", 120)};
        o.prototype.format = nhpush::notification_format::apple;
        o.prototype.payload = apple_payload(number(a, "payload-bytes", 200));
        o.prototype.tags = a.take("tags").value_or("");
        const bool json = a.take_flag("json");
        a.expect_empty();
        const auto report = nhpush::bench::run_direct(o);
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
