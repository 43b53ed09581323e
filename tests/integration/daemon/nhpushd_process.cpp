#include "nhpushd_process.hpp"

#include <rapidjson/document.h>

#include "test_wait.hpp"

#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef NHPUSHD_PATH
#error "NHPUSHD_PATH must name the nhpushd binary"
#endif
#ifndef NHPUSH_CLI_PATH
#error "NHPUSH_CLI_PATH must name the nhpush binary"
#endif

extern char** environ;

namespace nhpush::testing {

using namespace std::chrono;

namespace {

int bind_notify_socket(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("cannot bind the notify socket " + path);
    }
    return fd;
}

std::size_t count_of(const std::string& text, std::string_view what) {
    if (what.empty()) {
        return 1;
    }
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) {
        ++n;
    }
    return n;
}

}  // namespace

std::string nhpushd_process::daemon_binary() {
    return NHPUSHD_PATH;
}

std::string nhpushd_process::cli_binary() {
    return NHPUSH_CLI_PATH;
}

// The temp dir is directly under /tmp: a Unix socket path must fit in 108 bytes.
nhpushd_process::nhpushd_process(const hubsim_process& hub, nhpushd_options options)
    : hub_(hub), options_(std::move(options)), dir_(make_temp_dir("nhpushd", "/tmp")) {
    socket_ = dir_ + "/nhpushd.sock";
    config_file_ = dir_ + "/nhpushd.toml";
    log_file_ = dir_ + "/nhpushd.log";
    cs_file_ = dir_ + "/connection-string";
    {
        std::ofstream cs(cs_file_);
        cs << (options_.connection_string.empty() ? hub_.connection_string() : options_.connection_string)
           << "\n";
    }
    ::chmod(cs_file_.c_str(), 0600);
    write_config(options_.daemon_extra, options_.hub_extra);
    notify_fd_ = bind_notify_socket(dir_ + "/notify.sock");
    start(options_);
    if (options_.wait_ready && !wait_for_notify("READY=1", options_.start_timeout)) {
        const auto text = log();
        signal(SIGKILL);
        wait_exit(seconds{5});
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("nhpushd did not become ready; its log:\n" + text);
    }
}

nhpushd_process::~nhpushd_process() {
    if (!status_) {
        signal(SIGTERM);
        if (!wait_exit(seconds{20})) {
            signal(SIGKILL);
            wait_exit(seconds{5});
        }
    }
    if (notify_fd_ >= 0) {
        ::close(notify_fd_);
    }
    if (pid_fd_ >= 0) {
        ::close(pid_fd_);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void nhpushd_process::write_config(const std::string& daemon_extra, const std::string& hub_extra) {
    std::ofstream out(config_file_ + ".tmp");
    out << "[daemon]\n"
        << "socket = \"" << socket_ << "\"\n"
        << "threads = 2\n"
        << "log_level = \"info\"\n"
        << daemon_extra << "\n"
        << "[hubs.main]\n"
        << "hub = \"" << options_.hub_name << "\"\n"
        << "connection_string_file = \"" << cs_file_ << "\"\n"
        << "ca_file = \"" << hub_.cert_file() << "\"\n"
        << hub_extra << "\n"
        << options_.tables_extra << "\n";
    out.close();
    // Renamed into place, so a reload never reads half a file.
    std::filesystem::rename(config_file_ + ".tmp", config_file_);
}

void nhpushd_process::start(const nhpushd_options& o) {
    std::vector<std::string> args = o.launcher;
    for (auto& a : args) {
        if (const auto at = a.find("{dir}"); at != std::string::npos) {
            a.replace(at, 5, dir_);
        }
    }
    args.insert(args.end(), {daemon_binary(), "--config", config_file_});
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view var(*e);
        if (!var.starts_with("NOTIFY_SOCKET=") && !var.starts_with("LISTEN_") &&
            !var.starts_with("WATCHDOG_")) {
            env.emplace_back(var);
        }
    }
    env.push_back("NOTIFY_SOCKET=" + dir_ + "/notify.sock");
    for (const auto& [name, value] : o.env) {
        env.push_back(name + "=" + value);
    }
    std::vector<char*> argv, envp;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    // stdout and stderr to the log; the daemon dies with the test (spawn_tied_to_parent).
    const int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        throw std::runtime_error("cannot open " + log_file_ + ": " + std::strerror(errno));
    }
    try {
        pid_ = spawn_tied_to_parent(
            argv[0], argv.data(), envp.data(), {.stdout_fd = log_fd, .stderr_fd = log_fd});
    } catch (const std::exception& e) {
        ::close(log_fd);
        throw std::runtime_error(std::string("cannot start nhpushd: ") + e.what());
    }
    ::close(log_fd);
    pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

std::string nhpushd_process::log() const {
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool nhpushd_process::wait_for_log(std::string_view text,
                                   milliseconds timeout,
                                   std::size_t occurrences) const {
    return poll_until([&] { return count_of(log(), text) >= occurrences; }, timeout);
}

bool nhpushd_process::wait_for_notify(std::string_view state, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        for (; notifications_seen_ < notifications_.size(); ++notifications_seen_) {
            if (notifications_[notifications_seen_].find(state) != std::string::npos) {
                ++notifications_seen_;
                return true;
            }
        }
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        // Also wakes up when the daemon exits, so a failed start is reported at once.
        pollfd p[2] = {{notify_fd_, POLLIN, 0}, {pid_fd_, POLLIN, 0}};
        if (left <= 0 || ::poll(p, 2, static_cast<int>(left)) <= 0) {
            return false;
        }
        if ((p[0].revents & POLLIN) == 0) {
            return false;  // exited
        }
        char buf[4096];
        const auto n = ::recv(notify_fd_, buf, sizeof buf, 0);
        if (n > 0) {
            notifications_.emplace_back(buf, static_cast<std::size_t>(n));
        }
    }
}

void nhpushd_process::signal(int signal) const {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, signal);
    }
}

std::optional<int> nhpushd_process::wait_exit(milliseconds timeout) {
    if (status_) {
        return status_;
    }
    pollfd p{pid_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        return std::nullopt;
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) {
        return std::nullopt;
    }
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
}

std::optional<int> nhpushd_process::stop(milliseconds timeout) {
    signal(SIGTERM);
    return wait_exit(timeout);
}

std::pair<int, std::string> run_cli(std::vector<std::string> args, milliseconds timeout) {
    return run_to_completion(
        child_process::options{
            .program = nhpushd_process::cli_binary(), .args = std::move(args), .merge_stderr = true},
        timeout);
}

std::string notification_json(std::string_view extra_fields) {
    std::string json = R"({"hub":"main","format":"template","payload":{"message":"hello"}})";
    if (!extra_fields.empty()) {
        json.pop_back();
        json.append(",").append(extra_fields).append("}");
    }
    return json;
}

}  // namespace nhpush::testing

namespace nhpush::testing {

std::string tracked_notification(const std::string& id) {
    // The X-Nhpush-Id header lands in hubsim's record as client_id.
    return notification_json(R"("id":")" + id + R"(","headers":{"X-Nhpush-Id":")" + id + R"("})");
}

std::map<std::string, int> recorded_id_counts(const hubsim_process& hub) {
    std::map<std::string, int> counts;
    for (const auto& line : hub.record_lines()) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        if (d.IsObject() && d.HasMember("client_id") && d["client_id"].IsString()) {
            ++counts[d["client_id"].GetString()];
        }
    }
    return counts;
}

std::set<std::string> recorded_ids(const hubsim_process& hub) {
    std::set<std::string> ids;
    for (const auto& [id, count] : recorded_id_counts(hub)) {
        ids.insert(id);
    }
    return ids;
}

}  // namespace nhpush::testing
