#pragma once
/** @file Keeping the SAS keys nhpushd holds in memory out of core files. */

#include <string>
#include <vector>

namespace nhpush::process {

/**
 * @brief Makes this process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`: no core file, no ptrace
 * attach or /proc/PID/mem by other unprivileged processes) and sets RLIMIT_CORE to 0.
 *
 * Call before any secret is read. Each step is tried on its own; the returned sentences say which
 * failed (empty: both held). setrlimit is skipped when the limit is 0 already (systemd's
 * `LimitCORE=0`).
 */
std::vector<std::string> forbid_core_dumps();

}  // namespace nhpush::process
