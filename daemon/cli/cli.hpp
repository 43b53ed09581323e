#pragma once
// The nhpush command-line tool, as a function so tests can run it without a process.

#include <iosfwd>
#include <string>
#include <vector>

namespace nhpush::cli {

/// Exit codes of nhpush.
enum exit_code : int {
    exit_ok = 0,
    exit_failed = 1,       ///< the operation ran and failed (e.g. the hub rejected the notification)
    exit_usage = 2,        ///< the command line or an input was wrong
    exit_unreachable = 3,  ///< nhpushd could not be reached or did not answer
};

/// Runs `nhpush ARGS…` (without the program name); writes results to `out`, problems to `err`.
int run(std::vector<std::string> args, std::ostream& out, std::ostream& err);

}  // namespace nhpush::cli
