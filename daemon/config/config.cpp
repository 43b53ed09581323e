#include "config/config.hpp"

#include <nhpush/hub_settings.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <toml++/toml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

namespace nhpush::config {
namespace {

constexpr std::string_view level_names[] = {"error", "warning", "info", "debug"};
constexpr log_level levels[] = {log_level::error, log_level::warning, log_level::info, log_level::debug};

static_assert(std::is_same_v<uid_t, unsigned> && std::is_same_v<gid_t, unsigned>, "ids are read as unsigned");
constexpr std::int64_t max_id = std::numeric_limits<std::uint32_t>::max() - 1;  // (uid_t)-1 means "none"

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date or time";
        default:
            return "nothing";
    }
}

/// Reads the keys of one TOML table into struct members and remembers which keys it took, so that
/// the ones left over (typos) can be reported.
class table_reader {
public:
    table_reader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

    void read(std::string_view key, std::string& out) {
        if (const auto* node = take(key)) {
            out = expect<std::string>(key, *node, "a string");
        }
    }

    void read(std::string_view key, std::size_t& out) {
        if (const auto* node = take(key)) {
            out = static_cast<std::size_t>(non_negative(key, expect<std::int64_t>(key, *node, "an integer")));
        }
    }

    template <class Rep, class Period>
    void read(std::string_view key, std::chrono::duration<Rep, Period>& out) {
        if (const auto* node = take(key)) {
            out = std::chrono::duration<Rep, Period>{expect<std::int64_t>(key, *node, "an integer")};
        }
    }

    void read(std::string_view key, log_level& out) {
        if (const auto* node = take(key)) {
            const auto text = expect<std::string>(key, *node, "a string");
            const auto* found = std::find(std::begin(level_names), std::end(level_names), text);
            if (found == std::end(level_names)) {
                throw config_error(fmt::format(
                    "{} must be one of {}, not '{}'", name_of(key), fmt::join(level_names, ", "), text));
            }
            out = levels[found - std::begin(level_names)];
        }
    }

    /// A setting of the library's table, checked for its type here and for its limits by the library.
    void read(const hub_setting& setting, hub_client_config& out) {
        if (const auto* node = take(setting.key)) {
            setting.set(out, value_of(setting, *node));
        }
    }

    bool has(std::string_view key) const { return table_.contains(key); }

    /// A list of user or group ids.
    void read(std::string_view key, std::vector<unsigned>& out) {
        const auto* node = take(key);
        if (node == nullptr) {
            return;
        }
        const auto* array = node->as_array();
        if (array == nullptr) {
            throw wrong_type(name_of(key), "an array of integers", *node);
        }
        out.clear();
        for (std::size_t i = 0; i < array->size(); ++i) {
            const auto element = fmt::format("{}[{}]", name_of(key), i);
            const auto* id = (*array)[i].as_integer();
            if (id == nullptr) {
                throw wrong_type(element, "an integer", (*array)[i]);
            }
            if (id->get() < 0 || id->get() > max_id) {
                throw config_error(fmt::format("{} must be between 0 and {}", element, max_id));
            }
            out.push_back(static_cast<unsigned>(id->get()));
        }
    }

    /// File permission bits, as an octal string ("0660") or a TOML octal integer (0o660).
    void read_mode(std::string_view key, mode_t& out) {
        const auto* node = take(key);
        if (node == nullptr) {
            return;
        }
        const auto* integer = node->as_integer();
        if (integer != nullptr &&
            (integer->flags() & toml::value_flags::format_as_octal) != toml::value_flags{}) {
            out = static_cast<mode_t>(std::clamp<std::int64_t>(integer->get(), 0, 07777));
            return;
        }
        const auto* text = node->as_string();
        const auto digits = text == nullptr ? std::string_view{} : std::string_view(text->get());
        if (digits.size() < 3 || digits.size() > 4 ||
            digits.find_first_not_of("01234567") != std::string_view::npos) {
            throw config_error(fmt::format("{} must be an octal string such as \"0660\"", name_of(key)));
        }
        out = static_cast<mode_t>(std::stoul(std::string(digits), nullptr, 8));
    }

    /// The sub-table `key`, or nullptr when absent.
    const toml::table* table(std::string_view key) {
        const auto* node = take(key);
        if (node == nullptr) {
            return nullptr;
        }
        if (!node->is_table()) {
            throw wrong_type(name_of(key), "a table", *node);
        }
        return node->as_table();
    }

    /// Throws for the first key nobody read: most often a typo.
    void reject_unknown_keys() const {
        for (const auto& [key, node] : table_) {
            if (std::find(taken_.begin(), taken_.end(), key.str()) == taken_.end()) {
                throw config_error(fmt::format("unknown key {}", name_of(key.str())));
            }
        }
    }

    std::string name_of(std::string_view key) const {
        return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
    }

private:
    setting_value value_of(const hub_setting& setting, const toml::node& node) const {
        const auto key = setting.key;
        switch (setting.unit) {
            case setting_unit::text:
                return expect<std::string>(key, node, "a string");
            case setting_unit::per_second:
                return node.is_integer() ? static_cast<double>(node.as_integer()->get())
                                         : expect<double>(key, node, "a number");
            case setting_unit::choice:
                return choice_of(setting, expect<std::string>(key, node, "a string"));
            case setting_unit::count:
            case setting_unit::bytes:
                return non_negative(key, expect<std::int64_t>(key, node, "an integer"));
            case setting_unit::milliseconds:
            case setting_unit::seconds:
                break;  // negative durations are reported with their limits
        }
        return expect<std::int64_t>(key, node, "an integer");
    }

    std::int64_t choice_of(const hub_setting& setting, const std::string& name) const {
        const auto found = std::find(setting.choices.begin(), setting.choices.end(), name);
        if (found == setting.choices.end()) {
            throw config_error(fmt::format("{} must be one of {}, not '{}'",
                                           name_of(setting.key),
                                           fmt::join(setting.choices, ", "),
                                           name));
        }
        return found - setting.choices.begin();
    }

    std::int64_t non_negative(std::string_view key, std::int64_t value) const {
        if (value < 0) {
            throw config_error(fmt::format("{} must not be negative", name_of(key)));
        }
        return value;
    }

    const toml::node* take(std::string_view key) {
        taken_.push_back(key);
        return table_.get(key);
    }

    template <class T>
    T expect(std::string_view key, const toml::node& node, std::string_view expected) const {
        const auto* value = node.as<T>();
        if (value == nullptr) {
            throw wrong_type(name_of(key), expected, node);
        }
        return value->get();
    }

    static config_error wrong_type(std::string_view name, std::string_view expected, const toml::node& node) {
        return config_error(fmt::format("{} must be {}, not {}", name, expected, type_name(node.type())));
    }

    const toml::table& table_;
    std::string path_;
    std::vector<std::string_view> taken_;
};

daemon_config read_daemon(const toml::table& table) {
    daemon_config d;
    table_reader r(table, "daemon");
    r.read("socket", d.socket);
    r.read_mode("socket_mode", d.socket_mode);
    r.read("allowed_uids", d.allowed_uids);
    r.read("allowed_gids", d.allowed_gids);
    r.read("threads", d.threads);
    r.read("drain_deadline", d.drain_deadline);
    r.read("log_level", d.log_level);
    r.read("recent_results", d.recent_results);
    r.read("max_body_bytes", d.max_body_bytes);
    r.read("max_header_bytes", d.max_header_bytes);
    r.read("max_clients", d.max_clients);
    r.read("client_idle_timeout", d.client_idle_timeout);
    r.reject_unknown_keys();
    return d;
}

spool::spool_config read_spool(const toml::table& table) {
    spool::spool_config s;
    table_reader r(table, "spool");
    r.read("dir", s.dir);
    std::string fsync = "interval";
    r.read("fsync", fsync);
    if (fsync == "always") {
        s.fsync = spool::fsync_mode::always;
    } else if (fsync == "interval") {
        s.fsync = spool::fsync_mode::interval;
    } else if (fsync == "never") {
        s.fsync = spool::fsync_mode::never;
    } else {
        throw config_error(
            fmt::format("spool.fsync must be one of always, interval, never, not '{}'", fsync));
    }
    r.read("fsync_interval_ms", s.fsync_interval);
    r.read("segment_bytes", s.segment_bytes);
    r.read("memory_window", s.memory_window);
    r.read("dead_letter_max_bytes", s.dead_letter_max_bytes);
    r.reject_unknown_keys();
    return s;
}

/// `connections`, the fixed pool size of old files, is read as max_connections with a warning.
void read_deprecated_connections(table_reader& r, hub_config& h, std::vector<std::string>& warnings) {
    if (!r.has("connections")) {
        return;
    }
    const auto old_key = r.name_of("connections");
    const auto new_key = r.name_of("max_connections");
    if (r.has("max_connections")) {
        throw config_error(fmt::format(
            "{} and {} are both given: keep {} only ({} is deprecated)", old_key, new_key, new_key, old_key));
    }
    std::size_t connections = 0;
    r.read("connections", connections);
    const auto& limits = *find_hub_setting("max_connections");
    if (connections < static_cast<std::size_t>(limits.min) ||
        connections > static_cast<std::size_t>(limits.max)) {
        throw config_error(fmt::format("{} must be between {} and {}", old_key, limits.min, limits.max));
    }
    h.client.max_connections = connections;
    warnings.push_back(fmt::format(
        "{} is deprecated: read as max_connections = {}; rename it to max_connections (connections now "
        "open as the work needs them, up to max_connections)",
        old_key,
        connections));
}

hub_config read_hub(const toml::table& table, const std::string& path, std::vector<std::string>& warnings) {
    hub_config h;
    table_reader r(table, path);
    r.read("hub", h.hub);
    r.read("connection_string_file", h.connection_string_file);
    r.read("connection_string_env", h.connection_string_env);
    r.read("connection_string_credential", h.connection_string_credential);
    for (const auto& setting : hub_settings()) {
        r.read(setting, h.client);
    }
    read_deprecated_connections(r, h, warnings);
    r.reject_unknown_keys();
    return h;
}

source_config read_source(const toml::table& table, const std::string& path) {
    source_config s;
    table_reader r(table, path);
    r.read("type", s.type);
    r.read("url", s.url);
    r.read("stream", s.stream);
    r.read("group", s.group);
    r.read("consumer", s.consumer);
    r.read("password_file", s.password_file);
    r.read("password_env", s.password_env);
    r.read("password_credential", s.password_credential);
    r.read("dead_stream", s.dead_stream);
    r.read("results_stream", s.results_stream);
    r.read("claim_idle", s.claim_idle);
    r.read("read_batch", s.read_batch);
    r.read("command_timeout", s.command_timeout);
    r.read("ca_file", s.ca_file);
    r.read("cert_file", s.cert_file);
    r.read("key_file", s.key_file);
    r.reject_unknown_keys();
    return s;
}

nhpushd_config read_config(const toml::table& root) {
    nhpushd_config config;
    table_reader r(root, "");
    if (const auto* daemon = r.table("daemon")) {
        config.daemon = read_daemon(*daemon);
    }
    if (const auto* spool = r.table("spool")) {
        config.spool = read_spool(*spool);
    }
    if (const auto* hubs = r.table("hubs")) {
        for (const auto& [name, node] : *hubs) {
            const auto path = fmt::format("hubs.{}", name.str());
            if (!node.is_table()) {
                throw config_error(
                    fmt::format("{} must be a table ([{}]), not {}", path, path, type_name(node.type())));
            }
            config.hubs.emplace(std::string(name.str()), read_hub(*node.as_table(), path, config.warnings));
        }
    }
    if (const auto* sources = r.table("sources")) {
        for (const auto& [name, node] : *sources) {
            const auto path = fmt::format("sources.{}", name.str());
            if (!node.is_table()) {
                throw config_error(
                    fmt::format("{} must be a table ([{}]), not {}", path, path, type_name(node.type())));
            }
            config.sources.emplace(std::string(name.str()), read_source(*node.as_table(), path));
        }
    }
    r.reject_unknown_keys();
    return config;
}

// ---- validation -------------------------------------------------------------------------------------

template <class T>
void check_range(const std::string& key, T value, T min, T max, std::string_view unit = "") {
    if (value < min || value > max) {
        throw config_error(fmt::format("{} must be between {} and {}{}", key, min, max, unit));
    }
}

template <class Rep, class Period>
void check_range(const std::string& key,
                 std::chrono::duration<Rep, Period> value,
                 std::int64_t min,
                 std::int64_t max) {
    constexpr bool in_ms = std::is_same_v<Period, std::milli>;
    check_range<std::int64_t>(key, value.count(), min, max, in_ms ? " milliseconds" : " seconds");
}

bool is_hub_key_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool is_hub_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
}

bool is_env_name(std::string_view name) {
    return !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
           });
}

void validate_daemon(const daemon_config& d) {
    constexpr std::size_t max_socket_path = 107;  // sun_path holds 108 bytes with the NUL
    if (d.socket.empty() || d.socket.front() != '/') {
        throw config_error("daemon.socket must be an absolute path");
    }
    if (d.socket.size() > max_socket_path) {
        throw config_error(fmt::format("daemon.socket is {} bytes long; a Unix socket path has at most {}",
                                       d.socket.size(),
                                       max_socket_path));
    }
    if (d.socket_mode > 0777) {
        throw config_error("daemon.socket_mode must be between \"0000\" and \"0777\"");
    }
    check_range<std::size_t>("daemon.threads", d.threads, 0, 1024);
    check_range("daemon.drain_deadline", d.drain_deadline, 0, 3600);
    check_range<std::size_t>("daemon.recent_results", d.recent_results, 0, 10'000'000);
    check_range<std::size_t>("daemon.max_body_bytes", d.max_body_bytes, 1024, 1 << 30, " bytes");
    check_range<std::size_t>("daemon.max_header_bytes", d.max_header_bytes, 1024, 1 << 20, " bytes");
    check_range<std::size_t>("daemon.max_clients", d.max_clients, 1, 1'000'000);
    check_range("daemon.client_idle_timeout", d.client_idle_timeout, 1, 86'400);
}

void validate_spool(const spool::spool_config& s) {
    if (!s.dir.empty() && s.dir.front() != '/') {
        throw config_error("spool.dir must be an absolute path (or empty: no spool)");
    }
    check_range("spool.fsync_interval_ms", s.fsync_interval, 1, 60'000);
    check_range<std::size_t>("spool.segment_bytes", s.segment_bytes, 1 << 16, std::size_t{1} << 32, " bytes");
    check_range<std::size_t>("spool.memory_window", s.memory_window, 1, 10'000'000);
    check_range<std::size_t>(
        "spool.dead_letter_max_bytes", s.dead_letter_max_bytes, 1 << 16, std::size_t{1} << 40, " bytes");
}

void validate_connection_string_source(const std::string& path, const hub_config& h) {
    const int given = !h.connection_string_file.empty() + !h.connection_string_env.empty() +
                      !h.connection_string_credential.empty();
    if (given != 1) {
        throw config_error(
            fmt::format("{}: give exactly one of connection_string_file, connection_string_env, "
                        "connection_string_credential",
                        path));
    }
    if (!h.connection_string_env.empty() && !is_env_name(h.connection_string_env)) {
        throw config_error(fmt::format(
            "{}.connection_string_env must be an environment variable name such as NH_CONNECTION_STRING",
            path));
    }
    const auto& credential = h.connection_string_credential;
    if (!credential.empty() &&
        (credential.find('/') != std::string::npos || credential == "." || credential == "..")) {
        throw config_error(
            fmt::format("{}.connection_string_credential must be a credential name (as in "
                        "LoadCredential=NAME:…), not a path",
                        path));
    }
}

void validate_hub(const std::string& name, const hub_config& h) {
    const auto path = fmt::format("hubs.{}", name);
    const auto key = [&](std::string_view k) { return fmt::format("{}.{}", path, k); };
    if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), is_hub_key_char)) {
        throw config_error(fmt::format(
            "{}: a hub table's NAME has 1 to 64 letters, digits, '-' or '_' (submissions name it in \"hub\")",
            path));
    }
    if (h.hub.empty()) {
        throw config_error(fmt::format("{} is required (the hub's name in its namespace)", key("hub")));
    }
    if (h.hub.size() > 260 || h.hub.front() == '/' ||
        !std::all_of(h.hub.begin(), h.hub.end(), is_hub_name_char)) {
        throw config_error(fmt::format(
            "{} must be a hub name: letters, digits, '-', '_', '.' and '/' (not first)", key("hub")));
    }
    validate_connection_string_source(path, h);
    if (auto problem = validate_hub_client_config(h.client, path + ".")) {
        throw config_error(*problem);
    }
}

/// The OpenSSL error that came first (the cause; later ones say where it surfaced), and an empty queue.
std::string openssl_reason() {
    const auto code = ERR_get_error();
    ERR_clear_error();
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    return reason != nullptr ? reason : "unknown OpenSSL error";
}

/// Opens `path` as the daemon will, so that the message names the key; `secret`: not readable by
/// every user, as password and connection string files.
void check_readable_file(const std::string& key, const std::string& path, bool secret) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        throw config_error(fmt::format("{}: cannot open {}: {}", key, path, std::strerror(errno)));
    }
    struct stat info {};
    const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
    ::close(fd);
    if (!regular) {
        throw config_error(fmt::format("{}: {} is not a regular file", key, path));
    }
    if (secret && (info.st_mode & S_IROTH) != 0) {
        throw config_error(
            fmt::format("{}: {} is readable by every user (mode {:04o}); make it private, e.g. chmod o-r {}",
                        key,
                        path,
                        info.st_mode & 07777,
                        path));
    }
}

/// An encrypted key would make OpenSSL ask for its passphrase on the terminal: refuse it instead.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*writing*/, void* /*user*/) {
    return 0;
}

void validate_source_tls(const std::string& name, const source_config& s, bool tls) {
    const auto key = [&](std::string_view k) { return fmt::format("sources.{}.{}", name, k); };
    if (!tls) {
        for (const auto& [k, v] : {std::pair<std::string_view, const std::string&>{"ca_file", s.ca_file},
                                   {"cert_file", s.cert_file},
                                   {"key_file", s.key_file}}) {
            if (!v.empty()) {
                throw config_error(
                    fmt::format("{} is for TLS, but url is redis://; use rediss:// or remove {}", key(k), k));
            }
        }
        return;
    }
    if (s.cert_file.empty() != s.key_file.empty()) {
        throw config_error(
            fmt::format("{} is required with {} (a client certificate and its key go together)",
                        key(s.cert_file.empty() ? "cert_file" : "key_file"),
                        s.cert_file.empty() ? "key_file" : "cert_file"));
    }
    const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> scratch(SSL_CTX_new(TLS_client_method()),
                                                                    &SSL_CTX_free);
    if (!scratch) {
        throw std::bad_alloc();
    }
    load_source_tls_files(name, s, scratch.get());
}

void validate_source(const std::string& name, const source_config& s) {
    const auto path = fmt::format("sources.{}", name);
    const auto key = [&](std::string_view k) { return fmt::format("{}.{}", path, k); };
    if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), is_hub_key_char)) {
        throw config_error(
            fmt::format("{}: a source table's NAME has 1 to 64 letters, digits, '-' or '_'", path));
    }
    if (s.type != "redis-stream") {
        throw config_error(fmt::format("{} must be \"redis-stream\"", key("type")));
    }
    const auto url = parse_redis_url(s.url);
    if (!url) {
        throw config_error(fmt::format(
            "{} must be redis://HOST:PORT/DB or rediss://HOST:PORT/DB for TLS (PORT and /DB optional)",
            key("url")));
    }
    for (const auto& [k, v] :
         {std::pair<std::string_view, const std::string&>{"stream", s.stream}, {"group", s.group}}) {
        if (v.empty() || v.size() > 512) {
            throw config_error(fmt::format("{} is required (1 to 512 bytes)", key(k)));
        }
    }
    if (s.consumer.size() > 512) {
        throw config_error(fmt::format("{} must have at most 512 bytes", key("consumer")));
    }
    const int given = !s.password_file.empty() + !s.password_env.empty() + !s.password_credential.empty();
    if (given > 1) {
        throw config_error(
            fmt::format("{}: give at most one of password_file, password_env, password_credential", path));
    }
    if (!s.password_env.empty() && !is_env_name(s.password_env)) {
        throw config_error(fmt::format("{} must be an environment variable name such as REDIS_PASSWORD",
                                       key("password_env")));
    }
    if (s.password_credential.find('/') != std::string::npos) {
        throw config_error(
            fmt::format("{} must be a credential name (as in LoadCredential=NAME:…), not a path",
                        key("password_credential")));
    }
    check_range("sources." + name + ".claim_idle", s.claim_idle, 100, 86'400'000);
    check_range<std::size_t>(key("read_batch"), s.read_batch, 1, 100'000);
    check_range(key("command_timeout"), s.command_timeout, 10, 600'000);
    validate_source_tls(name, s, url->tls);
}

}  // namespace

std::optional<redis_url> parse_redis_url(std::string_view url) {
    redis_url out;
    std::string_view rest;
    if (url.starts_with("redis://")) {
        rest = url.substr(8);
    } else if (url.starts_with("rediss://")) {
        rest = url.substr(9);
        out.tls = true;
    } else {
        return std::nullopt;
    }
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
        const auto db = rest.substr(slash + 1);
        if (!db.empty()) {
            const auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), out.db);
            if (ec != std::errc{} || end != db.data() + db.size() || out.db > 1'000'000) {
                return std::nullopt;
            }
        }
        rest = rest.substr(0, slash);
    }
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
        const auto port = rest.substr(colon + 1);
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
        if (ec != std::errc{} || end != port.data() + port.size() || out.port == 0) {
            return std::nullopt;
        }
        rest = rest.substr(0, colon);
    }
    if (rest.empty() || rest.find_first_of("@[]/ ") != std::string_view::npos) {
        return std::nullopt;  // no user:password@ in the URL: the password comes from password_*
    }
    out.host = std::string(rest);
    return out;
}

void load_source_tls_files(std::string_view name, const source_config& source, SSL_CTX* ctx) {
    const auto key = [&](std::string_view k) { return fmt::format("sources.{}.{}", name, k); };
    ERR_clear_error();
    if (source.ca_file.empty()) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            throw config_error(fmt::format(
                "{}: the system's CA store cannot be loaded: {}", key("ca_file"), openssl_reason()));
        }
    } else {
        check_readable_file(key("ca_file"), source.ca_file, false);
        if (SSL_CTX_load_verify_locations(ctx, source.ca_file.c_str(), nullptr) != 1) {
            throw config_error(fmt::format("{}: {} cannot be loaded as PEM certificates: {}",
                                           key("ca_file"),
                                           source.ca_file,
                                           openssl_reason()));
        }
    }
    if (source.cert_file.empty()) {
        return;
    }
    check_readable_file(key("cert_file"), source.cert_file, false);
    if (SSL_CTX_use_certificate_chain_file(ctx, source.cert_file.c_str()) != 1) {
        throw config_error(fmt::format("{}: {} cannot be loaded as a PEM certificate: {}",
                                       key("cert_file"),
                                       source.cert_file,
                                       openssl_reason()));
    }
    check_readable_file(key("key_file"), source.key_file, true);
    const std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(source.key_file.c_str(), "r"),
                                                         &BIO_free);
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> private_key(
        file ? PEM_read_bio_PrivateKey(file.get(), nullptr, &no_passphrase, nullptr) : nullptr,
        &EVP_PKEY_free);
    if (!private_key) {
        // OpenSSL 3 says "unsupported" for a file without a key in it.
        const auto why = ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_OSSL_DECODER ? std::string("no key found")
                                                                               : openssl_reason();
        ERR_clear_error();
        throw config_error(fmt::format("{}: {} cannot be loaded as an unencrypted PEM private key: {}",
                                       key("key_file"),
                                       source.key_file,
                                       why));
    }
    if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), private_key.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, private_key.get()) != 1) {
        ERR_clear_error();
        throw config_error(fmt::format("{}: {} is not the private key of the certificate in cert_file {}",
                                       key("key_file"),
                                       source.key_file,
                                       source.cert_file));
    }
}

bool hub_config::operator==(const hub_config& other) const {
    return hub == other.hub && connection_string_file == other.connection_string_file &&
           connection_string_env == other.connection_string_env &&
           connection_string_credential == other.connection_string_credential &&
           same_hub_settings(client, other.client);
}

std::string_view to_string(log_level level) noexcept {
    const auto* found = std::find(std::begin(levels), std::end(levels), level);
    return found == std::end(levels) ? "unknown" : level_names[found - std::begin(levels)];
}

void validate(const nhpushd_config& config) {
    validate_daemon(config.daemon);
    validate_spool(config.spool);
    if (config.hubs.empty()) {
        throw config_error("no hubs: add a [hubs.NAME] table with hub and a connection string source");
    }
    for (const auto& [name, hub] : config.hubs) {
        validate_hub(name, hub);
    }
    for (const auto& [name, source] : config.sources) {
        validate_source(name, source);
    }
}

nhpushd_config parse_config(std::string_view toml_text, std::string_view source_name) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source_name);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw config_error(
            fmt::format("{}:{}:{}: {}", source_name, where.line, where.column, e.description()));
    }
    auto config = read_config(root);
    validate(config);
    return config;
}

nhpushd_config load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw config_error(fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), file.string());
}

}  // namespace nhpush::config
