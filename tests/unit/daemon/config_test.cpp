#include "config/config.hpp"

#include <nhpush/hub_settings.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_names.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using nhpush::log_level;
using nhpush::config::config_error;
using nhpush::config::daemon_config;
using nhpush::config::hub_config;
using nhpush::config::nhpushd_config;
using nhpush::config::parse_config;
using testing::HasSubstr;

namespace {

constexpr const char* minimal_hub = R"(
[hubs.main]
hub = "myhub"
connection_string_env = "NH_CONNECTION_STRING"
)";

/// A setting's default as the docs' table shows it: quoted strings, bare numbers.
std::string default_text(const nhpush::hub_setting& s) {
    return nhpush::format_setting_value(s, s.default_value());
}

/// The message parse_config throws for `text`, or "" if it accepts it.
std::string error_of(const std::string& text) {
    try {
        parse_config(text, "test.toml");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(config, example_file_holds_every_default) {
    const auto config = nhpush::config::load_config(NHPUSH_CONFIG_DIR "/nhpushd.example.toml");
    EXPECT_EQ(config.daemon, daemon_config{});
    // The one key that differs: the installed config keeps a spool (the unit's StateDirectory).
    nhpush::spool::spool_config spool;
    spool.dir = "/var/lib/nhpush/spool";
    EXPECT_EQ(config.spool, spool);
    ASSERT_EQ(config.hubs.size(), 1u);
    hub_config expected;
    expected.hub = "myhub";
    expected.connection_string_credential = "connection-string";
    EXPECT_EQ(config.hubs.at("main"), expected);
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(config, example_file_and_docs_list_every_hub_setting) {
    const auto example = file_text(NHPUSH_CONFIG_DIR "/nhpushd.example.toml");
    const auto docs = file_text(NHPUSH_DOCS_DIR "/configuration.md");
    ASSERT_FALSE(example.empty());
    ASSERT_FALSE(docs.empty());
    for (const auto& s : nhpush::hub_settings()) {
        EXPECT_THAT(example, HasSubstr(fmt::format("\n{} = ", s.key)));
        EXPECT_THAT(docs, HasSubstr(fmt::format("\n| `{}` | `{}` |", s.key, default_text(s))));
    }
}

TEST(config, demo_file_is_valid_and_points_at_the_demo_files) {
    const auto config = nhpush::config::load_config(NHPUSH_CONFIG_DIR "/nhpushd.demo.toml");
    EXPECT_EQ(config.daemon.socket, "/tmp/nhpush-demo/nhpushd.sock");
    const auto& demo = config.hubs.at("demo");
    EXPECT_EQ(demo.hub, "demo");
    EXPECT_EQ(demo.connection_string_file, "/tmp/nhpush-demo/connection-string");
    EXPECT_EQ(demo.client.ca_file, "/tmp/nhpush-demo/hubsim-cert.pem");
    EXPECT_TRUE(config.warnings.empty());
}

TEST(config, missing_tables_and_keys_keep_their_defaults) {
    const auto config = parse_config(minimal_hub);
    EXPECT_EQ(config.daemon, daemon_config{});
    const auto& hub = config.hubs.at("main");
    EXPECT_TRUE(nhpush::same_hub_settings(hub.client, nhpush::hub_client_config{}));
    EXPECT_EQ(hub.client.protocol, nhpush::hub_protocol::automatic);
    EXPECT_EQ(hub.client.min_connections, 1u);
    EXPECT_EQ(hub.client.max_connections, 64u);
    EXPECT_EQ(hub.client.api_version, "2020-06");
    EXPECT_EQ(hub.client.notification_deadline, 30min);
    EXPECT_EQ(hub.client.sas.lifetime, 300s);
    EXPECT_TRUE(config.warnings.empty());
}

TEST(config, reads_every_kind_of_value) {
    const auto config = parse_config(std::string(R"(
[daemon]
socket = "/tmp/x.sock"
socket_mode = "0600"
allowed_uids = [0, 1000]
allowed_gids = [100]
threads = 3
drain_deadline = 12
log_level = "debug"
recent_results = 0
client_idle_timeout = 5
)") + minimal_hub + R"(
rate_limit = 2.5
connect_timeout = 250
max_attempts = 1
deadline = 60
protocol = "h2"
min_connections = 2
max_connections = 32
max_streams = 50
idle_timeout = 120
ping_interval = 0
)");
    const auto& d = config.daemon;
    EXPECT_EQ(d.socket, "/tmp/x.sock");
    EXPECT_EQ(d.socket_mode, 0600u);
    EXPECT_EQ(d.allowed_uids, (std::vector<uid_t>{0, 1000}));
    EXPECT_EQ(d.allowed_gids, (std::vector<gid_t>{100}));
    EXPECT_EQ(d.threads, 3u);
    EXPECT_EQ(d.drain_deadline, 12s);
    EXPECT_EQ(d.log_level, log_level::debug);
    EXPECT_EQ(d.recent_results, 0u);
    EXPECT_EQ(d.client_idle_timeout, 5s);
    const auto& h = config.hubs.at("main");
    EXPECT_EQ(h.client.rate_limit, 2.5);
    EXPECT_EQ(h.client.timeouts.connect, 250ms);
    EXPECT_EQ(h.client.retry.max_attempts, 1);
    EXPECT_EQ(h.client.notification_deadline, 60s);
    EXPECT_EQ(h.client.protocol, nhpush::hub_protocol::h2);
    EXPECT_EQ(h.client.min_connections, 2u);
    EXPECT_EQ(h.client.max_connections, 32u);
    EXPECT_EQ(h.client.max_streams, 50u);
    EXPECT_EQ(h.client.idle_timeout, 120s);
    EXPECT_EQ(h.client.ping_interval, 0s);
}

TEST(config, socket_mode_may_be_a_toml_octal_integer) {
    const auto config = parse_config(std::string("[daemon]\nsocket_mode = 0o640\n") + minimal_hub);
    EXPECT_EQ(config.daemon.socket_mode, 0640u);
}

TEST(config, rate_limit_may_be_an_integer) {
    const auto config = parse_config(std::string(minimal_hub) + "rate_limit = 100\n");
    EXPECT_EQ(config.hubs.at("main").client.rate_limit, 100.0);
}

TEST(config, several_hubs) {
    const auto config = parse_config(std::string(minimal_hub) + R"(
[hubs.other]
hub = "other-hub"
connection_string_file = "/etc/nhpush/other"
)");
    ASSERT_EQ(config.hubs.size(), 2u);
    EXPECT_EQ(config.hubs.at("other").connection_string_file, "/etc/nhpush/other");
}

TEST(config, protocol_names) {
    for (const auto& [name, protocol] : {std::pair{"auto", nhpush::hub_protocol::automatic},
                                         std::pair{"h2", nhpush::hub_protocol::h2},
                                         std::pair{"http1", nhpush::hub_protocol::http1}}) {
        const auto config = parse_config(std::string(minimal_hub) + "protocol = \"" + name + "\"\n");
        EXPECT_EQ(config.hubs.at("main").client.protocol, protocol) << name;
    }
}

TEST(config, deprecated_connections_is_read_as_max_connections_with_a_warning) {
    const auto config = parse_config(std::string(minimal_hub) + "connections = 8\n");
    EXPECT_EQ(config.hubs.at("main").client.max_connections, 8u);
    EXPECT_EQ(config.hubs.at("main").client.min_connections, 1u);
    ASSERT_EQ(config.warnings.size(), 1u);
    EXPECT_THAT(config.warnings[0],
                testing::StartsWith("hubs.main.connections is deprecated: read as max_connections = 8"));
}

struct bad_config {
    std::string text;  // appended to a valid config unless it starts with '!'
    std::string message;
};

void PrintTo(const bad_config& c, std::ostream* os) {
    *os << c.message;
}

class config_errors : public testing::TestWithParam<bad_config> {};

TEST_P(config_errors, name_the_bad_key) {
    const auto& c = GetParam();
    const auto text = c.text.starts_with('!') ? c.text.substr(1) : std::string(minimal_hub) + c.text;
    EXPECT_EQ(error_of(text), c.message) << text;
}

INSTANTIATE_TEST_SUITE_P(
    table,
    config_errors,
    testing::Values(
        // Unknown keys and tables: typos are caught.
        bad_config{"![daemon]\nsockett = \"/x\"\n", "unknown key daemon.sockett"},
        bad_config{"connection = 3\n", "unknown key hubs.main.connection"},
        bad_config{"!threads = 3\n", "unknown key threads"},
        bad_config{"[deamon]\n", "unknown key deamon"},
        // Wrong types.
        bad_config{"connections = \"8\"\n", "hubs.main.connections must be an integer, not a string"},
        bad_config{"max_connections = \"8\"\n", "hubs.main.max_connections must be an integer, not a string"},
        bad_config{"max_streams = 1.5\n",
                   "hubs.main.max_streams must be an integer, not a floating-point number"},
        bad_config{"idle_timeout = \"60s\"\n", "hubs.main.idle_timeout must be an integer, not a string"},
        bad_config{"protocol = 2\n", "hubs.main.protocol must be a string, not an integer"},
        bad_config{"protocol = \"h3\"\n", "hubs.main.protocol must be one of auto, h2, http1, not 'h3'"},
        bad_config{"protocol = \"HTTP1\"\n",
                   "hubs.main.protocol must be one of auto, h2, http1, not 'HTTP1'"},
        bad_config{"connect_timeout = 1.5\n",
                   "hubs.main.connect_timeout must be an integer, not a floating-point number"},
        bad_config{"rate_limit = \"fast\"\n", "hubs.main.rate_limit must be a number, not a string"},
        bad_config{"![hubs.main]\nhub = 3\n", "hubs.main.hub must be a string, not an integer"},
        bad_config{"![daemon]\nallowed_uids = 1000\n" + std::string(minimal_hub),
                   "daemon.allowed_uids must be an array of integers, not an integer"},
        bad_config{"![daemon]\nallowed_gids = [100, \"www\"]\n" + std::string(minimal_hub),
                   "daemon.allowed_gids[1] must be an integer, not a string"},
        bad_config{"![daemon]\nallowed_uids = [-1]\n" + std::string(minimal_hub),
                   "daemon.allowed_uids[0] must be between 0 and 4294967294"},
        bad_config{"!daemon = 3\n" + std::string(minimal_hub), "daemon must be a table, not an integer"},
        bad_config{"!hubs = 3\n", "hubs must be a table, not an integer"},
        bad_config{"![hubs]\nmain = 3\n", "hubs.main must be a table ([hubs.main]), not an integer"},
        bad_config{"![daemon]\nlog_level = \"verbose\"\n" + std::string(minimal_hub),
                   "daemon.log_level must be one of error, warning, info, debug, not 'verbose'"},
        bad_config{"![daemon]\nsocket_mode = 660\n" + std::string(minimal_hub),
                   "daemon.socket_mode must be an octal string such as \"0660\""},
        bad_config{"![daemon]\nsocket_mode = \"0968\"\n" + std::string(minimal_hub),
                   "daemon.socket_mode must be an octal string such as \"0660\""},
        bad_config{"connections = -1\n", "hubs.main.connections must not be negative"},
        bad_config{"min_connections = -1\n", "hubs.main.min_connections must not be negative"},
        bad_config{"max_connections = -1\n", "hubs.main.max_connections must not be negative"},
        bad_config{"max_streams = -1\n", "hubs.main.max_streams must not be negative"},
        // Ranges and combinations.
        bad_config{"connections = 0\n", "hubs.main.connections must be between 1 and 1024"},
        bad_config{"connections = 2000\n", "hubs.main.connections must be between 1 and 1024"},
        bad_config{"connections = 8\nmax_connections = 8\n",
                   "hubs.main.connections and hubs.main.max_connections are both given: keep "
                   "hubs.main.max_connections only (hubs.main.connections is deprecated)"},
        bad_config{"max_connections = 0\n", "hubs.main.max_connections must be between 1 and 1024"},
        bad_config{"max_connections = 1025\n", "hubs.main.max_connections must be between 1 and 1024"},
        bad_config{"min_connections = 2000\n", "hubs.main.min_connections must be between 0 and 1024"},
        bad_config{"min_connections = 9\nmax_connections = 8\n",
                   "hubs.main.min_connections must not be more than hubs.main.max_connections"},
        bad_config{"max_streams = 0\n", "hubs.main.max_streams must be between 1 and 1000"},
        bad_config{"max_streams = 1001\n", "hubs.main.max_streams must be between 1 and 1000"},
        bad_config{"idle_timeout = 0\n", "hubs.main.idle_timeout must be between 1 and 86400 seconds"},
        bad_config{"ping_interval = -1\n", "hubs.main.ping_interval must be between 0 and 3600 seconds"},
        bad_config{"ping_interval = 3601\n", "hubs.main.ping_interval must be between 0 and 3600 seconds"},
        bad_config{"reconnect_base = 200\nreconnect_cap = 100\n",
                   "hubs.main.reconnect_cap must not be less than hubs.main.reconnect_base"},
        bad_config{"max_response_bytes = 100\n",
                   "hubs.main.max_response_bytes must be between 1024 and 1073741824 bytes"},
        bad_config{"queue_capacity = 0\n", "hubs.main.queue_capacity must be between 1 and 10000000"},
        bad_config{"rate_limit = -1\n",
                   "hubs.main.rate_limit must be between 0 and 1000000 notifications a second"},
        bad_config{"connect_timeout = 5\n",
                   "hubs.main.connect_timeout must be between 10 and 600000 milliseconds"},
        bad_config{"read_timeout = 0\n", "hubs.main.read_timeout must be between 10 and 600000 milliseconds"},
        bad_config{"max_attempts = 0\n", "hubs.main.max_attempts must be between 1 and 100"},
        bad_config{"backoff_base = 2000\nbackoff_cap = 1000\n",
                   "hubs.main.backoff_cap must not be less than hubs.main.backoff_base"},
        bad_config{"throttle_pause = -1\n",
                   "hubs.main.throttle_pause must be between 0 and 3600000 milliseconds"},
        bad_config{"deadline = 0\n", "hubs.main.deadline must be between 1 and 604800 seconds"},
        bad_config{"sas_token_lifetime = 60\nsas_renew_margin = 60\n",
                   "hubs.main.sas_renew_margin must be less than hubs.main.sas_token_lifetime"},
        bad_config{"api_version = \"2020/06\"\n", "hubs.main.api_version must look like 2020-06"},
        bad_config{"connection_string_file = \"/etc/cs\"\n",
                   "hubs.main: give exactly one of connection_string_file, connection_string_env, "
                   "connection_string_credential"},
        bad_config{"![hubs.main]\nhub = \"h\"\n",
                   "hubs.main: give exactly one of connection_string_file, connection_string_env, "
                   "connection_string_credential"},
        bad_config{"![hubs.main]\nhub = \"h\"\nconnection_string_env = \"NH-CS\"\n",
                   "hubs.main.connection_string_env must be an environment variable name such as "
                   "NH_CONNECTION_STRING"},
        bad_config{"![hubs.main]\nhub = \"h\"\nconnection_string_credential = \"../cs\"\n",
                   "hubs.main.connection_string_credential must be a credential name (as in "
                   "LoadCredential=NAME:…), not a path"},
        bad_config{"![hubs.main]\nconnection_string_env = \"CS\"\n",
                   "hubs.main.hub is required (the hub's name in its namespace)"},
        bad_config{"![hubs.main]\nhub = \"my hub\"\nconnection_string_env = \"CS\"\n",
                   "hubs.main.hub must be a hub name: letters, digits, '-', '_', '.' and '/' (not first)"},
        bad_config{"![hubs.\"my hub\"]\nhub = \"h\"\nconnection_string_env = \"CS\"\n",
                   "hubs.my hub: a hub table's NAME has 1 to 64 letters, digits, '-' or '_' (submissions "
                   "name it in \"hub\")"},
        bad_config{"![daemon]\n", "no hubs: add a [hubs.NAME] table with hub and a connection string source"},
        bad_config{"![daemon]\nsocket = \"run/nhpushd.sock\"\n" + std::string(minimal_hub),
                   "daemon.socket must be an absolute path"},
        bad_config{"![daemon]\nsocket = \"/" + std::string(120, 's') + "\"\n" + std::string(minimal_hub),
                   "daemon.socket is 121 bytes long; a Unix socket path has at most 107"},
        bad_config{"![daemon]\nsocket_mode = \"1777\"\n" + std::string(minimal_hub),
                   "daemon.socket_mode must be between \"0000\" and \"0777\""},
        bad_config{"![daemon]\nthreads = 5000\n" + std::string(minimal_hub),
                   "daemon.threads must be between 0 and 1024"},
        bad_config{"![daemon]\nmax_body_bytes = 0\n" + std::string(minimal_hub),
                   "daemon.max_body_bytes must be between 1024 and 1073741824 bytes"},
        bad_config{"![daemon]\nmax_clients = 0\n" + std::string(minimal_hub),
                   "daemon.max_clients must be between 1 and 1000000"},
        bad_config{"![daemon]\nclient_idle_timeout = 0\n" + std::string(minimal_hub),
                   "daemon.client_idle_timeout must be between 1 and 86400 seconds"},
        bad_config{"![daemon]\ndrain_deadline = -1\n" + std::string(minimal_hub),
                   "daemon.drain_deadline must be between 0 and 3600 seconds"}),
    [](const auto& info) { return nhpush::test::case_name(info.index, info.param.message); });

TEST(config, syntax_errors_name_the_file_line_and_column) {
    const auto message = error_of("[daemon]\nthreads = = 3\n");
    EXPECT_THAT(message, testing::StartsWith("test.toml:2:"));
}

TEST(config, validate_checks_structs_built_in_code) {
    nhpushd_config config;
    config.hubs["main"].hub = "myhub";
    config.hubs["main"].connection_string_env = "CS";
    EXPECT_NO_THROW(nhpush::config::validate(config));
    config.hubs["main"].client.max_connections = 0;
    EXPECT_THROW(nhpush::config::validate(config), config_error);
}

TEST(config, load_config_names_a_missing_file) {
    try {
        nhpush::config::load_config("/nonexistent/nhpushd.toml");
        FAIL() << "no exception";
    } catch (const config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot read /nonexistent/nhpushd.toml"));
    }
}

TEST(config, log_level_names) {
    EXPECT_EQ(nhpush::config::to_string(log_level::warning), "warning");
}

}  // namespace

namespace {

TEST(config, spool_table_reads_its_keys_and_names_the_bad_ones) {
    const auto config = parse_config(std::string(minimal_hub) + R"(
[spool]
dir = "/var/lib/nhpush/spool"
fsync = "always"
fsync_interval_ms = 250
segment_bytes = 1048576
memory_window = 500
)");
    EXPECT_EQ(config.spool.dir, "/var/lib/nhpush/spool");
    EXPECT_EQ(config.spool.fsync, nhpush::spool::fsync_mode::always);
    EXPECT_EQ(config.spool.fsync_interval, std::chrono::milliseconds{250});
    EXPECT_EQ(config.spool.segment_bytes, 1048576u);
    EXPECT_EQ(config.spool.memory_window, 500u);
    EXPECT_TRUE(parse_config(minimal_hub).spool.dir.empty()) << "no spool unless asked for";

    const auto spool = [](std::string keys) {
        return error_of(std::string(minimal_hub) + "[spool]\n" + keys);
    };
    EXPECT_EQ(spool("fsync = \"sometimes\"\n"),
              "spool.fsync must be one of always, interval, never, not 'sometimes'");
    EXPECT_EQ(spool("dir = \"spool\"\n"), "spool.dir must be an absolute path (or empty: no spool)");
    EXPECT_EQ(spool("memory_window = 0\n"), "spool.memory_window must be between 1 and 10000000");
    EXPECT_EQ(spool("fsync_interval_ms = 0\n"),
              "spool.fsync_interval_ms must be between 1 and 60000 milliseconds");
    EXPECT_EQ(spool("directory = \"/x\"\n"), "unknown key spool.directory");
}

}  // namespace

// ---- [sources.NAME] over TLS (rediss://) ---------------------------------------------------------

namespace {

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

/// A self-signed certificate and its private key, PEM (the key encrypted when `passphrase` is set).
struct test_identity {
    std::string certificate;
    std::string private_key;
};

template <class Write>
std::string to_pem(Write write) {
    owned<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
        throw std::runtime_error("PEM encoding failed");
    }
    char* data = nullptr;
    const auto size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

test_identity make_identity(const std::string& passphrase = {}) {
    owned<EVP_PKEY, EVP_PKEY_free> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    owned<X509, X509_free> cert(X509_new());
    if (!key || !cert) {
        throw std::runtime_error("key or certificate generation failed");
    }
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()),
                               "CN",
                               MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("nhpush-test"),
                               -1,
                               -1,
                               0);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    X509_set_pubkey(cert.get(), key.get());
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        throw std::runtime_error("signing failed");
    }
    const auto* cipher = passphrase.empty() ? nullptr : EVP_aes_128_cbc();
    auto* pass = reinterpret_cast<unsigned char*>(const_cast<char*>(passphrase.data()));
    return {to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }), to_pem([&](BIO* b) {
                return PEM_write_bio_PrivateKey(
                    b, key.get(), cipher, pass, static_cast<int>(passphrase.size()), nullptr, nullptr);
            })};
}

/// Certificate and key files in a temporary directory, and the `[sources.orders]` tables that name them.
class source_tls_config : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::temp_directory_path() / ("nhpush-config-tls-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        const auto client = make_identity();
        write("ca.pem", make_identity().certificate, 0644);
        write("client.pem", client.certificate, 0644);
        write("client.key", client.private_key, 0600);
        write("other.key", make_identity().private_key, 0600);
        write("public.key", client.private_key, 0644);
        write("encrypted.key", make_identity("passphrase").private_key, 0600);
        write("not-pem.txt", "hello\n", 0644);
        write("certificate.key", client.certificate, 0600);
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    static std::string write(const std::string& name, const std::string& text, mode_t mode) {
        const auto path = file(name);
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
        return path;
    }
    static std::string file(const std::string& name) { return (dir_ / name).string(); }

    /// parse_config's message for a rediss:// source (or `url`) with `keys`; "" if accepted.
    static std::string source_error(const std::string& keys,
                                    const std::string& url = "rediss://127.0.0.1:6380/0") {
        return error_of(
            fmt::format("{}[sources.orders]\ntype = \"redis-stream\"\nurl = \"{}\"\nstream = \"s\"\n{}",
                        minimal_hub,
                        url,
                        keys));
    }
    static std::string files(const std::string& ca,
                             const std::string& cert = {},
                             const std::string& key = {}) {
        std::string out;
        for (const auto& [k, v] :
             {std::pair<const char*, std::string>{"ca_file", ca}, {"cert_file", cert}, {"key_file", key}}) {
            if (!v.empty()) {
                out += fmt::format("{} = \"{}\"\n", k, v.starts_with('/') ? v : file(v));
            }
        }
        return out;
    }

    static inline std::filesystem::path dir_;
};

TEST(config, rediss_urls_are_tls) {
    EXPECT_EQ(nhpush::config::parse_redis_url("rediss://redis.internal:6380/1"),
              (nhpush::config::redis_url{"redis.internal", 6380, 1, true}));
    EXPECT_EQ(nhpush::config::parse_redis_url("rediss://10.0.0.5"),
              (nhpush::config::redis_url{"10.0.0.5", 6379, 0, true}));
    EXPECT_FALSE(nhpush::config::parse_redis_url("rediss://:pw@10.0.0.5"))
        << "passwords come from password_*";
    EXPECT_FALSE(nhpush::config::parse_redis_url("redisss://10.0.0.5"));
    EXPECT_FALSE(nhpush::config::parse_redis_url("rediss://"));
}

TEST_F(source_tls_config, reads_its_keys_and_accepts_good_files) {
    EXPECT_EQ(source_error(""), "") << "no ca_file: the system store";
    EXPECT_EQ(source_error(files("ca.pem")), "");
    EXPECT_EQ(source_error(files("ca.pem", "client.pem", "client.key")), "");
    EXPECT_EQ(source_error(files("", "client.pem", "client.key")), "");
    const auto config = parse_config(fmt::format(
        "{}[sources.orders]\ntype = \"redis-stream\"\nurl = \"rediss://r:6380\"\nstream = \"s\"\n{}",
        minimal_hub,
        files("ca.pem", "client.pem", "client.key")));
    const auto& source = config.sources.at("orders");
    EXPECT_EQ(source.ca_file, file("ca.pem"));
    EXPECT_EQ(source.cert_file, file("client.pem"));
    EXPECT_EQ(source.key_file, file("client.key"));
}

TEST_F(source_tls_config, bad_values_name_their_key) {
    EXPECT_EQ(source_error(files("ca.pem"), "redis://127.0.0.1"),
              "sources.orders.ca_file is for TLS, but url is redis://; use rediss:// or remove ca_file");
    EXPECT_EQ(source_error(files("", "client.pem", "client.key"), "redis://127.0.0.1"),
              "sources.orders.cert_file is for TLS, but url is redis://; use rediss:// or remove cert_file");
    EXPECT_EQ(
        source_error(files("", "client.pem")),
        "sources.orders.key_file is required with cert_file (a client certificate and its key go together)");
    EXPECT_EQ(
        source_error(files("", "", "client.key")),
        "sources.orders.cert_file is required with key_file (a client certificate and its key go together)");
    EXPECT_EQ(source_error(files("/nonexistent/ca.pem")),
              "sources.orders.ca_file: cannot open /nonexistent/ca.pem: No such file or directory");
    EXPECT_EQ(source_error(files(dir_.string())),
              fmt::format("sources.orders.ca_file: {} is not a regular file", dir_.string()));
    EXPECT_THAT(
        source_error(files("not-pem.txt")),
        testing::StartsWith(fmt::format("sources.orders.ca_file: {} cannot be loaded as PEM certificates: ",
                                        file("not-pem.txt"))));
    EXPECT_THAT(
        source_error(files("ca.pem", "not-pem.txt", "client.key")),
        testing::StartsWith(fmt::format(
            "sources.orders.cert_file: {} cannot be loaded as a PEM certificate: ", file("not-pem.txt"))));
    EXPECT_EQ(source_error(files("ca.pem", "client.pem", "/nonexistent/client.key")),
              "sources.orders.key_file: cannot open /nonexistent/client.key: No such file or directory");
    EXPECT_EQ(
        source_error(files("ca.pem", "client.pem", "public.key")),
        fmt::format("sources.orders.key_file: {0} is readable by every user (mode 0644); make it private, "
                    "e.g. chmod o-r {0}",
                    file("public.key")));
    EXPECT_EQ(
        source_error(files("ca.pem", "client.pem", "other.key")),
        fmt::format("sources.orders.key_file: {} is not the private key of the certificate in cert_file {}",
                    file("other.key"),
                    file("client.pem")));
    EXPECT_EQ(
        source_error(files("ca.pem", "client.pem", "certificate.key")),
        fmt::format("sources.orders.key_file: {} cannot be loaded as an unencrypted PEM private key: no "
                    "key found",
                    file("certificate.key")));
    // An encrypted key is refused at once, never a passphrase prompt on the terminal.
    EXPECT_EQ(
        source_error(files("ca.pem", "client.pem", "encrypted.key")),
        fmt::format("sources.orders.key_file: {} cannot be loaded as an unencrypted PEM private key: bad "
                    "decrypt",
                    file("encrypted.key")));
}

}  // namespace
