#pragma once
/** @file nhpushd's configuration: the structs, their defaults, the TOML reader and the validator. */

#include <nhpush/logger.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::config {

/**
 * @brief Thrown at start-up or reload for a configuration a person must correct.
 *
 * The message names the bad key as written in the file (`hubs.main.connections must be between 1 and
 * 1024`) and never contains a connection string.
 */
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** @brief The name of a level as written in the config file ("error", "warning", "info", "debug"). */
std::string_view to_string(nhpush::log_level level) noexcept;

/** @brief The `[daemon]` table: the submission socket, its clients, threads and shutdown. */
struct daemon_config {
    /** @brief Path of the Unix socket the submission API listens on (ignored under socket activation). */
    std::string socket = "/run/nhpush/nhpushd.sock";
    /** @brief Permission bits of the socket file; written in TOML as an octal string, "0660". */
    mode_t socket_mode = 0660;
    /** @brief User ids whose processes may submit (checked with SO_PEERCRED); empty = any peer that
     *  can open the socket. */
    std::vector<uid_t> allowed_uids;
    /** @brief Group ids whose processes may submit; empty = any peer that can open the socket. A peer is
     *  let in when its uid is in allowed_uids or its gid in allowed_gids. */
    std::vector<gid_t> allowed_gids;
    /** @brief Worker threads, each with its own event loop; 0 = one per CPU core. */
    std::size_t threads = 0;
    /** @brief Seconds SIGTERM waits for queued and in-flight notifications before giving up on them;
     *  0 = stop at once. */
    std::chrono::seconds drain_deadline{30};
    /** @brief Lowest severity written to the log. */
    nhpush::log_level log_level = nhpush::log_level::info;
    /** @brief Finished notifications kept for `GET /v1/notifications/{id}` and for refusing their ids
     * (`409 duplicate_id`); 0 = keep none, and ids are not checked. */
    std::size_t recent_results = 10'000;
    /** @brief Largest request body in bytes (one notification or a whole NDJSON batch); 0 is not
     *  allowed. */
    std::size_t max_body_bytes = 4'194'304;
    /** @brief Largest request line plus headers in bytes; 0 is not allowed. */
    std::size_t max_header_bytes = 8'192;
    /** @brief Client connections open at once; further ones are closed at once. 0 is not allowed. */
    std::size_t max_clients = 1024;
    /** @brief Seconds a client connection may go without completing a request (idle between requests or
     *  sending one too slowly) before it is closed; 0 is not allowed. */
    std::chrono::seconds client_idle_timeout{60};

    bool operator==(const daemon_config&) const = default;
};

/** @brief One `[hubs.NAME]` table: where the hub is, how it is reached, and the limits of its sends. */
struct hub_config {
    /** @brief The hub's name in its namespace (the path segment of its URL); required. */
    std::string hub;

    /// @name Connection string source: exactly one of the three is given.
    /// @{
    /** @brief A file holding the connection string; it must not be readable by every user. */
    std::string connection_string_file;
    /** @brief The name of an environment variable holding the connection string. */
    std::string connection_string_env;
    /** @brief The name of a systemd credential (LoadCredential=NAME:…) read from $CREDENTIALS_DIRECTORY. */
    std::string connection_string_credential;
    /// @}

    /** @brief PEM file of CAs to trust instead of the system store (a private CA, nhpush-hubsim's
     *  certificate); empty = the system store. Verification is never turned off. */
    std::string ca_file;
    /** @brief Keep-alive TLS connections kept open to the hub (1–1024). */
    std::size_t connections = 8;
    /** @brief Notifications queued or in flight at most; beyond it submissions get 503 (1–10,000,000). */
    std::size_t queue_capacity = 100'000;
    /** @brief Notifications a second at most, fractions allowed; 0 = no limit. */
    double rate_limit = 0;
    /** @brief The `api-version` query parameter of every request. */
    std::string api_version = "2020-06";

    /// @name Time limits of each network step, in milliseconds; 0 is not allowed.
    /// @{
    /** @brief Resolving the hub's host name. */
    std::chrono::milliseconds resolve_timeout{5'000};
    /** @brief Establishing the TCP connection. */
    std::chrono::milliseconds connect_timeout{5'000};
    /** @brief The TLS handshake. */
    std::chrono::milliseconds handshake_timeout{5'000};
    /** @brief Writing one request. */
    std::chrono::milliseconds write_timeout{10'000};
    /** @brief From the end of the write to the whole response. */
    std::chrono::milliseconds read_timeout{30'000};
    /// @}

    /** @brief Seconds after which a connection is replaced so DNS changes are picked up; 0 = never. */
    std::chrono::seconds connection_max_age{300};

    /// @name Retry policy
    /// @{
    /** @brief Attempts in all, the first included; 1 = never retry. */
    int max_attempts = 4;
    /** @brief Milliseconds before the first retry, doubled for each further one (with jitter). */
    std::chrono::milliseconds backoff_base{500};
    /** @brief Milliseconds no retry delay exceeds, the hub's Retry-After included. */
    std::chrono::milliseconds backoff_cap{60'000};
    /** @brief Milliseconds the whole hub pauses after a throttling answer without Retry-After
     *  (at most backoff_cap); 0 = no pause. */
    std::chrono::milliseconds throttle_pause{10'000};
    /// @}

    /** @brief Seconds a notification may take from submission to being sent; then it fails with
     *  `deadline_expired`. 0 is not allowed. */
    std::chrono::seconds deadline{1800};
    /** @brief Seconds a SAS token is valid. */
    std::chrono::seconds sas_token_lifetime{300};
    /** @brief A token is renewed once fewer than this many seconds of its life are left; less than
     *  sas_token_lifetime. 0 = renew only once expired. */
    std::chrono::seconds sas_renew_margin{60};

    bool operator==(const hub_config&) const = default;
};

/** @brief The whole file: `[daemon]` and one `[hubs.NAME]` table per hub, keyed by NAME. */
struct nhpushd_config {
    daemon_config daemon;
    /** @brief Hubs by the name submissions use (`"hub": "NAME"`); at least one. */
    std::map<std::string, hub_config, std::less<>> hubs;

    bool operator==(const nhpushd_config&) const = default;
};

/**
 * @brief Checks every value and the combinations of values.
 * @throws config_error naming the first bad key, e.g. `hubs.main.connections must be between 1 and 1024`.
 */
void validate(const nhpushd_config& config);

/**
 * @brief Reads TOML text into the structs, then validates them.
 *
 * Keys left out keep their defaults; unknown keys and keys of the wrong type are errors.
 * `source_name` (usually the file name) prefixes syntax errors.
 * @throws config_error naming the bad key, or the line and column of a syntax error.
 */
nhpushd_config parse_config(std::string_view toml_text, std::string_view source_name = "config");

/**
 * @brief Reads the file and parses it as parse_config() does.
 * @throws config_error if the file cannot be read or is not a valid configuration.
 */
nhpushd_config load_config(const std::filesystem::path& file);

}  // namespace nhpush::config
