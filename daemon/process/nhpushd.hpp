#pragma once
/** @file nhpushd as a function: start, serve, reload on SIGHUP, drain and stop on SIGTERM. */

#include <iosfwd>
#include <string>
#include <vector>

namespace nhpush::process {

/**
 * @brief Runs `nhpushd ARGS…` (without the program name) and returns its exit status.
 *
 * `--check-config`, `--version` and `--help` print to `out`/`err` and return. Otherwise the daemon
 * runs until SIGTERM or SIGINT: it loads the configuration and the connection strings, builds the
 * hubs on a worker_pool, listens on the socket, tells systemd READY=1, and serves; SIGHUP reloads.
 * On stop it takes no new work, drains every hub within `drain_deadline`, logs what was not sent,
 * closes the client connections once they have their answers, and returns 0.
 * Start-up errors are logged and return 1; a bad command line returns 2.
 */
int nhpushd_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace nhpush::process
