#pragma once
/** @file `nhpushd --check-config`: validate a configuration and describe it without its secrets. */

#include "config/config.hpp"
#include "hubs/hub_registry.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>

namespace nhpush::process {

/**
 * @brief A summary of `config` for a person: the daemon's settings and, per hub, where it sends, with
 * which policy, from which source the connection string came and its limits. Never contains a
 * connection string or a key. Pure.
 */
std::string config_summary(const config::nhpushd_config& config, const hubs::connection_strings& strings);

/**
 * @brief Loads `file`, reads every connection string and checks each hub's ca_file loads, then prints
 * the summary to `out`. On a problem prints one line naming the key to `err`.
 * @returns 0 when the configuration is valid, 1 otherwise.
 */
int check_config(const std::filesystem::path& file, std::ostream& out, std::ostream& err);

}  // namespace nhpush::process
