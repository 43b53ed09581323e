#include "cli/cli.hpp"

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/daemon_client.hpp"

#include <fmt/ostream.h>

#include <ostream>

namespace nhpush::cli {
namespace {

constexpr const char* usage_text = R"TXT(usage: nhpush [--help] [--version] [--socket PATH] COMMAND [OPTIONS]

Sends push notifications through Azure Notification Hubs.

commands that talk to nhpushd (over --socket PATH, $NHPUSH_SOCKET or /run/nhpush/nhpushd.sock):
  send        hand a notification (or an NDJSON batch) to nhpushd; --wait for its outcome
  status      what became of a notification, by id
  stats       nhpushd's counters per hub
  health      whether nhpushd is ready, and why not
  cancel      cancel a notification still queued, or scheduled at the hub
  details     the hub's outcome details of a notification it accepted
  dead-letters  list, requeue or purge the notifications that failed for good
commands that work without the daemon:
  direct      send one notification straight to the hub and print the outcome
  sas-token   print a SharedAccessSignature for a connection string, to try a hub with curl

exit codes: 0 ok, 1 not sent or unhealthy, 2 bad command line or input, 3 nhpushd unreachable

Run 'nhpush COMMAND --help' for a command's options.
)TXT";

}  // namespace

int run(std::vector<std::string> words, std::ostream& out, std::ostream& err) {
    args a(std::move(words));
    try {
        // Before the command: `--socket PATH` would otherwise be taken for one.
        const auto socket = a.take("socket").value_or(default_socket_path());
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
        if (*command == "send") {
            return send_command(a, socket, out, err);
        }
        if (*command == "status") {
            return status_command(a, socket, out, err);
        }
        if (*command == "stats") {
            return stats_command(a, socket, out, err);
        }
        if (*command == "health") {
            return health_command(a, socket, out, err);
        }
        if (*command == "cancel") {
            return cancel_command(a, socket, out, err);
        }
        if (*command == "details") {
            return details_command(a, socket, out, err);
        }
        if (*command == "dead-letters") {
            return dead_letters_command(a, socket, out, err);
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
    } catch (const daemon_unreachable& e) {
        fmt::print(err, "nhpush: {}\n", e.what());
        return exit_unreachable;
    } catch (const std::invalid_argument& e) {
        fmt::print(err, "nhpush: {}\n", e.what());
        return exit_usage;
    }
}

}  // namespace nhpush::cli
