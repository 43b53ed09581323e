#pragma once
/** @file The systemd glue: readiness notifications, the watchdog and socket activation. All of it is a
 * no-op when nhpushd does not run under systemd. */

#include <chrono>
#include <optional>
#include <string_view>

namespace nhpush::process::systemd {

/** @brief Sends `state` (`READY=1`, `STOPPING=1`, `STATUS=…`, …) to $NOTIFY_SOCKET, if set. */
void notify(std::string_view state) noexcept;

/** @brief The watchdog period ($WATCHDOG_USEC for this process), or nullopt when there is none. */
std::optional<std::chrono::microseconds> watchdog_period() noexcept;

/**
 * @brief The listening socket systemd passed (socket activation, $LISTEN_FDS), or nullopt.
 * Unsets the variables so that children do not take it too.
 * @throws std::runtime_error when several sockets, or one that is not a listening AF_UNIX stream
 *         socket, were passed.
 */
std::optional<int> activated_socket();

}  // namespace nhpush::process::systemd
