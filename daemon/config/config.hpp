#pragma once
/** @file nhpushd's configuration: the structs, their defaults, the TOML reader and the validator. */

#include <nhpush/logger.hpp>
#include <nhpush/notification_hub.hpp>

#include "spool/spool_config.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace nhpush::config {

/**
 * @brief Thrown at start-up or reload for a configuration a person must correct.
 *
 * The message names the bad key as written in the file (`hubs.main.max_connections must be between 1
 * and 1024`) and never contains a connection string.
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

    /** @brief Every other key of the table: the library's settings, read by key through
     *  nhpush::hub_settings(), with hub_client_config{}'s defaults. on_exchange stays unset. */
    hub_client_config client;

    /// Compares the client settings through the table (hub_client_config has no operator==).
    bool operator==(const hub_config& other) const;
};

/** @brief One `[sources.NAME]` table: a Redis Stream that nhpushd reads notifications from, in a
 *  consumer group shared with other nhpushd (docs/configuration.md, docs/scale-out.md). */
struct source_config {
    /** @brief The kind of source; only "redis-stream" for now. */
    std::string type;
    /** @brief `redis://HOST[:PORT][/DB]`, or `rediss://…` for TLS (port 6379 and DB 0 by default). */
    std::string url;
    /** @brief The stream key producers XADD to; required. */
    std::string stream;
    /** @brief The consumer group shared by the daemons. */
    std::string group = "nhpushd";
    /** @brief This daemon's consumer name in the group; empty = HOSTNAME-PID. */
    std::string consumer;
    /// @name Password source (AUTH): at most one of the three; none = no AUTH.
    /// @{
    std::string password_file;
    std::string password_env;
    std::string password_credential;
    /// @}
    /** @brief Where invalid entries and permanent failures are copied; empty = STREAM:dead. */
    std::string dead_stream;
    /** @brief Where every final result is XADDed, for producers that want outcomes; empty = none. */
    std::string results_stream;
    /** @brief Entries pending longer than this in another consumer are taken over (XAUTOCLAIM). */
    std::chrono::milliseconds claim_idle{60'000};
    /** @brief Most entries read by one XREADGROUP (fewer when the hub's queue has less room). */
    std::size_t read_batch = 256;
    /** @brief Longest wait for Redis's answer to a command (XREADGROUP's BLOCK is added to it), and
     *  for the connection (TCP, then TLS, AUTH and SELECT each). */
    std::chrono::milliseconds command_timeout{5'000};
    /// @name TLS, with rediss:// only. The server's certificate and name are always verified.
    /// @{
    /** @brief PEM CA certificates the server's certificate must chain to; empty = the system store. */
    std::string ca_file;
    /** @brief A PEM client certificate (chain) for servers that ask for one (`tls-auth-clients`);
     *  given with key_file, or neither. */
    std::string cert_file;
    /** @brief The unencrypted PEM private key of cert_file; it must not be readable by every user. */
    std::string key_file;
    /// @}

    bool operator==(const source_config&) const = default;
};

/** @brief The whole file: `[daemon]` and one `[hubs.NAME]` table per hub, keyed by NAME. */
struct nhpushd_config {
    daemon_config daemon;
    /** @brief `[spool]`: off unless `dir` is given. */
    spool::spool_config spool;
    /** @brief Hubs by the name submissions use (`"hub": "NAME"`); at least one. */
    std::map<std::string, hub_config, std::less<>> hubs;
    /** @brief Sources besides the socket, by NAME (`[sources.NAME]`); none by default. */
    std::map<std::string, source_config, std::less<>> sources;
    /** @brief What the file should change although it still works (deprecated keys), one message
     *  each; nhpushd logs them at start and reload, --check-config prints them. */
    std::vector<std::string> warnings;

    bool operator==(const nhpushd_config&) const = default;
};

/** @brief Where a `redis://HOST:PORT/DB` (or `rediss://…`) URL points. */
struct redis_url {
    std::string host;
    std::uint16_t port = 6379;
    unsigned db = 0;
    bool tls = false;  ///< rediss://

    bool operator==(const redis_url&) const = default;
};

/** @brief Reads `redis://HOST[:PORT][/DB]` or `rediss://HOST[:PORT][/DB]`; nullopt when it is not
 *  one (a password in it included). */
std::optional<redis_url> parse_redis_url(std::string_view url);

/**
 * @brief Loads the TLS files of `[sources.NAME]` into an OpenSSL client context: ca_file (or the
 * system store when it is empty), then cert_file and key_file when given, checking that the key is
 * the certificate's. Certificate verification itself is the caller's to turn on.
 *
 * validate() calls it on a scratch context, so that start-up and `--check-config` name a bad file;
 * the source calls it on the context it connects with. `ctx` is OpenSSL's `SSL_CTX*`.
 * @throws config_error naming the key and the file (`sources.orders.ca_file: …`).
 */
void load_source_tls_files(std::string_view name, const source_config& source, ssl_ctx_st* ctx);

/**
 * @brief Checks every value and the combinations of values, and that the TLS files of rediss://
 * sources load (load_source_tls_files()).
 * @throws config_error naming the first bad key, e.g. `hubs.main.max_connections must be between 1 and 1024`.
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
