#include "cli/cli.hpp"
#include "cli/commands.hpp"

#include <nhpush/connection_string.hpp>
#include <nhpush/request.hpp>
#include <nhpush/sas_token.hpp>

#include <fmt/ostream.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace nhpush::cli {
namespace {

constexpr const char* help_text =
    R"TXT(usage: nhpush sas-token CONNECTION (--hub NAME | --resource URI) [--expiry UNIX_SECONDS]

Prints a SharedAccessSignature token, byte-identical to what the official SDKs make, e.g.
  curl -H "Authorization: $(nhpush sas-token --connection-string-file cs.txt --hub myhub)" ...

CONNECTION is one of:
  --connection-string CS        (visible to other local users in the process list)
  --connection-string-file F    a file holding the connection string
  $NH_CONNECTION_STRING         the environment variable
options:
  --hub NAME        sign for the hub's URI, https://NAMESPACE/NAME (as nhpush's sender does)
  --resource URI    sign for any resource URI (the JS SDK signs the namespace root)
  --expiry S        expiry in UNIX seconds (default: one hour from now)
)TXT";

std::int64_t parse_expiry(const std::string& text) {
    std::size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || v <= 0) {
        throw usage_error(fmt::format("--expiry '{}' is not a positive number of UNIX seconds", text));
    }
    return v;
}

}  // namespace

std::string read_connection_string(args& a) {
    if (auto cs = a.take("connection-string")) {
        return *cs;
    }
    if (auto file = a.take("connection-string-file")) {
        std::ifstream in(*file);
        if (!in) {
            throw usage_error(fmt::format("cannot read --connection-string-file '{}'", *file));
        }
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    if (const char* env = std::getenv("NH_CONNECTION_STRING"); env != nullptr && *env != '\0') {
        return env;
    }
    throw usage_error(
        "no connection string: give --connection-string, --connection-string-file or $NH_CONNECTION_STRING");
}

int sas_token_command(args& a, std::ostream& out) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", help_text);
        return exit_ok;
    }
    const auto cs = parse_connection_string(read_connection_string(a));
    const auto hub = a.take("hub");
    const auto resource = a.take("resource");
    const auto expiry_text = a.take("expiry");
    a.expect_empty();
    if (hub.has_value() == resource.has_value()) {
        throw usage_error("give exactly one of --hub NAME or --resource URI");
    }
    const auto uri = hub ? make_hub_endpoint(cs, *hub).resource_uri : *resource;
    const auto expiry =
        expiry_text ? parse_expiry(*expiry_text)
                    : std::chrono::duration_cast<std::chrono::seconds>(
                          (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
                          .count();
    fmt::print(out, "{}\n", make_sas_token(cs.key_name, cs.key, uri, expiry));
    return exit_ok;
}

}  // namespace nhpush::cli
