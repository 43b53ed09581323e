#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>

extern char** environ;

namespace nhpush::testing {

using namespace std::chrono;

namespace {

int remaining_ms(steady_clock::time_point deadline) {
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

std::vector<std::string> merged_environment(const std::vector<std::pair<std::string, std::string>>& extra) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        const auto eq = entry.find('=');
        env[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
    }
    for (const auto& [k, v] : extra) {
        env[k] = v;
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
        out.push_back(k + "=" + v);
    }
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int spawn_tied_to_parent(const char* path, char* const argv[], char* const envp[], const spawn_setup& setup) {
    // The child reports a failed exec through this pipe; a successful exec closes it (O_CLOEXEC).
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(status_pipe[0]);
        ::close(status_pipe[1]);
        throw std::runtime_error(std::string("cannot start ") + path + ": fork: " + std::strerror(e));
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        int e = 0;
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
            e = errno;
        } else if (::getppid() != parent) {
            ::_exit(127);  // the parent died before prctl: nobody is waiting for us
        } else if (setup.stdout_fd >= 0 && ::dup2(setup.stdout_fd, STDOUT_FILENO) < 0) {
            e = errno;
        } else if (setup.stderr_fd >= 0 && ::dup2(setup.stderr_fd, STDERR_FILENO) < 0) {
            e = errno;
        } else if (setup.working_directory != nullptr && ::chdir(setup.working_directory) != 0) {
            e = errno;
        } else {
            ::execve(path, argv, envp);
            e = errno;
        }
        [[maybe_unused]] const auto written = ::write(status_pipe[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(status_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(status_pipe[0]);
    if (n == static_cast<ssize_t>(sizeof child_errno)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        throw std::runtime_error(std::string("cannot start ") + path + ": " + std::strerror(child_errno));
    }
    return pid;
}

child_process::child_process(options o) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    std::vector<std::string> argv_strings{o.program};
    argv_strings.insert(argv_strings.end(), o.args.begin(), o.args.end());
    auto env_strings = merged_environment(o.env);
    auto argv = c_strings(argv_strings);
    auto envp = c_strings(env_strings);
    const spawn_setup setup{
        .stdout_fd = fds[1],
        .stderr_fd = o.merge_stderr ? fds[1] : -1,
        .working_directory = o.working_directory.empty() ? nullptr : o.working_directory.c_str()};
    try {
        pid_ = spawn_tied_to_parent(o.program.c_str(), argv.data(), envp.data(), setup);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
    pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

child_process::~child_process() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) {
        ::close(out_fd_);
    }
    if (pid_fd_ >= 0) {
        ::close(pid_fd_);
    }
}

bool child_process::fill(steady_clock::time_point deadline) {
    if (eof_) {
        return false;
    }
    pollfd p{out_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready <= 0) {
        return false;
    }
    char buf[4096];
    const auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
        eof_ = n == 0 || errno != EINTR;
        return !eof_;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
}

std::optional<std::string> child_process::read_line(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
            auto line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            return line;
        }
        if (!fill(deadline)) {
            return std::nullopt;
        }
    }
}

std::string child_process::read_all(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return std::exchange(pending_, {});
}

void child_process::signal(int sig) {
    if (!status_) {
        ::kill(pid_, sig);
    }
}

std::optional<int> child_process::wait(milliseconds timeout) {
    if (status_) {
        return status_;
    }
    if (pid_fd_ >= 0) {
        // The pidfd becomes readable when the child exits: wait on the event, not a timer.
        pollfd p{pid_fd_, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(timeout.count()));
    }
    int status = 0;
    if (::waitpid(pid_, &status, pid_fd_ >= 0 ? WNOHANG : 0) == pid_) {
        status_ = decode_status(status);
    }
    return status_;
}

std::pair<int, std::string> run_to_completion(child_process::options o, milliseconds timeout) {
    o.merge_stderr = true;
    child_process child(std::move(o));
    auto output = child.read_all(timeout);
    auto status = child.wait(milliseconds{2000});
    if (!status) {
        child.signal(SIGKILL);
        status = child.wait(milliseconds{5000});
        output += "\n[killed: did not finish in time]";
    }
    return {status.value_or(-1), output};
}

}  // namespace nhpush::testing
