#pragma once
/** @file Running nhpush-hubsim: TLS listener, worker threads, sessions, signals (the I/O part). */

#include "hubsim/options.hpp"

#include <iosfwd>

namespace nhpush::hubsim {

/**
 * @brief Serves until SIGTERM or SIGINT, then returns 0.
 *
 * Loads or generates the certificate (writing `cert_out`), binds the listen address, prints
 * `listening on HOST:PORT` to `out` (flushed) once clients can connect, runs `threads` workers
 * (each its own io_context; connections are dealt out round-robin), and on the signal stops,
 * prints `summary: {stats JSON}` to `out` and returns.
 * @throws std::runtime_error (or boost::system::system_error) if start-up fails: a certificate that
 *         cannot be loaded, an address in use, a record file that cannot be opened.
 */
int run_server(const hubsim_config& config, std::ostream& out);

}  // namespace nhpush::hubsim
