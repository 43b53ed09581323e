#include "config/connection_string_source.hpp"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using nhpush::config::config_error;
using nhpush::config::hub_config;
using nhpush::config::resolve_connection_string;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* secret_key = "Zm9vYmFyU2VjcmV0S2V5VmFsdWU9PQ==";
const std::string good_cs = std::string(
                                "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=rule;"
                                "SharedAccessKey=") +
                            secret_key;

/// A temporary directory, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        path_ = std::filesystem::temp_directory_path() /
                ("nhpush-cs-test-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

    std::string write(const std::string& name, const std::string& text, mode_t mode) const {
        const auto file = path_ / name;
        std::ofstream(file) << text;
        ::chmod(file.c_str(), mode);
        return file.string();
    }

private:
    std::filesystem::path path_;
};

/// An environment made of a map, for tests.
nhpush::config::environment env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        const auto found = vars.find(name);
        return found == vars.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
}

hub_config from_file(std::string path) {
    hub_config hub;
    hub.hub = "myhub";
    hub.connection_string_file = std::move(path);
    return hub;
}

std::string error_of(const hub_config& hub, const nhpush::config::environment& env = env_of({})) {
    try {
        resolve_connection_string("main", hub, env);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(connection_string_source, reads_a_private_file_and_trims_it) {
    temp_dir dir;
    const auto file = dir.write("cs", good_cs + "\n", 0600);
    EXPECT_EQ(resolve_connection_string("main", from_file(file), env_of({})), good_cs);
}

TEST(connection_string_source, group_readable_file_is_fine) {
    temp_dir dir;
    const auto file = dir.write("cs", good_cs, 0640);
    EXPECT_EQ(resolve_connection_string("main", from_file(file), env_of({})), good_cs);
}

TEST(connection_string_source, refuses_a_world_readable_file) {
    temp_dir dir;
    const auto file = dir.write("cs", good_cs, 0644);
    EXPECT_EQ(error_of(from_file(file)),
              "hubs.main.connection_string_file: " + file +
                  " is readable by every user (mode 0644); make it private, e.g. chmod o-r " + file);
}

TEST(connection_string_source, names_a_missing_file) {
    EXPECT_EQ(error_of(from_file("/nonexistent/cs")),
              "hubs.main.connection_string_file: cannot open /nonexistent/cs: No such file or directory");
}

TEST(connection_string_source, refuses_a_directory) {
    temp_dir dir;
    EXPECT_EQ(error_of(from_file(dir.path().string())),
              "hubs.main.connection_string_file: " + dir.path().string() + " is not a regular file");
}

TEST(connection_string_source, reads_an_environment_variable) {
    hub_config hub;
    hub.hub = "myhub";
    hub.connection_string_env = "MY_CS";
    EXPECT_EQ(resolve_connection_string("main", hub, env_of({{"MY_CS", good_cs}})), good_cs);
    EXPECT_EQ(error_of(hub),
              "hubs.main.connection_string_env: environment variable MY_CS is not set or empty");
    EXPECT_EQ(error_of(hub, env_of({{"MY_CS", "  "}})),
              "hubs.main.connection_string_env: environment variable MY_CS is not set or empty");
}

TEST(connection_string_source, reads_a_systemd_credential) {
    temp_dir dir;
    dir.write("connection-string", good_cs, 0400);
    hub_config hub;
    hub.hub = "myhub";
    hub.connection_string_credential = "connection-string";
    EXPECT_EQ(
        resolve_connection_string("main", hub, env_of({{"CREDENTIALS_DIRECTORY", dir.path().string()}})),
        good_cs);
    EXPECT_EQ(error_of(hub),
              "hubs.main.connection_string_credential: $CREDENTIALS_DIRECTORY is not set; run nhpushd under "
              "systemd with LoadCredential=connection-string:/path/to/file");
    EXPECT_THAT(
        error_of(hub, env_of({{"CREDENTIALS_DIRECTORY", "/nonexistent"}})),
        HasSubstr("hubs.main.connection_string_credential: cannot open /nonexistent/connection-string"));
}

// Whatever goes wrong, the message names the key and never holds the secret.
TEST(connection_string_source, messages_never_hold_the_connection_string) {
    temp_dir dir;
    const std::string malformed[] = {
        std::string("Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=rule;") + secret_key,
        std::string("Endpoint=sb://myns/;SharedAccessKey=") + secret_key,
        std::string("Endpoint=ftp://myns/;SharedAccessKeyName=rule;SharedAccessKey=") + secret_key,
        std::string("SharedAccessKeyName=rule;SharedAccessKey=") + secret_key,
    };
    for (const auto& text : malformed) {
        hub_config hub;
        hub.hub = "myhub";
        hub.connection_string_env = "CS";
        const auto from_env = error_of(hub, env_of({{"CS", text}}));
        EXPECT_THAT(from_env, HasSubstr("hubs.main.connection_string_env: connection string "));
        EXPECT_THAT(from_env, Not(HasSubstr(secret_key)));

        const auto file = dir.write("cs", text, 0600);
        const auto from_file_message = error_of(from_file(file));
        EXPECT_THAT(from_file_message, HasSubstr("hubs.main.connection_string_file: connection string "));
        EXPECT_THAT(from_file_message, Not(HasSubstr(secret_key)));
    }
    const auto world_readable = dir.write("open", good_cs, 0604);
    EXPECT_THAT(error_of(from_file(world_readable)), Not(HasSubstr(secret_key)));
    EXPECT_THAT(error_of(from_file(world_readable)), Not(HasSubstr("servicebus")));
}

TEST(connection_string_source, empty_file) {
    temp_dir dir;
    const auto file = dir.write("cs", "\n", 0600);
    EXPECT_EQ(error_of(from_file(file)), "hubs.main.connection_string_file: the connection string is empty");
}

TEST(connection_string_source, refuses_a_huge_file) {
    temp_dir dir;
    const auto file = dir.write("cs", std::string(10000, 'x'), 0600);
    EXPECT_EQ(error_of(from_file(file)),
              "hubs.main.connection_string_file: " + file +
                  " is larger than 4096 bytes; is it a connection string?");
}

}  // namespace
