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
 * Lifetime: the destructor kills a child that is still running (SIGKILL) and reaps it; the child also
 * dies if this process does (see spawn_tied_to_parent).
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

/** @brief Where a spawned child's standard output and error go, and where it starts. */
struct spawn_setup {
    int stdout_fd = -1;                       ///< made the child's stdout when >= 0
    int stderr_fd = -1;                       ///< made the child's stderr when >= 0
    const char* working_directory = nullptr;  ///< nullptr: ours
};

/**
 * @brief Starts `path` (no PATH search) with `argv` and `envp`, its death tied to ours.
 *
 * fork + execve, with PR_SET_PDEATHSIG(SIGKILL) set in the child before exec: when the test is killed
 * (a crash, a sanitizer abort, ctest's TIMEOUT) the child dies too instead of living on as an orphan
 * that holds ctest's output pipe open. The signal is tied to the *thread* that spawns: spawn from a
 * thread that outlives the child (a test's own thread). Between fork and exec the child makes only
 * async-signal-safe system calls, so it is safe in a process with threads.
 * @returns the child's pid.
 * @throws std::runtime_error (with the errno text) if the program cannot be started.
 */
int spawn_tied_to_parent(const char* path, char* const argv[], char* const envp[], const spawn_setup& setup);

/** @brief Runs a program to completion (at most `timeout`) and returns its exit status and output. */
std::pair<int, std::string> run_to_completion(child_process::options o, std::chrono::milliseconds timeout);

}  // namespace nhpush::testing
