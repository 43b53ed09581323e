#include "cli/daemon_answers.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>

namespace nhpush::cli {
namespace {

using rapidjson::Value;

rapidjson::Document parse(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    return d;
}

std::string str(const Value& object, const char* key, std::string_view fallback = "") {
    if (object.IsObject()) {
        if (auto it = object.FindMember(key); it != object.MemberEnd() && it->value.IsString()) {
            return {it->value.GetString(), it->value.GetStringLength()};
        }
    }
    return std::string(fallback);
}

std::uint64_t num(const Value& object, const char* key) {
    if (object.IsObject()) {
        if (auto it = object.FindMember(key); it != object.MemberEnd() && it->value.IsUint64()) {
            return it->value.GetUint64();
        }
    }
    return 0;
}

double real(const Value& object, const char* key) {
    if (object.IsObject()) {
        if (auto it = object.FindMember(key); it != object.MemberEnd() && it->value.IsNumber()) {
            return it->value.GetDouble();
        }
    }
    return 0;
}

const Value& member(const Value& object, const char* key) {
    static const Value null;
    if (object.IsObject()) {
        if (auto it = object.FindMember(key); it != object.MemberEnd()) {
            return it->value;
        }
    }
    return null;
}

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

std::string describe_test_outcome(const Value& t) {
    if (!t.IsObject()) {
        return {};
    }
    std::string out =
        fmt::format("test send: {} succeeded, {} failed\n", num(t, "success"), num(t, "failure"));
    if (const auto& results = member(t, "results"); results.IsArray()) {
        for (const auto& r : results.GetArray()) {
            out += fmt::format("  {} {} {}: {}\n",
                               str(r, "platform"),
                               str(r, "registration_id"),
                               str(r, "pns_handle"),
                               str(r, "outcome"));
        }
    }
    return out;
}

}  // namespace

described describe_error(const daemon_answer& answer) {
    const auto d = parse(answer.body);
    const auto& e = member(d, "error");
    std::string text = e.IsObject() ? fmt::format("{}: {}", str(e, "code"), str(e, "message"))
                                    : fmt::format("HTTP {}: {}", answer.status, answer.body);
    if (const auto field = str(e, "field"); !field.empty()) {
        text += fmt::format(" (field {})", field);
    }
    if (!answer.retry_after.empty()) {
        text += fmt::format("; retry after {} s", answer.retry_after);
    }
    return {text + "\n", answer.status >= 500 ? exit_failed : exit_usage};
}

std::string accepted_id(std::string_view json) {
    return str(parse(json), "id");
}

described describe_result(std::string_view json) {
    const auto d = parse(json);
    const auto status = str(d, "status", "unknown");
    const auto id = str(d, "id");
    if (status == "queued") {
        return {fmt::format("{}: queued for hub {}\n", id, str(d, "hub")), exit_ok};
    }
    if (status == "sent") {
        auto text = fmt::format("{}: sent: HTTP {}{}, notification id {}, tracking id {}, {} attempt(s)\n",
                                id,
                                num(d, "http_status"),
                                member(d, "unexpected_status").IsTrue() ? " (expected 201)" : "",
                                or_dash(str(d, "notification_id")),
                                or_dash(str(d, "tracking_id")),
                                num(d, "attempts"));
        return {text + describe_test_outcome(member(d, "test_outcome")), exit_ok};
    }
    auto text = fmt::format("{}: not sent: {}", id, str(d, "reason", status));
    if (const auto http = num(d, "http_status"); http != 0) {
        const auto code = str(d, "error_code");
        text += fmt::format(" (HTTP {}{}{})", http, code.empty() ? "" : ", code ", code);
    }
    if (const auto detail = str(d, "error_detail"); !detail.empty()) {
        text += ": " + detail;
    }
    text += fmt::format(", {} attempt(s)\n", num(d, "attempts"));
    return {text, exit_failed};
}

described describe_duplicate(std::string_view json) {
    const auto result = describe_result(json);
    return {"already accepted, nothing new queued: " + result.text, result.exit_code};
}

namespace {

/// How serious a rejected line's code is for the exit code: retry later, fine, or a bad input.
int exit_code_of_rejection(std::string_view code) {
    if (code == "duplicate_id") {
        return exit_ok;
    }
    return code == "queue_full" || code == "shutting_down" ? exit_failed : exit_usage;
}

}  // namespace

described describe_batch(std::string_view json) {
    const auto d = parse(json);
    const auto& accepted = member(d, "accepted");
    const auto& rejected = member(d, "rejected");
    const auto& by_code = member(d, "rejected_by_code");
    const auto n_accepted = accepted.IsArray() ? accepted.Size() : 0;
    const auto n_listed = rejected.IsArray() ? rejected.Size() : 0;
    // rejected_count is absent from the answers of older daemons, which listed every line.
    const auto n_rejected = std::max<std::uint64_t>(num(d, "rejected_count"), n_listed);
    std::string text = fmt::format("queued {} notification(s), rejected {}", n_accepted, n_rejected);
    text += n_rejected > n_listed ? fmt::format(" (the first {} listed)\n", n_listed) : "\n";
    int code = exit_ok;
    if (accepted.IsArray()) {
        for (const auto& a : accepted.GetArray()) {
            text += fmt::format("line {}: queued: {}\n", num(a, "line"), str(a, "id"));
        }
    }
    if (rejected.IsArray()) {
        for (const auto& r : rejected.GetArray()) {
            const auto reason = str(r, "code");
            const auto field = str(r, "field");
            text += fmt::format("line {}: {}: {}: {}{}\n",
                                num(r, "line"),
                                reason == "duplicate_id" ? "already accepted" : "rejected",
                                reason,
                                str(r, "message"),
                                field.empty() ? "" : fmt::format(" (field {})", field));
            code = std::max(code, exit_code_of_rejection(reason));
        }
    }
    if (by_code.IsObject() && n_rejected > n_listed) {
        std::string counts;
        for (const auto& [name, count] : by_code.GetObject()) {
            code = std::max(code, exit_code_of_rejection(name.GetString()));
            counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", name.GetString(), count.GetUint64());
        }
        text += fmt::format("rejected lines by code: {}\n", counts);
    }
    return {text, code};
}

described describe_stats(std::string_view json) {
    const auto d = parse(json);
    const auto& daemon = member(d, "daemon");
    const auto& clients = member(daemon, "client_connections");
    std::string text = fmt::format("nhpushd {}: up {:.0f} s, {}, {} client connection(s)\n",
                                   str(daemon, "version"),
                                   real(daemon, "uptime_seconds"),
                                   member(daemon, "ready").IsTrue() ? "ready" : "NOT ready",
                                   real(clients, "open"));
    const auto& hubs = member(d, "hubs");
    if (!hubs.IsObject()) {
        return {text, exit_ok};
    }
    text += fmt::format("{:<16} {:>10} {:>10} {:>8} {:>10} {:>9} {:>8} {:>9} {:>9}\n",
                        "hub",
                        "submitted",
                        "sent",
                        "failed",
                        "queue_full",
                        "queued",
                        "retries",
                        "p50 ms",
                        "p99 ms");
    for (const auto& [name, h] : hubs.GetObject()) {
        const auto& failed = member(h, "failed");
        std::uint64_t failures = 0;
        if (failed.IsObject()) {
            for (const auto& f : failed.GetObject()) {
                failures += f.value.IsUint64() ? f.value.GetUint64() : 0;
            }
        }
        const auto& latency = member(h, "latency_seconds");
        text += fmt::format("{:<16} {:>10} {:>10} {:>8} {:>10} {:>9} {:>8} {:>9.1f} {:>9.1f}{}\n",
                            name.GetString(),
                            num(h, "submitted"),
                            num(h, "sent") + num(h, "sent_unexpected_status"),
                            failures,
                            num(h, "rejected_queue_full"),
                            num(h, "queue_depth"),
                            num(h, "retries"),
                            real(latency, "p50") * 1000,
                            real(latency, "p99") * 1000,
                            member(h, "healthy").IsFalse() ? "  UNHEALTHY" : "");
    }
    return {text, exit_ok};
}

described describe_health(const daemon_answer& answer) {
    const auto d = parse(answer.body);
    if (answer.status == 200) {
        return {"healthy\n", exit_ok};
    }
    std::string text = "unhealthy\n";
    if (const auto& reasons = member(d, "reasons"); reasons.IsArray()) {
        for (const auto& r : reasons.GetArray()) {
            if (r.IsString()) {
                text += fmt::format("  {}\n", r.GetString());
            }
        }
    }
    return {text, exit_failed};
}

/// An error answer to a request that acts on the hub's behalf (cancel, details): always exit_failed,
/// whether the daemon or the hub refused.
namespace {
described describe_failure(const daemon_answer& answer) {
    auto d = describe_error(answer);
    d.exit_code = exit_failed;
    return d;
}
}  // namespace

described describe_cancel(const daemon_answer& answer) {
    if (answer.status != 200) {
        return describe_failure(answer);
    }
    const auto d = parse(answer.body);
    const auto where =
        str(d, "cancelled") == "hub"
            ? fmt::format(
                  "the scheduled send {} was cancelled at hub {}", str(d, "notification_id"), str(d, "hub"))
            : fmt::format("cancelled while queued for hub {}; it will not be sent", str(d, "hub"));
    return {fmt::format("{}: {}\n", str(d, "id"), where), exit_ok};
}

described describe_details(const daemon_answer& answer) {
    if (answer.status != 200) {
        return describe_failure(answer);
    }
    const auto d = parse(answer.body);
    auto text = fmt::format("{}: {} at hub {} (notification id {})\n",
                            str(d, "id"),
                            or_dash(str(d, "state")),
                            str(d, "hub"),
                            or_dash(str(d, "notification_id")));
    text += fmt::format("  enqueued {}, started {}, ended {}\n",
                        or_dash(str(d, "enqueue_time")),
                        or_dash(str(d, "start_time")),
                        or_dash(str(d, "end_time")));
    if (const auto platforms = str(d, "target_platforms"); !platforms.empty()) {
        text += fmt::format("  platforms: {}\n", platforms);
    }
    if (const auto& counts = member(d, "outcome_counts"); counts.IsObject()) {
        for (const auto& platform : counts.GetObject()) {
            std::string outcomes;
            for (const auto& o : platform.value.GetObject()) {
                outcomes += fmt::format("{}{} {}",
                                        outcomes.empty() ? "" : ", ",
                                        o.name.GetString(),
                                        o.value.IsUint64() ? std::to_string(o.value.GetUint64()) : "?");
            }
            text += fmt::format("  {}: {}\n", platform.name.GetString(), outcomes);
        }
    }
    if (const auto uri = str(d, "pns_error_details_uri"); !uri.empty()) {
        text += fmt::format("  platform errors: {}\n", uri);
    }
    return {text, exit_ok};
}

described describe_dead_letters(const daemon_answer& answer) {
    if (answer.status != 200) {
        return describe_error(answer);
    }
    const auto d = parse(answer.body);
    std::string text;
    std::size_t count = 0;
    if (const auto& letters = member(d, "dead_letters"); letters.IsArray()) {
        for (const auto& l : letters.GetArray()) {
            ++count;
            const auto status = num(l, "http_status");
            text += fmt::format("{} {} hub {}: {}{}{}{}, {} attempt(s), accepted {}\n",
                                str(l, "failed_at"),
                                str(l, "id"),
                                str(l, "hub"),
                                str(l, "reason"),
                                status != 0 ? fmt::format(" (HTTP {})", status) : "",
                                str(l, "error_detail").empty() ? "" : ": ",
                                str(l, "error_detail"),
                                num(l, "attempts"),
                                str(l, "accepted_at"));
        }
    }
    if (count == 0) {
        text = "no dead letters\n";
    }
    if (member(d, "more").IsTrue()) {
        text += fmt::format("more: nhpush dead-letters list --after {}\n", str(d, "next_after"));
    }
    if (const auto dropped = num(d, "dropped"); dropped != 0) {
        text += fmt::format(
            "{} dead letter(s) were not recorded since nhpushd started: the file was full "
            "({} bytes at most); requeue or purge to make room\n",
            dropped,
            num(d, "max_bytes"));
    }
    return {text, exit_ok};
}

}  // namespace nhpush::cli
