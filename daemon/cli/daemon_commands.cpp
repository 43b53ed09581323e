// nhpush status, stats and health: ask nhpushd over its socket.

#include "cli/commands.hpp"
#include "cli/daemon_answers.hpp"
#include "cli/daemon_client.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <fmt/ostream.h>

#include <cctype>

namespace nhpush::cli {
namespace {

constexpr const char* status_help = R"TXT(usage: nhpush [--socket PATH] status ID [--json]

Prints what became of a notification nhpushd took: queued, sent (with the hub's notification and
tracking ids) or failed (with the reason and the hub's answer). nhpushd remembers the last
daemon.recent_results finished notifications.
exit codes: 0 queued or sent, 1 failed or unknown, 2 bad command line, 3 nhpushd unreachable
)TXT";

constexpr const char* stats_help = R"TXT(usage: nhpush [--socket PATH] stats [--json]

Prints nhpushd's counters per hub: submitted, sent, failed, refused because the queue was full,
queued now, retries and send latency. --json prints GET /v1/stats as it is.
exit codes: 0 ok, 2 bad command line, 3 nhpushd unreachable
)TXT";

constexpr const char* health_help = R"TXT(usage: nhpush [--socket PATH] health [--json]

Asks nhpushd whether it is ready (GET /healthz) and prints the reasons when it is not, e.g. a hub
whose sends all fail authentication.
exit codes: 0 healthy, 1 unhealthy, 2 bad command line, 3 nhpushd unreachable
)TXT";

}  // namespace

std::string path_segment(const std::string& id) {
    return boost::urls::encode(id, boost::urls::unreserved_chars);
}

int ask_daemon(args& a,
               const daemon_request& request,
               std::ostream& out,
               std::ostream& err,
               const std::function<described(const daemon_answer&)>& describe) {
    const bool json = a.take_flag("json");
    a.expect_empty();
    const auto answer = call_daemon(request);
    const described d = describe(answer);
    if (json) {
        fmt::print(out, "{}\n", answer.body);
    } else {
        fmt::print(d.exit_code == exit_ok ? out : err, "{}", d.text);
    }
    return d.exit_code;
}

int status_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", status_help);
        return exit_ok;
    }
    const auto id = a.take_positional();
    if (!id || id->empty()) {
        throw usage_error("status needs the notification's ID");
    }
    return ask_daemon(a,
                      {.socket = socket, .target = "/v1/notifications/" + path_segment(*id)},
                      out,
                      err,
                      [](const daemon_answer& answer) {
                          if (answer.status == 404) {
                              return described{
                                  "unknown: nhpushd has no notification with this id (or has forgotten it)\n",
                                  exit_failed};
                          }
                          return answer.status >= 400 ? describe_error(answer) : describe_result(answer.body);
                      });
}

int stats_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", stats_help);
        return exit_ok;
    }
    return ask_daemon(
        a, {.socket = socket, .target = "/v1/stats"}, out, err, [](const daemon_answer& answer) {
            return answer.status >= 400 ? describe_error(answer) : describe_stats(answer.body);
        });
}

int health_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", health_help);
        return exit_ok;
    }
    return ask_daemon(a, {.socket = socket, .target = "/healthz"}, out, err, [](const daemon_answer& answer) {
        return describe_health(answer);
    });
}

}  // namespace nhpush::cli
