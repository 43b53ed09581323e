#pragma once
/** @file Reading a hub's connection string from the source its config names. */

#include "config/config.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace nhpush::config {

/** @brief Looks up an environment variable: its value, or nullopt when it is not set. */
using environment = std::function<std::optional<std::string>(const std::string& name)>;

/** @brief The process's environment (std::getenv). */
std::optional<std::string> process_environment(const std::string& name);

/**
 * @brief Reads a small secret file (at most 4096 bytes) that must be a regular file not readable by
 * every user. @throws config_error starting with `key` (the config key the path came from).
 */
std::string read_private_file(const std::string& key, const std::string& path);

/**
 * @brief Reads the connection string of hub table `name` from its source and checks that it parses.
 *
 * - `connection_string_file`: a regular file that is not readable by every user (mode & 0004);
 * - `connection_string_env`: the variable `env` returns;
 * - `connection_string_credential`: the file of that name in `$CREDENTIALS_DIRECTORY` (as `env`
 *   returns it), where systemd's LoadCredential= puts it.
 *
 * Surrounding whitespace (a trailing newline) is removed. Call it at start-up and on reload.
 *
 * @returns the connection string. It is a secret: keep it out of logs and messages.
 * @throws config_error naming the key (`hubs.NAME.connection_string_file: …`); the message never
 *         contains the connection string or any part of its key.
 */
std::string resolve_connection_string(std::string_view name,
                                      const hub_config& hub,
                                      const environment& env = process_environment);

}  // namespace nhpush::config
