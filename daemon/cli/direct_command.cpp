// nhpush direct: send straight to the hub, as the Python sample does, with the library's sender.

#include "cli/cli.hpp"
#include "cli/commands.hpp"

#include "submission/submission.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <fmt/ostream.h>
#include <boost/beast/http/write.hpp>

#include <boost/asio/use_future.hpp>

#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>

namespace nhpush::cli {
namespace {

constexpr const char* help_text =
    R"TXT(usage: nhpush direct CONNECTION --hub NAME --format F --payload JSON|@FILE [options]
       nhpush direct CONNECTION --hub NAME --ndjson FILE|- [--ca-file F] [--api-version V]

Sends one notification straight to the hub (no daemon) and prints the outcome; with --ndjson,
sends every line of FILE (or standard input) over 8 connections and prints each line's outcome.
The lines are the same notification objects `nhpush send --ndjson` takes (docs/submission-api.md);
their "hub" must be the --hub NAME.

CONNECTION: --connection-string CS | --connection-string-file F | $NH_CONNECTION_STRING
options:
  --hub NAME             the hub's name
  --format F             template, apple, fcmv1, gcm, windows, windowsphone, adm, baidu, browser, xiaomi
  --payload P            the body: JSON text, or @FILE to read it from a file
  --tags EXPR            tag expression (default: broadcast)
  --header K:V           platform header, repeatable (e.g. apns-priority:10, X-WNS-Type:wns/raw)
  --device-handle H      direct send to one device
  --test                 NH test send: prints each registration's outcome
  --ca-file F            trust the CAs in F instead of the system store
  --api-version V        default 2020-06
  --debug                print the request and response (the SAS signature is redacted)
exit codes: 0 sent, 1 not sent, 2 bad command line or input
)TXT";

notification read_notification(args& a) {
    notification n;
    const auto format = a.take("format");
    if (!format) {
        throw usage_error("--format is required");
    }
    const auto f = parse_format(*format);
    if (!f) {
        throw usage_error(fmt::format("unknown --format '{}'", *format));
    }
    n.format = *f;
    const auto payload = a.take("payload");
    if (!payload) {
        throw usage_error("--payload is required");
    }
    n.payload = read_payload(*payload);
    n.tags = a.take("tags").value_or("");
    n.device_handle = a.take("device-handle").value_or("");
    for (const auto& h : a.take_all("header")) {
        n.headers.push_back(parse_header(h));
    }
    n.test = a.take_flag("test");
    return n;
}

/// The sample's debug dump, with the token's signature replaced.
std::string redact(std::string text) {
    static const std::regex signature("sig=[^&\\s]*");
    return std::regex_replace(text, signature, "sig=<redacted>");
}

void print_result(std::ostream& out, const send_result& r, std::string_view prefix = {}) {
    fmt::print(out, "{}", prefix);
    if (!r.error) {
        fmt::print(out,
                   "sent: HTTP {}{}, notification id {}, tracking id {}, {} attempt(s)\n",
                   r.http_status,
                   r.unexpected_status ? " (expected 201)" : "",
                   r.notification_id.empty() ? "-" : r.notification_id,
                   r.tracking_id.empty() ? "-" : r.tracking_id,
                   r.attempts);
        if (r.test_outcome) {
            fmt::print(out,
                       "test send: {} succeeded, {} failed\n",
                       r.test_outcome->success,
                       r.test_outcome->failure);
            for (const auto& reg : r.test_outcome->results) {
                fmt::print(
                    out, "  {} {} {}: {}\n", reg.platform, reg.registration_id, reg.pns_handle, reg.outcome);
            }
        }
        return;
    }
    fmt::print(out, "not sent: {}", r.error.message());
    if (r.http_status != 0) {
        fmt::print(out, " (HTTP {}{}{})", r.http_status, r.error_code.empty() ? "" : ", code ", r.error_code);
    }
    if (!r.error_detail.empty()) {
        fmt::print(out, ": {}", r.error_detail);
    }
    fmt::print(out, "\n");
}

/// Sends every valid line at once over the pool's connections (the parser has prepared them);
/// prints each line's outcome.
int send_batch(notification_hub& hub, const std::string& hub_name, std::string body, std::ostream& out) {
    api::submission_parser parser({hub_name});
    auto batch = parser.parse_ndjson(body, std::chrono::system_clock::now());
    for (const auto& e : batch.rejected) {
        fmt::print(out, "line {}: invalid: {} ({})\n", e.line, e.error.message, api::to_string(e.error.code));
    }
    std::vector<std::future<send_result>> results;
    for (auto& line : batch.accepted) {
        results.push_back(hub.async_send_prepared(
            std::move(line.value.notification),
            boost::asio::use_future([](boost::system::error_code, send_result r) { return r; })));
    }
    std::size_t sent = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto r = results[i].get();
        sent += r.error ? 0 : 1;
        print_result(out, r, fmt::format("line {}: ", batch.accepted[i].line));
    }
    fmt::print(
        out, "{} sent, {} not sent, {} invalid\n", sent, batch.accepted.size() - sent, batch.rejected.size());
    return sent == batch.accepted.size() && batch.rejected.empty() ? exit_ok : exit_failed;
}

}  // namespace

std::string read_payload(const std::string& value) {
    if (!value.starts_with('@')) {
        return value;
    }
    std::ifstream in(value.substr(1), std::ios::binary);
    if (!in) {
        throw usage_error(fmt::format("cannot read payload file '{}'", value.substr(1)));
    }
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

header parse_header(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) {
        throw usage_error(fmt::format("--header '{}' must be NAME:VALUE", text));
    }
    auto value = text.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    return {text.substr(0, colon), value};
}

std::string read_batch(const std::string& source) {
    std::stringstream text;
    if (source == "-") {
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(source, std::ios::binary);
    if (!in) {
        throw usage_error(fmt::format("cannot read --ndjson file '{}'", source));
    }
    text << in.rdbuf();
    return text.str();
}

int direct_command(args& a, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", help_text);
        return exit_ok;
    }
    const auto cs = read_connection_string(a);
    const auto hub = a.take("hub");
    if (!hub) {
        throw usage_error("--hub is required");
    }
    hub_client_config config;
    config.max_connections = 1;
    config.ca_file = a.take("ca-file").value_or("");
    config.api_version = a.take("api-version").value_or(std::string(default_api_version));
    std::mutex print_mutex;
    if (a.take_flag("debug")) {
        config.on_exchange = [&](const hub_request& req, const hub_response_message& res) {
            std::ostringstream request_text, response_text;
            request_text << req;
            response_text << res;
            std::lock_guard lock(print_mutex);
            fmt::print(out, "--- REQUEST ---\n{}\n--- END REQUEST ---\n\n", redact(request_text.str()));
            fmt::print(out, "--- RESPONSE ---\n{}\n--- END RESPONSE ---\n\n", response_text.str());
        };
    }
    const auto ndjson = a.take("ndjson");
    if (ndjson) {
        a.expect_empty();
        config.max_connections = 8;
        auto body = read_batch(*ndjson);
        worker_pool pool(1);
        notification_hub client(pool, cs, *hub, config);
        return send_batch(client, *hub, std::move(body), out);
    }
    auto n = read_notification(a);
    a.expect_empty();
    if (const auto notice = deprecation_notice(n.format); !notice.empty()) {
        fmt::print(err, "nhpush: warning: {}\n", notice);
    }
    worker_pool pool(1);
    notification_hub client(pool, cs, *hub, config);
    const auto result = client.send(std::move(n));
    if (result.error == errc::invalid_notification) {
        fmt::print(err, "nhpush: invalid notification: {} ({})\n", result.error_detail, result.error_code);
        return exit_usage;
    }
    std::lock_guard lock(print_mutex);
    print_result(out, result);
    return result.error ? exit_failed : exit_ok;
}

}  // namespace nhpush::cli
