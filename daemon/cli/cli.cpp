#include "cli/cli.hpp"

#include "cli/args.hpp"
#include "cli/commands.hpp"

#include <fmt/ostream.h>

#include <ostream>

namespace nhpush::cli {
namespace {

constexpr const char* usage_text = R"TXT(usage: nhpush [--help] [--version] COMMAND [OPTIONS]

Sends push notifications through Azure Notification Hubs.

commands:
  direct      send one notification straight to the hub and print the outcome
  sas-token   print a SharedAccessSignature for a connection string, to try a hub with curl

Run 'nhpush COMMAND --help' for a command's options.
)TXT";

}  // namespace

int run(std::vector<std::string> words, std::ostream& out, std::ostream& err) {
    args a(std::move(words));
    try {
        const auto command = a.take_positional();
        if (!command) {
            if (a.take_flag("version")) {
                fmt::print(out, "nhpush {}\n", NHPUSH_VERSION);
                return exit_ok;
            }
            const bool asked = a.take_flag("help");
            fmt::print(asked ? out : err, "{}", usage_text);
            return asked ? exit_ok : exit_usage;
        }
        if (*command == "direct") {
            return direct_command(a, out, err);
        }
        if (*command == "sas-token") {
            return sas_token_command(a, out);
        }
        throw usage_error(fmt::format("unknown command '{}'", *command));
    } catch (const usage_error& e) {
        fmt::print(err, "nhpush: {}\nRun 'nhpush --help' for usage.\n", e.what());
        return exit_usage;
    } catch (const std::invalid_argument& e) {
        fmt::print(err, "nhpush: {}\n", e.what());
        return exit_usage;
    }
}

}  // namespace nhpush::cli
