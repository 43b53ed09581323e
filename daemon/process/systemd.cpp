#include "process/systemd.hpp"

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

#include <sys/socket.h>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nhpush::process::systemd {

void notify(std::string_view state) noexcept {
    const std::string text(state);
    (void)sd_notify(0, text.c_str());
}

std::optional<std::chrono::microseconds> watchdog_period() noexcept {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        return std::chrono::microseconds{usec};
    }
    return std::nullopt;
}

std::optional<int> activated_socket() {
    const int n = sd_listen_fds(1);
    if (n < 0) {
        throw std::runtime_error(fmt::format("socket activation: {}", std::strerror(-n)));
    }
    if (n == 0) {
        return std::nullopt;
    }
    if (n > 1) {
        throw std::runtime_error(
            fmt::format("socket activation passed {} sockets; nhpushd.socket must listen on one", n));
    }
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket(fd, AF_UNIX, SOCK_STREAM, 1) <= 0) {
        throw std::runtime_error(
            "socket activation passed a socket that is not a listening AF_UNIX stream socket");
    }
    return fd;
}

}  // namespace nhpush::process::systemd
