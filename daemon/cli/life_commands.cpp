// nhpush cancel, details and dead-letters: a notification's life after nhpushd took it.

#include "cli/commands.hpp"
#include "cli/daemon_answers.hpp"
#include "cli/daemon_client.hpp"

#include <fmt/ostream.h>

#include <cctype>

namespace nhpush::cli {
namespace {

constexpr const char* cancel_help = R"TXT(usage: nhpush [--socket PATH] cancel ID [--json]

Cancels a notification nhpushd took (DELETE /v1/notifications/ID): one still queued in nhpushd is
never sent; one sent with schedule_at is cancelled at the hub. One already on the wire, or sent and
not scheduled, cannot be recalled.
exit codes: 0 cancelled, 1 not cancelled (or unknown), 2 bad command line, 3 nhpushd unreachable
)TXT";

constexpr const char* details_help = R"TXT(usage: nhpush [--socket PATH] details ID [--json]

Asks the hub what became of a notification it accepted (GET /v1/notifications/ID/details): its
state, times and outcome counts per platform. The hub keeps these only on the Standard tier.
exit codes: 0 ok, 1 no details, 2 bad command line, 3 nhpushd unreachable
)TXT";

constexpr const char* dead_letters_help =
    R"TXT(usage: nhpush [--socket PATH] dead-letters list [--limit N] [--after ID] [--json]
       nhpush [--socket PATH] dead-letters requeue ID [--json]
       nhpush [--socket PATH] dead-letters purge [--json]

The notifications that failed for good (a hub's 4xx, retries exhausted, deadline expired), kept in
the spool directory's dead-letters.jsonl (needs [spool] dir in nhpushd's config).
  list      newest first, N at most (default 100, at most 1000); --after ID for the next page
  requeue   submits the stored notification again under its id, and removes it from the file
  purge     removes every dead letter
exit codes: 0 ok, 1 failed, 2 bad command line, 3 nhpushd unreachable
)TXT";

std::string required_id(args& a, std::string_view command) {
    const auto id = a.take_positional();
    if (!id || id->empty()) {
        throw usage_error(fmt::format("{} needs the notification's ID", command));
    }
    return *id;
}

}  // namespace

int cancel_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", cancel_help);
        return exit_ok;
    }
    const auto id = required_id(a, "cancel");
    return ask_daemon(
        a,
        {.socket = socket, .method = "DELETE", .target = "/v1/notifications/" + path_segment(id)},
        out,
        err,
        describe_cancel);
}

int details_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", details_help);
        return exit_ok;
    }
    const auto id = required_id(a, "details");
    return ask_daemon(a,
                      {.socket = socket, .target = "/v1/notifications/" + path_segment(id) + "/details"},
                      out,
                      err,
                      describe_details);
}

int dead_letters_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", dead_letters_help);
        return exit_ok;
    }
    const auto action = a.take_positional();
    if (!action) {
        throw usage_error("dead-letters needs list, requeue ID or purge");
    }
    if (*action == "list") {
        std::string target = "/v1/dead-letters";
        std::string sep = "?";
        if (const auto limit = a.take("limit")) {
            target += sep + "limit=" + path_segment(*limit);
            sep = "&";
        }
        if (const auto after = a.take("after")) {
            target += sep + "after=" + path_segment(*after);
        }
        return ask_daemon(a, {.socket = socket, .target = target}, out, err, describe_dead_letters);
    }
    if (*action == "requeue") {
        const auto id = required_id(a, "dead-letters requeue");
        return ask_daemon(
            a,
            {.socket = socket,
             .method = "POST",
             .target = "/v1/dead-letters/" + path_segment(id) + "/requeue"},
            out,
            err,
            [](const daemon_answer& answer) {
                if (answer.status == 202) {
                    return described{fmt::format("{}: queued again\n", accepted_id(answer.body)), exit_ok};
                }
                auto d = describe_error(answer);
                d.exit_code = exit_failed;
                return d;
            });
    }
    if (*action == "purge") {
        return ask_daemon(a,
                          {.socket = socket, .method = "DELETE", .target = "/v1/dead-letters"},
                          out,
                          err,
                          [](const daemon_answer& answer) {
                              if (answer.status == 200) {
                                  return described{"dead letters purged\n", exit_ok};
                              }
                              auto d = describe_error(answer);
                              d.exit_code = exit_failed;
                              return d;
                          });
    }
    throw usage_error(fmt::format("dead-letters takes list, requeue ID or purge, not '{}'", *action));
}

}  // namespace nhpush::cli
