#pragma once
/** @file Running a program from a test: arguments, environment, captured output, and waiting for it
 * with deadlines (never sleeping for a fixed time). */

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nhpush::testing {

/**
 * @brief A child process whose stdout (and optionally stderr) the test reads through a pipe.
 *
 * Lifetime: the destructor kills a child that is still running (SIGKILL) and reaps it.
 * Not thread-safe.
 */
class child_process {
public:
    /// What to run.
    struct options {
        std::string program;                                   ///< path of the executable
        std::vector<std::string> args;                         ///< without the program name
        std::vector<std::pair<std::string, std::string>> env;  ///< added to (or replacing in) ours
        std::string working_directory;                         ///< empty: ours
        bool merge_stderr = false;  ///< stderr into the same pipe; otherwise it is inherited
    };

    /// Starts the program. @throws std::runtime_error if it cannot be started.
    explicit child_process(options o);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// The next line of output (without `\n`), or nullopt at end of output or when `timeout` passes.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);

    /// All output until the child closes it, or until `timeout` passes (then what came so far).
    std::string read_all(std::chrono::milliseconds timeout);

    /// Sends `signal` (e.g. SIGTERM) if the child still runs.
    void signal(int signal);

    /// Waits for the child to exit; its exit status (or 128 + signal), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    /// The process id.
    int pid() const noexcept { return pid_; }

private:
    bool fill(std::chrono::steady_clock::time_point deadline);

    int pid_ = -1;
    int out_fd_ = -1;
    int pid_fd_ = -1;
    std::string pending_;
    bool eof_ = false;
    std::optional<int> status_;
};

/** @brief Runs a program to completion (at most `timeout`) and returns its exit status and output. */
std::pair<int, std::string> run_to_completion(child_process::options o, std::chrono::milliseconds timeout);

}  // namespace nhpush::testing
