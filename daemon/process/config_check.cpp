#include "process/config_check.hpp"

#include "sources/redis_stream_source.hpp"

#include <nhpush/connection_string.hpp>
#include <nhpush/hub_settings.hpp>

#include <boost/asio/ssl/context.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

namespace nhpush::process {
namespace {

std::string id_list(const auto& ids) {
    return ids.empty() ? std::string("any") : fmt::format("{}", fmt::join(ids, ", "));
}

std::string source_of(const config::hub_config& h) {
    if (!h.connection_string_credential.empty()) {
        return fmt::format("systemd credential {}", h.connection_string_credential);
    }
    if (!h.connection_string_env.empty()) {
        return fmt::format("environment variable {}", h.connection_string_env);
    }
    return fmt::format("file {}", h.connection_string_file);
}

std::string daemon_summary(const config::daemon_config& d) {
    return fmt::format(
        "[daemon] socket {} (mode {:04o}), threads {}, drain_deadline {} s, log_level {}\n"
        "  clients: at most {}, idle timeout {} s, allowed uids {}, allowed gids {}\n"
        "  requests: bodies up to {} bytes, headers up to {} bytes; recent_results {}\n",
        d.socket,
        d.socket_mode,
        d.threads == 0 ? std::string("one per core") : std::to_string(d.threads),
        d.drain_deadline.count(),
        config::to_string(d.log_level),
        d.max_clients,
        d.client_idle_timeout.count(),
        id_list(d.allowed_uids),
        id_list(d.allowed_gids),
        d.max_body_bytes,
        d.max_header_bytes,
        d.recent_results);
}

/// One `key = value` line per setting of the library's table, as in effect (defaults included).
std::string effective_settings(const hub_client_config& c) {
    std::string out;
    for (const auto& setting : hub_settings()) {
        const auto unit = unit_name(setting.unit);
        out += fmt::format("  {} = {}{}{}\n",
                           setting.key,
                           format_setting_value(setting, setting.get(c)),
                           unit.empty() ? "" : "  # ",
                           unit);
    }
    return out;
}

std::string hub_summary(const std::string& name, const config::hub_config& h, const std::string& cs_text) {
    // Only the endpoint and the policy's name: the key stays out of every message.
    const auto cs = parse_connection_string(cs_text);
    return fmt::format("[hubs.{}] hub {} at {} (policy {}, connection string from the {})\n{}",
                       name,
                       h.hub,
                       cs.endpoint,
                       cs.key_name,
                       source_of(h),
                       effective_settings(h.client));
}

void check_ca_file(const std::string& name, const config::hub_config& h) {
    const auto& ca_file = h.client.ca_file;
    if (ca_file.empty()) {
        return;
    }
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx.load_verify_file(ca_file, ec);
    if (ec) {
        throw config::config_error(fmt::format(
            "hubs.{}.ca_file: {} cannot be loaded as PEM certificates: {}", name, ca_file, ec.message()));
    }
}

}  // namespace

std::string config_summary(const config::nhpushd_config& config, const hubs::connection_strings& strings) {
    std::string out = daemon_summary(config.daemon);
    for (const auto& [name, hub] : config.hubs) {
        out += hub_summary(name, hub, strings.at(name));
    }
    for (const auto& warning : config.warnings) {
        out += fmt::format("warning: {}\n", warning);
    }
    return out;
}

int check_config(const std::filesystem::path& file, std::ostream& out, std::ostream& err) {
    try {
        const auto config = config::load_config(file);
        const auto strings = hubs::resolve_connection_strings(config);
        for (const auto& [name, hub] : config.hubs) {
            check_ca_file(name, hub);
        }
        for (const auto& [name, source] : config.sources) {
            sources::resolve_password(name, source);  // read as the daemon would; never printed
        }
        fmt::print(out, "{}: the configuration is valid\n{}", file.string(), config_summary(config, strings));
        return 0;
    } catch (const config::config_error& e) {
        fmt::print(err, "nhpushd: {}\n", e.what());
        return 1;
    }
}

}  // namespace nhpush::process
