#pragma once
/**
 * @file A running nhpushd for integration tests.
 *
 * @code
 *   nhpush::testing::hubsim_process hub({.record = true});
 *   nhpush::testing::nhpushd_process daemon(hub, {.hub_extra = "queue_capacity = 10\n"});
 *   auto client = daemon.client();
 *   auto answer = client.post_json("/v1/notifications?wait=true", R"({"hub":"main",…})");
 *   daemon.signal(SIGHUP);
 *   ASSERT_TRUE(daemon.wait_for_notify("READY=1", 10s));   // sd_notify, through $NOTIFY_SOCKET
 * @endcode
 */

#include "hubsim_process.hpp"
#include "unix_http_client.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nhpush::testing {

/** @brief How to configure and start nhpushd. */
struct nhpushd_options {
    /// TOML lines added to `[daemon]` (socket, threads, drain_deadline and log_level are set).
    std::string daemon_extra;
    /// TOML lines added to `[hubs.main]` (hub "main", the connection string file, ca_file are set).
    std::string hub_extra;
    /// TOML tables after `[hubs.main]`, e.g. `[spool]` and its keys.
    std::string tables_extra;
    /// The connection string to write to the file; empty: hubsim's.
    std::string connection_string;
    /// The hub name in the namespace.
    std::string hub_name = "main";
    /// Whether to wait for READY=1 in the constructor.
    bool wait_ready = true;
    std::chrono::milliseconds start_timeout{15000};
    /// Extra environment variables.
    std::vector<std::pair<std::string, std::string>> env;
    /// Runs the binary through this launcher (e.g. systemd-socket-activate -l PATH), if not empty;
    /// `{dir}` in an argument becomes the fixture's temp directory.
    std::vector<std::string> launcher;
};

/**
 * @brief Writes a configuration for `hub` into a temp directory, starts nhpushd with stderr going
 * to a log file and $NOTIFY_SOCKET pointing at a datagram socket the fixture reads, and waits for
 * READY=1. The destructor stops it (SIGTERM, then SIGKILL after a deadline) and removes the
 * directory. Not thread-safe.
 */
class nhpushd_process {
public:
    nhpushd_process(const hubsim_process& hub, nhpushd_options options = {});
    ~nhpushd_process();
    nhpushd_process(const nhpushd_process&) = delete;
    nhpushd_process& operator=(const nhpushd_process&) = delete;

    const std::string& dir() const noexcept { return dir_; }
    const std::string& socket_path() const noexcept { return socket_; }
    const std::string& config_file() const noexcept { return config_file_; }
    int pid() const noexcept { return pid_; }

    /// A new client connection to the daemon's socket.
    unix_http_client client() const { return unix_http_client(socket_); }

    /// Rewrites the configuration file (for a reload) with new extra lines.
    void write_config(const std::string& daemon_extra, const std::string& hub_extra);

    /// Everything the daemon has logged so far.
    std::string log() const;
    /// Waits until the log holds `text` at least `occurrences` times.
    bool wait_for_log(std::string_view text,
                      std::chrono::milliseconds timeout,
                      std::size_t occurrences = 1) const;

    /// Waits for a notification to systemd that contains `state` (e.g. "READY=1"); each is seen once.
    bool wait_for_notify(std::string_view state, std::chrono::milliseconds timeout);
    /// Every notification received so far.
    const std::vector<std::string>& notifications() const noexcept { return notifications_; }

    void signal(int signal) const;
    /// Waits for the exit; the exit status (or 128 + signal), or nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    /// SIGTERM and wait_exit.
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds{20});

    static std::string daemon_binary();
    static std::string cli_binary();

private:
    void start(const nhpushd_options& options);

    const hubsim_process& hub_;
    nhpushd_options options_;
    std::string dir_;
    std::string socket_;
    std::string config_file_;
    std::string log_file_;
    std::string cs_file_;
    int notify_fd_ = -1;
    int pid_ = -1;
    int pid_fd_ = -1;
    std::optional<int> status_;
    std::vector<std::string> notifications_;
    std::size_t notifications_seen_ = 0;
};

/** @brief Runs the nhpush CLI with `args`; its exit status and combined output. */
std::pair<int, std::string> run_cli(std::vector<std::string> args,
                                    std::chrono::milliseconds timeout = std::chrono::seconds{30});

/** @brief A valid notification object for hub "main" (template format unless `format` says). */
std::string notification_json(std::string_view extra_fields = {});

/** @brief A notification with id `id` whose X-Nhpush-Id header makes hubsim record it as client_id. */
std::string tracked_notification(const std::string& id);

/** @brief How often hubsim received each tracked_notification id (from its record file). */
std::map<std::string, int> recorded_id_counts(const hubsim_process& hub);

/** @brief The ids hubsim received (tracked_notification), each once. */
std::set<std::string> recorded_ids(const hubsim_process& hub);

}  // namespace nhpush::testing
