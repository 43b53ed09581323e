// The nhpush-hubsim command line.

#include "hubsim/options.hpp"

#include <nhpush/connection_string.hpp>

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace nhpush::hubsim {
namespace {

constexpr std::string_view help =
    R"(nhpush-hubsim: a local Azure Notification Hubs send endpoint with fault injection

Usage:
  nhpush-hubsim --listen 127.0.0.1:PORT [--cert FILE --key FILE | --cert-out FILE]
                (--connection-string CS | --key-name NAME --key KEY)... [options]

Serves the Notification Hubs send REST API over HTTPS (TLS 1.2 and 1.3; HTTP/2 by ALPN, HTTP/1.1
keep-alive) on a loopback address, checks SAS tokens and requests as the service does, and answers
like it. Prints "listening on HOST:PORT" on stdout once ready; on SIGTERM or SIGINT prints
"summary: {stats JSON}" and exits 0.

Listening and TLS:
  --listen HOST:PORT        loopback address to serve (127.0.0.1, another 127.x.y.z, [::1] or
                            localhost); PORT 0 picks a free port. Required.
  --cert FILE               PEM certificate (chain) to serve; needs --key FILE (or --tls-key FILE)
  --key FILE                PEM private key of --cert (when not directly after --key-name)
  --tls-key FILE            the same as --key FILE, unambiguously
  --cert-out FILE           without --cert: write the certificate generated at start (self-signed,
                            ECDSA P-256, SAN IP:127.0.0.1 and DNS:localhost) to FILE as PEM, for
                            clients to trust (ca_file, NODE_EXTRA_CA_CERTS, curl --cacert)
  --protocols LIST          protocols served, comma-separated: h2, http1 (default h2,http1). h2 is
                            chosen by ALPN when the client offers it; clients offering no ALPN
                            get HTTP/1.1 (and are refused without http1)
  --threads N               worker threads (default: one per core)
  --idle-timeout SECONDS    close a kept-alive connection idle this long (default 240)

Credentials (at least one; repeat to accept several policies):
  --connection-string CS    Endpoint=sb://…/;SharedAccessKeyName=NAME;SharedAccessKey=KEY
  --key-name NAME --key KEY a policy name and key; the --key (or --sas-key) must come right after
  --sas-key KEY             the same as --key KEY after --key-name, unambiguously

Hubs:
  --hub NAME                a hub that exists (repeatable); requests to other hubs get 404.
                            Without --hub every hub name exists.

Faults (also changeable while running: POST/PATCH /$admin/faults, GET /$admin/faults):
  --fail-429 FRACTION       answer this fraction of requests 429 Too Many Requests
  --retry-after-429 SEC     Retry-After of those 429s (default 1; 0 omits the header)
  --fail-403 FRACTION       answer this fraction 403 Forbidden + Retry-After (legacy throttling)
  --retry-after-403 SEC     Retry-After of those 403s (default 1; 0 omits the header)
  --fail-500 FRACTION       answer this fraction 500 Internal Server Error
  --fail-503 FRACTION       answer this fraction 503 Service Unavailable
  --retry-after-503 SEC     Retry-After of those 503s (default 0: no header)
  --latency MS              add MS milliseconds before every answer
  --latency-jitter MS       vary each delay by a uniform random -MS..+MS milliseconds (never below
                            0): every answer waits latency +- jitter
  --close-after N           close each connection (without a TLS close) after its Nth answer
  --drop FRACTION           cut this fraction of answers off mid-response and close the connection
  --rate-limit R            admit at most R requests per second (all connections together); answer
                            the rest 429 with Retry-After
  --retry-after-rate-limit SEC  Retry-After of rate-limit 429s (default 1)
  --rst-stream FRACTION     answer this fraction of requests with RST_STREAM (HTTP/1.1: close the
                            connection unanswered)
  --rst-stream-code CODE    refused (REFUSED_STREAM, before processing; the default) or internal
                            (INTERNAL_ERROR, after processing)
  --seed N                  seed of the fault decisions (default: random)

HTTP/2 (fixed at start):
  --max-streams N           SETTINGS_MAX_CONCURRENT_STREAMS (default 100, 1..1000000)
  --goaway-after N          after N streams on a connection send GOAWAY naming the Nth as the
                            last, answer those, then close (default 0: never)
  --h2-misbehave MODE       play a broken peer: no-settings (never send SETTINGS, never answer),
                            huge-headers (answers carry a header block over 64 KiB), zero-window
                            (initial stream window 0, never a WINDOW_UPDATE, so requests with a
                            body are never answered), reset-mid-stream (response HEADERS, then
                            RST_STREAM INTERNAL_ERROR before the body)

Reporting:
  --record FILE             append one JSON line per accepted notification to FILE (truncated at
                            start): time, hub, operation, format, tags or handle(s), payload SHA-256,
                            the X-Nhpush-Id header as client_id, notification id
  GET /$stats               JSON counters: requests (by protocol), accepted by format, answers by
                            status, auth failures, faults, bytes, connections, GOAWAYs, stream
                            resets, max_open_streams

  --help                    show this text
  --version                 show the version
)";

std::uint64_t parse_unsigned(std::string_view option, std::string_view text, std::uint64_t max) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v > max) {
        throw usage_error(
            fmt::format("--{} needs a whole number between 0 and {}, not '{}'", option, max, text));
    }
    return v;
}

double parse_fraction(std::string_view option, std::string_view text) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !(v >= 0 && v <= 1)) {
        throw usage_error(fmt::format("--{} needs a fraction between 0 and 1, not '{}'", option, text));
    }
    return v;
}

void parse_listen(std::string_view text, hubsim_config& c) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        throw usage_error(fmt::format("--listen needs HOST:PORT, not '{}'", text));
    }
    auto host = text.substr(0, colon);
    c.listen_port = static_cast<std::uint16_t>(parse_unsigned("listen port", text.substr(colon + 1), 65535));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) {
        throw usage_error(fmt::format("--listen needs an IP address or localhost, not '{}'", host));
    }
    if (!address.is_loopback()) {
        throw usage_error(
            fmt::format("--listen {}: nhpush-hubsim serves loopback addresses only (127.0.0.1, ::1)", text));
    }
    c.listen_host = address.to_string();
}

credential credential_of(std::string_view connection_string) {
    try {
        const auto cs = parse_connection_string(connection_string);
        return {cs.key_name, cs.key};
    } catch (const std::invalid_argument& e) {
        throw usage_error(fmt::format("--connection-string: {}", e.what()));
    }
}

/// Applies one fault option; false if `name` is not one.
bool apply_fault_option(std::string_view name, std::string_view value, fault_config& f) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const auto secs = [&] { return seconds{parse_unsigned(name, value, 86400)}; };
    const auto millis = [&] { return milliseconds{parse_unsigned(name, value, 600'000)}; };
    if (name == "fail-429") {
        f.fail_429 = parse_fraction(name, value);
    } else if (name == "retry-after-429") {
        f.retry_after_429 = secs();
    } else if (name == "fail-403") {
        f.fail_403 = parse_fraction(name, value);
    } else if (name == "retry-after-403") {
        f.retry_after_403 = secs();
    } else if (name == "fail-500") {
        f.fail_500 = parse_fraction(name, value);
    } else if (name == "fail-503") {
        f.fail_503 = parse_fraction(name, value);
    } else if (name == "retry-after-503") {
        f.retry_after_503 = secs();
    } else if (name == "latency") {
        f.latency = millis();
    } else if (name == "latency-jitter") {
        f.latency_jitter = millis();
    } else if (name == "close-after") {
        f.close_after = static_cast<std::uint32_t>(parse_unsigned(name, value, 0xffffffff));
    } else if (name == "drop") {
        f.drop = parse_fraction(name, value);
    } else if (name == "rate-limit") {
        f.rate_limit = static_cast<std::uint32_t>(parse_unsigned(name, value, 0xffffffff));
    } else if (name == "retry-after-rate-limit") {
        f.retry_after_rate_limit = secs();
    } else if (name == "rst-stream") {
        f.rst_stream = parse_fraction(name, value);
    } else if (name == "rst-stream-code") {
        if (!parse_stream_reset_code(value, f.rst_stream_code)) {
            throw usage_error(fmt::format("--rst-stream-code needs refused or internal, not '{}'", value));
        }
    } else {
        return false;
    }
    return true;
}

constexpr std::pair<std::string_view, h2_misbehavior> misbehaviors[] = {
    {"none", h2_misbehavior::none},
    {"no-settings", h2_misbehavior::no_settings},
    {"huge-headers", h2_misbehavior::huge_headers},
    {"zero-window", h2_misbehavior::zero_window},
    {"reset-mid-stream", h2_misbehavior::reset_mid_stream}};

h2_misbehavior parse_misbehavior(std::string_view text) {
    for (const auto& [name, mode] : misbehaviors) {
        if (text == name) {
            return mode;
        }
    }
    throw usage_error(fmt::format(
        "--h2-misbehave needs no-settings, huge-headers, zero-window or reset-mid-stream, not '{}'", text));
}

void parse_protocols(std::string_view text, http2_config& h) {
    h.serve_h2 = h.serve_http1 = false;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        if (item == "h2") {
            h.serve_h2 = true;
        } else if (item == "http1" || item == "http/1.1") {
            h.serve_http1 = true;
        } else {
            throw usage_error(fmt::format("--protocols takes h2 and http1, comma-separated, not '{}'", item));
        }
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    if (!h.serve_h2 && !h.serve_http1) {
        throw usage_error("--protocols needs at least one of h2, http1");
    }
}

/// Applies one HTTP/2 option; false if `name` is not one.
bool apply_http2_option(std::string_view name, std::string_view value, http2_config& h) {
    if (name == "protocols") {
        parse_protocols(value, h);
    } else if (name == "max-streams") {
        h.max_streams = static_cast<std::uint32_t>(parse_unsigned(name, value, 1'000'000));
        if (h.max_streams == 0) {
            throw usage_error("--max-streams must be between 1 and 1000000");
        }
    } else if (name == "goaway-after") {
        h.goaway_after = static_cast<std::uint32_t>(parse_unsigned(name, value, 0x7fffffff));
    } else if (name == "h2-misbehave") {
        h.misbehave = parse_misbehavior(value);
    } else {
        return false;
    }
    return true;
}

/// Applies one option with a value; false if `name` is unknown.
bool apply_option(std::string_view name, const std::string& value, hubsim_config& c) {
    if (name == "listen") {
        parse_listen(value, c);
    } else if (name == "cert") {
        c.cert_file = value;
    } else if (name == "tls-key") {
        c.key_file = value;
    } else if (name == "cert-out") {
        c.cert_out = value;
    } else if (name == "connection-string") {
        c.credentials.push_back(credential_of(value));
    } else if (name == "hub") {
        if (value.empty()) {
            throw usage_error("--hub needs a hub name");
        }
        c.hubs.push_back(value);
    } else if (name == "threads") {
        c.threads = static_cast<unsigned>(parse_unsigned(name, value, 256));
    } else if (name == "idle-timeout") {
        c.idle_timeout = std::chrono::seconds{parse_unsigned(name, value, 86400)};
    } else if (name == "record") {
        c.record_file = value;
    } else if (name == "seed") {
        c.seed = parse_unsigned(name, value, UINT64_MAX);
    } else if (!apply_http2_option(name, value, c.http2)) {
        return apply_fault_option(name, value, c.faults);
    }
    return true;
}

void check_complete(const hubsim_config& c, bool have_listen) {
    if (!have_listen) {
        throw usage_error("--listen 127.0.0.1:PORT is required");
    }
    if (c.credentials.empty()) {
        throw usage_error("give at least one --connection-string or --key-name NAME --key KEY");
    }
    if (c.cert_file.empty() != c.key_file.empty()) {
        throw usage_error("--cert FILE and --key FILE go together");
    }
    if (!c.cert_file.empty() && !c.cert_out.empty()) {
        throw usage_error("--cert-out writes a generated certificate; it cannot be used with --cert");
    }
    for (const auto& cred : c.credentials) {
        if (cred.key_name.empty() || cred.key.empty()) {
            throw usage_error("a key name and its key must not be empty");
        }
    }
    if (auto problem = validate(c.faults); !problem.empty()) {
        throw usage_error(problem);
    }
    if (c.idle_timeout.count() == 0) {
        throw usage_error("--idle-timeout must be at least 1 second");
    }
}

}  // namespace

command_line parse_command_line(std::span<const std::string> args) {
    command_line out;
    auto& c = out.config;
    for (const std::string_view arg : args) {
        if (arg == "--help" || arg == "--version") {
            out.what = arg == "--help" ? command_line::action::help : command_line::action::version;
            return out;
        }
    }
    bool have_listen = false;
    std::optional<std::string> pending_key_name;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (!arg.starts_with("--")) {
            throw usage_error(fmt::format("unexpected argument '{}'", arg));
        }
        const auto eq = arg.find('=');
        const auto name = arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2);
        std::string value;
        if (eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw usage_error(fmt::format("--{} needs a value", name));
        }
        const bool sas_key = name == "sas-key" || (name == "key" && pending_key_name);
        if (pending_key_name && !sas_key) {
            throw usage_error(fmt::format("--key-name {} must be followed by --key KEY", *pending_key_name));
        }
        if (name == "key-name") {
            pending_key_name = value;
        } else if (sas_key) {
            if (!pending_key_name) {
                throw usage_error("--sas-key must directly follow --key-name NAME");
            }
            c.credentials.push_back({*pending_key_name, value});
            pending_key_name.reset();
        } else if (name == "key") {
            c.key_file = value;
        } else if (!apply_option(name, value, c)) {
            throw usage_error(fmt::format("unknown option '--{}' (see --help)", name));
        }
        have_listen = have_listen || name == "listen";
    }
    if (pending_key_name) {
        throw usage_error(fmt::format("--key-name {} must be followed by --key KEY", *pending_key_name));
    }
    check_complete(c, have_listen);
    return out;
}

std::string_view to_string(h2_misbehavior m) noexcept {
    for (const auto& [name, mode] : misbehaviors) {
        if (mode == m) {
            return name;
        }
    }
    return "none";
}

std::string_view help_text() noexcept {
    return help;
}

}  // namespace nhpush::hubsim
