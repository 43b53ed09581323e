// nhpush send: hand a notification (or an NDJSON batch) to nhpushd over its socket.

#include "cli/commands.hpp"
#include "cli/daemon_answers.hpp"
#include "cli/daemon_client.hpp"
#include "cli/send_request.hpp"
#include "shared/json_output.hpp"

#include <fmt/ostream.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace nhpush::cli {
namespace {

constexpr const char* help_text =
    R"TXT(usage: nhpush [--socket PATH] send --hub NAME --format F --payload JSON|@FILE [options]
       nhpush [--socket PATH] send --ndjson FILE|-

Hands a notification to nhpushd, which queues it and sends it through the hub. Prints its id, or
with --wait its outcome. --ndjson sends a batch, one notification object a line (see
docs/submission-api.md), from FILE or stdin.

options:
  --hub NAME             a hub of nhpushd's configuration ([hubs.NAME])
  --format F             template, apple, fcmv1, gcm, windows, windowsphone, adm, baidu, browser, xiaomi
  --payload P            the body, sent byte for byte: JSON or XML text, or @FILE to read it from a file
  --tags EXPR            tag expression, e.g. 'sports && !news' (default: broadcast)
  --header K:V           platform header, repeatable (e.g. apns-priority:10, X-WNS-Type:wns/raw)
  --device-handle H      direct send to one device
  --schedule-at TIME     send later: RFC 3339, e.g. 2026-05-01T12:00:00Z (at most 7 days ahead)
  --test                 NH test send (with --wait, prints each registration's outcome)
  --id ID                your id for the notification (default: nhpushd makes one up)
  --wait                 wait for the hub's answer and print the outcome
  --json                 print nhpushd's JSON answer as it is
  --timeout S            seconds to wait for nhpushd (default 30; with --wait 1800)
  --socket PATH          nhpushd's socket (default $NHPUSH_SOCKET, else /run/nhpush/nhpushd.sock)
An --id that nhpushd already holds (queued, in flight or a recent result) is not queued again: nhpush
prints "already accepted" and that notification's state. Retrying with the same --id until exit 0
submits a notification exactly once.
exit codes: 0 queued or already accepted (with --wait: sent), 1 not sent (or queue full),
2 bad command line or input, 3 nhpushd unreachable
)TXT";

std::chrono::milliseconds parse_timeout(const std::string& text) {
    std::size_t used = 0;
    double seconds = -1;
    try {
        seconds = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || seconds < 0) {
        throw usage_error(fmt::format("--timeout '{}' is not a number of seconds", text));
    }
    return std::chrono::milliseconds{static_cast<std::int64_t>(seconds * 1000)};
}

int print(const described& d, std::ostream& out, std::ostream& err) {
    fmt::print(d.exit_code == exit_ok ? out : err, "{}", d.text);
    return d.exit_code;
}

}  // namespace

send_options read_send_options(args& a) {
    send_options o;
    o.wait = a.take_flag("wait");
    o.json = a.take_flag("json");
    o.timeout = o.wait ? std::chrono::milliseconds{1'800'000} : std::chrono::milliseconds{30'000};
    if (auto t = a.take("timeout")) {
        o.timeout = parse_timeout(*t);
    }
    if (auto batch = a.take("ndjson")) {
        o.ndjson = *batch;
        if (o.wait) {
            throw usage_error("--wait applies to single notifications, not to --ndjson batches");
        }
        return o;
    }
    const auto require = [&](std::string_view name) {
        auto v = a.take(name);
        if (!v) {
            throw usage_error(fmt::format("--{} is required (or --ndjson FILE)", name));
        }
        return *v;
    };
    o.hub = require("hub");
    o.format = require("format");
    o.payload = read_payload(require("payload"));
    o.tags = a.take("tags");
    o.device_handle = a.take("device-handle").value_or("");
    o.schedule_at = a.take("schedule-at").value_or("");
    o.id = a.take("id").value_or("");
    for (const auto& h : a.take_all("header")) {
        o.headers.push_back(parse_header(h));
    }
    o.test = a.take_flag("test");
    return o;
}

std::string notification_json(const send_options& o) {
    using shared::write_key;
    using shared::write_string;
    std::string out;
    shared::string_output stream{out};
    shared::json_writer w(stream);
    const auto field = [&](std::string_view key, std::string_view value) {
        if (!value.empty()) {
            write_key(w, key);
            write_string(w, value);
        }
    };
    w.StartObject();
    field("hub", o.hub);
    field("format", o.format);
    write_key(w, "payload");
    write_string(w, o.payload);
    if (o.tags) {
        write_key(w, "tags");
        write_string(w, *o.tags);
    }
    field("device_handle", o.device_handle);
    if (!o.headers.empty()) {
        write_key(w, "headers");
        w.StartObject();
        for (const auto& h : o.headers) {
            field(h.name, h.value);
        }
        w.EndObject();
    }
    field("schedule_at", o.schedule_at);
    if (o.test) {
        write_key(w, "test");
        w.Bool(true);
    }
    field("id", o.id);
    w.EndObject();
    return out;
}

int send_command(args& a, const std::string& socket, std::ostream& out, std::ostream& err) {
    if (a.take_flag("help")) {
        fmt::print(out, "{}", help_text);
        return exit_ok;
    }
    const auto o = read_send_options(a);
    a.expect_empty();
    daemon_request r{.socket = socket, .method = "POST", .timeout = o.timeout};
    if (o.ndjson.empty()) {
        r.target = o.wait ? "/v1/notifications?wait=true" : "/v1/notifications";
        r.content_type = "application/json";
        r.body = notification_json(o);
    } else {
        r.target = "/v1/notifications";
        r.content_type = "application/x-ndjson";
        r.body = read_batch(o.ndjson);
    }
    const auto answer = call_daemon(r);
    const auto d = answer.status == 409 && o.ndjson.empty() ? describe_duplicate(answer.body)
                   : answer.status >= 400                   ? describe_error(answer)
                   : !o.ndjson.empty()                      ? describe_batch(answer.body)
                   : o.wait                                 ? describe_result(answer.body)
                            : described{fmt::format("queued: {}\n", accepted_id(answer.body)), exit_ok};
    if (o.json) {
        fmt::print(out, "{}\n", answer.body);
        return d.exit_code;
    }
    return print(d, out, err);
}

}  // namespace nhpush::cli
