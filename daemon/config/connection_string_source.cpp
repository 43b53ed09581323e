#include "config/connection_string_source.hpp"

#include <nhpush/connection_string.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace nhpush::config {
namespace {

// More than any real connection string; stops a mistaken path (a log file, /dev/zero) early.
constexpr std::size_t max_connection_string_bytes = 4096;

std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

/// Closes a file descriptor when it goes out of scope.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

std::string read_private_file(const std::string& key, const std::string& path) {
    const fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (file.fd < 0) {
        throw config_error(fmt::format("{}: cannot open {}: {}", key, path, std::strerror(errno)));
    }
    // fstat on the open file, so the check and the read see the same file.
    struct stat info {};
    if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        throw config_error(fmt::format("{}: {} is not a regular file", key, path));
    }
    if ((info.st_mode & S_IROTH) != 0) {
        throw config_error(
            fmt::format("{}: {} is readable by every user (mode {:04o}); "
                        "make it private, e.g. chmod o-r {}",
                        key,
                        path,
                        info.st_mode & 07777,
                        path));
    }
    std::string text(max_connection_string_bytes + 1, '\0');
    std::size_t size = 0;
    while (size < text.size()) {
        const auto n = ::read(file.fd, text.data() + size, text.size() - size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw config_error(fmt::format("{}: cannot read {}: {}", key, path, std::strerror(errno)));
        }
        if (n == 0) {
            break;
        }
        size += static_cast<std::size_t>(n);
    }
    if (size > max_connection_string_bytes) {
        throw config_error(fmt::format("{}: {} is larger than {} bytes; is it a connection string?",
                                       key,
                                       path,
                                       max_connection_string_bytes));
    }
    text.resize(size);
    return text;
}

namespace {

std::string read_source(std::string_view name,
                        const hub_config& hub,
                        const environment& env,
                        std::string& key) {
    const auto path = fmt::format("hubs.{}", name);
    if (!hub.connection_string_file.empty()) {
        key = path + ".connection_string_file";
        return read_private_file(key, hub.connection_string_file);
    }
    if (!hub.connection_string_env.empty()) {
        key = path + ".connection_string_env";
        auto value = env(hub.connection_string_env);
        if (!value || trim(*value).empty()) {
            throw config_error(fmt::format(
                "{}: environment variable {} is not set or empty", key, hub.connection_string_env));
        }
        return std::move(*value);
    }
    if (!hub.connection_string_credential.empty()) {
        key = path + ".connection_string_credential";
        const auto directory = env("CREDENTIALS_DIRECTORY");
        if (!directory || directory->empty()) {
            throw config_error(
                fmt::format("{}: $CREDENTIALS_DIRECTORY is not set; run nhpushd under systemd with "
                            "LoadCredential={}:/path/to/file",
                            key,
                            hub.connection_string_credential));
        }
        return read_private_file(key, fmt::format("{}/{}", *directory, hub.connection_string_credential));
    }
    throw config_error(fmt::format(
        "{}: give exactly one of connection_string_file, connection_string_env, connection_string_credential",
        path));
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

std::string resolve_connection_string(std::string_view name, const hub_config& hub, const environment& env) {
    std::string key;
    const auto text = read_source(name, hub, env, key);
    const auto connection_string = trim(text);
    if (connection_string.empty()) {
        throw config_error(fmt::format("{}: the connection string is empty", key));
    }
    try {
        (void)parse_connection_string(connection_string);
    } catch (const std::invalid_argument& e) {
        // parse_connection_string's messages never hold the key; they may name the endpoint.
        throw config_error(fmt::format("{}: {}", key, e.what()));
    }
    return std::string(connection_string);
}

}  // namespace nhpush::config
