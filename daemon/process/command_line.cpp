#include "process/command_line.hpp"

#include "cli/args.hpp"

namespace nhpush::process {

command_line parse_command_line(std::span<const std::string> words) {
    cli::args a({words.begin(), words.end()});
    command_line c;
    if (auto file = a.take("config")) {
        if (file->empty()) {
            throw cli::usage_error("--config needs a file name");
        }
        c.config_file = *file;
    }
    const bool check = a.take_flag("check-config");
    const bool version = a.take_flag("version");
    const bool help = a.take_flag("help");
    a.expect_empty();
    if (help) {
        c.what = command_line::action::help;
    } else if (version) {
        c.what = command_line::action::version;
    } else if (check) {
        c.what = command_line::action::check_config;
    }
    return c;
}

std::string_view help_text() noexcept {
    return R"TXT(usage: nhpushd [--config FILE] [--check-config | --version | --help]

The nhpush daemon: takes notifications over HTTP/1.1 on a Unix socket and sends them through Azure
Notification Hubs over kept-alive TLS connections, with queueing, retries and metrics.

options:
  --config FILE     the configuration (default /etc/nhpush/nhpushd.toml); see docs/configuration.md
  --check-config    check the configuration and the connection strings, print a summary without
                    secrets, and exit: 0 when valid, 1 naming the key to fix
  --version         print the version
  --help            show this text

signals: SIGTERM/SIGINT stop (draining queued notifications up to daemon.drain_deadline);
SIGHUP reloads the configuration and the connection strings. Logs go to stderr.
exit codes: 0 stopped cleanly, 1 configuration or start-up error, 2 bad command line
)TXT";
}

}  // namespace nhpush::process
