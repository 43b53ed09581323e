#pragma once
// One function per nhpush command. Each takes the remaining arguments and returns an exit code.

#include "cli/args.hpp"
#include "cli/daemon_answers.hpp"
#include "cli/daemon_client.hpp"

#include <nhpush/notification.hpp>

#include <functional>
#include <iosfwd>
#include <string>

namespace nhpush::cli {

/// Reads the connection string from --connection-string, --connection-string-file or
/// $NH_CONNECTION_STRING, in that order. @throws usage_error if none is given.
std::string read_connection_string(args& a);

/// `--payload` text: as given, or the contents of FILE for `@FILE`. @throws usage_error
std::string read_payload(const std::string& value);

/// The `--ndjson` batch: the contents of FILE, or of standard input for `-`. @throws usage_error
std::string read_batch(const std::string& source);

/// `--header NAME:VALUE` (spaces after the colon dropped). @throws usage_error
header parse_header(const std::string& text);

/// An id percent-encoded for a request path (Boost.URL: everything but RFC 3986's unreserved).
std::string path_segment(const std::string& id);

/// Common to the commands that ask nhpushd one thing: sends `request`; with --json prints the answer
/// as it came, otherwise what `describe` makes of it; returns describe's exit code.
int ask_daemon(args& a,
               const daemon_request& request,
               std::ostream& out,
               std::ostream& err,
               const std::function<described(const daemon_answer&)>& describe);

int sas_token_command(args& a, std::ostream& out);
int direct_command(args& a, std::ostream& out, std::ostream& err);

/// The commands that talk to nhpushd over its socket (`socket` from --socket or the default).
int send_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int status_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int stats_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int health_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int cancel_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int details_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);
int dead_letters_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err);

}  // namespace nhpush::cli
