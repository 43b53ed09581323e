#pragma once
// The benchmark's modes. Each is bounded by a count and a time limit and stops by itself.

#include "bench_report.hpp"
#include "load_plan.hpp"

#include <nhpush/notification_hub.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace nhpush::bench {

/// nhpush-bench direct: the library in-process, sending straight to a hub.
struct direct_options {
    load_options load;
    std::string connection_string;
    std::string hub;
    std::string ca_file;
    hub_protocol protocol = hub_protocol::automatic;
    std::size_t max_connections = 64;
    std::size_t max_streams = 100;  ///< per HTTP/2 connection
    std::size_t threads = 0;
    std::size_t window = 4096;  ///< notifications outstanding at most (closed loop)
};

run_report run_direct(const direct_options& o);

/// "auto", "h2" or "http1": the names --protocol takes (and nhpushd's `protocol` key).
std::string_view to_string(hub_protocol p) noexcept;
std::optional<hub_protocol> parse_protocol(std::string_view name) noexcept;

/// nhpush-bench daemon: through nhpushd's Unix socket, as applications submit.
struct daemon_options {
    load_options load;
    std::string socket;
    std::string hub = "main";     ///< the [hubs.NAME] the submissions name
    std::size_t connections = 4;  ///< client connections to the socket
    std::size_t batch = 1;        ///< notifications a request: 1 is a JSON object, more an NDJSON batch
    bool wait = false;            ///< ?wait=true: each answer is the outcome, latency measured here
    bool submit_only = false;     ///< do not wait for the daemon to finish (e.g. to measure a full queue)
    pid_t daemon_pid = 0;         ///< 0: the socket's peer
};

run_report run_daemon(const daemon_options& o);

}  // namespace nhpush::bench
