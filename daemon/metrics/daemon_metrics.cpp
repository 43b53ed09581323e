#include "metrics/daemon_metrics.hpp"

#include "metrics/prometheus.hpp"
#include "shared/json_output.hpp"

#include <fmt/format.h>

#include <array>
#include <initializer_list>
#include <utility>

namespace nhpush::metrics {
namespace {

using shared::json_writer;
using shared::write_key;
using shared::write_string;

using outcome_count = std::pair<std::string_view, std::uint64_t>;

/// The notifications that ended in failure, by reason: one list for /v1/stats and /metrics.
std::array<outcome_count, 7> failure_outcomes(const sender_stats_snapshot& s) {
    return {{{"hub_rejected", s.failed_rejected},
             {"retries_exhausted", s.failed_retries_exhausted},
             {"deadline_expired", s.failed_deadline},
             {"shutting_down", s.failed_shutdown},
             {"outcome_unknown", s.outcome_unknown},
             {"send_path_failed", s.failed_send_path},
             {"cancelled", s.cancelled}}};
}

void write_u64(json_writer& w, std::string_view key, std::uint64_t value) {
    write_key(w, key);
    w.Uint64(value);
}

void write_double(json_writer& w, std::string_view key, double value) {
    write_key(w, key);
    w.Double(value);
}

void write_daemon_json(json_writer& w, const daemon_report& r) {
    write_key(w, "daemon");
    w.StartObject();
    write_key(w, "version");
    write_string(w, r.version);
    write_double(w, "uptime_seconds", r.uptime_seconds);
    write_key(w, "ready");
    w.Bool(r.ready);
    write_u64(w, "config_generation", r.config_generation);
    write_key(w, "client_connections");
    w.StartObject();
    write_key(w, "open");
    w.Int64(r.connections_open);
    write_u64(w, "accepted", r.connections_accepted);
    write_u64(w, "refused_peer", r.connections_refused_peer);
    write_u64(w, "refused_max_clients", r.connections_refused_max_clients);
    w.EndObject();
    write_key(w, "request_errors");
    w.StartObject();
    for (std::size_t i = 0; i < r.request_errors.size(); ++i) {
        if (r.request_errors[i] != 0) {
            write_u64(w, api::to_string(static_cast<api::api_errc>(i)), r.request_errors[i]);
        }
    }
    w.EndObject();
    write_key(w, "reloads");
    w.StartObject();
    write_u64(w, "ok", r.reloads_ok);
    write_u64(w, "failed", r.reloads_failed);
    w.EndObject();
    write_u64(w, "recent_results", r.recent_results);
    if (r.spool) {
        write_key(w, "spool");
        w.StartObject();
        write_key(w, "writable");
        w.Bool(r.spool->writable);
        write_u64(w, "kept_for_next_start", r.spool->kept_for_next_start);
        write_u64(w, "recovered", r.spool->recovered);
        write_key(w, "hubs");
        w.StartObject();
        for (const auto& h : r.spool->hubs) {
            write_key(w, h.name);
            w.StartObject();
            write_u64(w, "outstanding", h.outstanding);
            write_u64(w, "in_memory", h.in_memory);
            write_u64(w, "bytes", h.bytes);
            w.EndObject();
        }
        w.EndObject();
        w.EndObject();
    }
    w.EndObject();
}

void write_hub_json(json_writer& w, const hub_report& h) {
    const auto& s = h.stats;
    write_key(w, h.name);
    w.StartObject();
    write_key(w, "hub");
    write_string(w, h.hub);
    write_key(w, "healthy");
    w.Bool(h.healthy);
    write_u64(w, "submitted", s.submitted);
    write_u64(w, "rejected_queue_full", s.rejected_queue_full);
    write_u64(w, "sent", s.sent);
    write_u64(w, "sent_unexpected_status", s.sent_unexpected_status);
    write_key(w, "failed");
    w.StartObject();
    for (const auto& [reason, value] : failure_outcomes(s)) {
        write_u64(w, reason, value);
    }
    w.EndObject();
    write_u64(w, "auth_failures", s.failed_auth);
    write_u64(w, "retries", s.retries);
    write_u64(w, "resent_after_close", s.resent_after_close);
    write_u64(w, "streams_reset", s.streams_reset);
    write_u64(w, "throttle_pauses", s.throttle_pauses);
    write_u64(w, "queue_depth", s.queue_depth);
    write_u64(w, "queue_capacity", h.queue_capacity);
    write_double(w, "oldest_queued_age_seconds", s.oldest_queued_age_seconds);
    write_double(w, "rate_limit", h.rate_limit);
    write_key(w, "connections");
    w.StartObject();
    write_u64(w, "min", h.min_connections);
    write_u64(w, "max", h.max_connections);
    write_u64(w, "opened", s.connections_opened);
    write_u64(w, "failed", s.connections_failed);
    write_u64(w, "recycled", s.connections_recycled);
    write_u64(w, "closed_idle", s.connections_closed_idle);
    write_u64(w, "open", s.connections_open);
    write_u64(w, "h2", s.connections_h2);
    write_u64(w, "goaways_received", s.goaways_received);
    write_u64(w, "requests_on_reused", s.requests_on_reused_connections);
    w.EndObject();
    write_u64(w, "sas_tokens_signed", s.tokens_signed);
    write_key(w, "latency_seconds");
    w.StartObject();
    write_u64(w, "count", s.latency_count);
    write_double(w, "sum", s.latency_sum_seconds);
    write_double(w, "p50", latency_quantile(s, 0.5));
    write_double(w, "p90", latency_quantile(s, 0.9));
    write_double(w, "p99", latency_quantile(s, 0.99));
    // The histogram itself, so a client can take the difference of two readings (nhpush-bench does).
    write_key(w, "bucket_upper_bounds");
    w.StartArray();
    for (const auto bound : latency_bucket_bounds) {
        w.Double(bound);
    }
    w.EndArray();
    write_key(w, "bucket_counts");
    w.StartArray();
    for (const auto n : s.latency_buckets) {
        w.Uint64(n);
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
}

// A family whose samples are one per hub.
template <class Value>
void per_hub(exposition_writer& w,
             const daemon_report& r,
             std::string_view name,
             metric_type type,
             std::string_view help,
             Value value) {
    w.family(name, type, help);
    for (const auto& h : r.hubs) {
        w.sample(name, {{"hub", h.name}}, value(h));
    }
}

void write_source_json(json_writer& w, const source_report& s) {
    write_key(w, s.name);
    w.StartObject();
    write_key(w, "stream");
    write_string(w, s.stream);
    write_key(w, "connected");
    w.Bool(s.connected);
    write_u64(w, "read", s.read);
    write_u64(w, "claimed", s.claimed);
    write_u64(w, "acked", s.acked);
    write_u64(w, "dead", s.dead);
    write_u64(w, "reconnects", s.reconnects);
    w.EndObject();
}

void write_source_metrics(exposition_writer& w, const daemon_report& r) {
    if (r.sources.empty()) {
        return;
    }
    constexpr std::string_view entries = "nhpushd_source_entries_total";
    w.family(entries, metric_type::counter, "Stream entries of a source, by what was done with them.");
    for (const auto& s : r.sources) {
        w.sample(entries, {{"source", s.name}, {"event", "read"}}, s.read);
        w.sample(entries, {{"source", s.name}, {"event", "claimed"}}, s.claimed);
        w.sample(entries, {{"source", s.name}, {"event", "acked"}}, s.acked);
        w.sample(entries, {{"source", s.name}, {"event", "dead"}}, s.dead);
    }
    w.family(
        "nhpushd_source_reconnects_total", metric_type::counter, "Connections to Redis lost or refused.");
    for (const auto& s : r.sources) {
        w.sample("nhpushd_source_reconnects_total", {{"source", s.name}}, s.reconnects);
    }
    w.family("nhpushd_source_connected", metric_type::gauge, "1 while the source is connected to Redis.");
    for (const auto& s : r.sources) {
        w.sample("nhpushd_source_connected", {{"source", s.name}}, s.connected ? 1.0 : 0.0);
    }
}

void write_spool_metrics(exposition_writer& w, const spool_report& s) {
    w.family("nhpushd_spool_writable", metric_type::gauge, "1 if the spool's last write succeeded, else 0.");
    w.sample("nhpushd_spool_writable", {}, s.writable ? 1.0 : 0.0);
    w.family(
        "nhpushd_spool_recovered",
        metric_type::gauge,
        "Notifications the spool queued again at start; those on the wire at a crash may be sent twice.");
    w.sample("nhpushd_spool_recovered", {}, static_cast<double>(s.recovered));
    w.family("nhpushd_spool_outstanding",
             metric_type::gauge,
             "Notifications in the spool without a final result (on disk or in memory), by hub.");
    for (const auto& h : s.hubs) {
        w.sample("nhpushd_spool_outstanding", {{"hub", h.name}}, static_cast<double>(h.outstanding));
    }
    w.family("nhpushd_spool_bytes", metric_type::gauge, "Bytes in the spool's segment files, by hub.");
    for (const auto& h : s.hubs) {
        w.sample("nhpushd_spool_bytes", {{"hub", h.name}}, static_cast<double>(h.bytes));
    }
}

void write_daemon_metrics(exposition_writer& w, const daemon_report& r) {
    w.family("nhpushd_build_info", metric_type::gauge, "Always 1; the version is a label.");
    w.sample("nhpushd_build_info", {{"version", r.version}}, 1.0);
    w.family("nhpushd_uptime_seconds", metric_type::gauge, "Seconds since nhpushd started.");
    w.sample("nhpushd_uptime_seconds", {}, r.uptime_seconds);
    w.family("nhpushd_ready", metric_type::gauge, "1 when GET /healthz answers 200, else 0.");
    w.sample("nhpushd_ready", {}, r.ready ? 1.0 : 0.0);
    w.family("nhpushd_client_connections", metric_type::gauge, "Client connections open on the socket.");
    w.sample("nhpushd_client_connections", {}, static_cast<double>(r.connections_open));
    w.family("nhpushd_client_connections_total",
             metric_type::counter,
             "Client connections, by what became of them.");
    w.sample("nhpushd_client_connections_total", {{"result", "accepted"}}, r.connections_accepted);
    w.sample("nhpushd_client_connections_total", {{"result", "refused_peer"}}, r.connections_refused_peer);
    w.sample("nhpushd_client_connections_total",
             {{"result", "refused_max_clients"}},
             r.connections_refused_max_clients);
    w.family("nhpushd_request_errors_total",
             metric_type::counter,
             "Requests and batch lines answered with an error, by error code.");
    for (std::size_t i = 0; i < r.request_errors.size(); ++i) {
        w.sample("nhpushd_request_errors_total",
                 {{"code", api::to_string(static_cast<api::api_errc>(i))}},
                 r.request_errors[i]);
    }
    w.family(
        "nhpushd_config_reloads_total", metric_type::counter, "Configuration reloads (SIGHUP), by result.");
    w.sample("nhpushd_config_reloads_total", {{"result", "ok"}}, r.reloads_ok);
    w.sample("nhpushd_config_reloads_total", {{"result", "failed"}}, r.reloads_failed);
    w.family("nhpushd_recent_results", metric_type::gauge, "Entries in the recent-results table.");
    w.sample("nhpushd_recent_results", {}, static_cast<double>(r.recent_results));
    if (r.spool) {
        write_spool_metrics(w, *r.spool);
    }
}

void write_outcomes(exposition_writer& w, const daemon_report& r) {
    constexpr std::string_view name = "nhpushd_notifications_total";
    w.family(name, metric_type::counter, "Notifications finished, by hub and outcome.");
    for (const auto& h : r.hubs) {
        const auto& s = h.stats;
        w.sample(name, {{"hub", h.name}, {"outcome", "sent"}}, s.sent);
        w.sample(name, {{"hub", h.name}, {"outcome", "sent_unexpected_status"}}, s.sent_unexpected_status);
        for (const auto& [outcome, value] : failure_outcomes(s)) {
            w.sample(name, {{"hub", h.name}, {"outcome", outcome}}, value);
        }
    }
}

void write_hub_metrics(exposition_writer& w, const daemon_report& r) {
    per_hub(w,
            r,
            "nhpushd_notifications_submitted_total",
            metric_type::counter,
            "Notifications accepted into the hub's queue.",
            [](const hub_report& h) { return h.stats.submitted; });
    per_hub(w,
            r,
            "nhpushd_notifications_refused_queue_full_total",
            metric_type::counter,
            "Notifications refused because the hub's queue was full (503).",
            [](const hub_report& h) { return h.stats.rejected_queue_full; });
    write_outcomes(w, r);
    per_hub(w,
            r,
            "nhpushd_auth_failures_total",
            metric_type::counter,
            "Notifications the hub refused with 401 or 403 (authentication or authorization).",
            [](const hub_report& h) { return h.stats.failed_auth; });
    per_hub(w,
            r,
            "nhpushd_retries_total",
            metric_type::counter,
            "Attempts after the first.",
            [](const hub_report& h) { return h.stats.retries; });
    per_hub(w,
            r,
            "nhpushd_resent_after_close_total",
            metric_type::counter,
            "Requests resent because the hub cannot have processed them: a kept-alive connection "
            "closed before answering, an HTTP/2 REFUSED_STREAM or a stream above a GOAWAY.",
            [](const hub_report& h) { return h.stats.resent_after_close; });
    per_hub(w,
            r,
            "nhpushd_hub_streams_reset_total",
            metric_type::counter,
            "HTTP/2 streams the hub reset (REFUSED_STREAM included).",
            [](const hub_report& h) { return h.stats.streams_reset; });
    per_hub(w,
            r,
            "nhpushd_throttle_pauses_total",
            metric_type::counter,
            "Times the whole hub paused for a throttling answer's Retry-After.",
            [](const hub_report& h) { return h.stats.throttle_pauses; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_opened_total",
            metric_type::counter,
            "TLS connections opened to the hub.",
            [](const hub_report& h) { return h.stats.connections_opened; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_failed_total",
            metric_type::counter,
            "Connection attempts that failed (resolve, connect or TLS handshake).",
            [](const hub_report& h) { return h.stats.connections_failed; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_recycled_total",
            metric_type::counter,
            "Connections replaced on reaching connection_max_age.",
            [](const hub_report& h) { return h.stats.connections_recycled; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_closed_idle_total",
            metric_type::counter,
            "Connections closed after idle_timeout with nothing to do (above min_connections).",
            [](const hub_report& h) { return h.stats.connections_closed_idle; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_h2_total",
            metric_type::counter,
            "Connections opened to the hub that speak HTTP/2 (part of opened).",
            [](const hub_report& h) { return h.stats.connections_h2; });
    per_hub(w,
            r,
            "nhpushd_hub_connections_open",
            metric_type::gauge,
            "TLS connections to the hub open now.",
            [](const hub_report& h) { return static_cast<double>(h.stats.connections_open); });
    per_hub(w,
            r,
            "nhpushd_hub_goaways_received_total",
            metric_type::counter,
            "HTTP/2 GOAWAY frames from the hub (a connection it drains).",
            [](const hub_report& h) { return h.stats.goaways_received; });
    per_hub(w,
            r,
            "nhpushd_sas_tokens_signed_total",
            metric_type::counter,
            "SAS tokens signed (renewals included).",
            [](const hub_report& h) { return h.stats.tokens_signed; });
    per_hub(w,
            r,
            "nhpushd_queue_depth",
            metric_type::gauge,
            "Notifications queued or in flight.",
            [](const hub_report& h) { return static_cast<double>(h.stats.queue_depth); });
    per_hub(w,
            r,
            "nhpushd_queue_capacity",
            metric_type::gauge,
            "The hub's queue_capacity.",
            [](const hub_report& h) { return static_cast<double>(h.queue_capacity); });
    per_hub(w,
            r,
            "nhpushd_oldest_queued_age_seconds",
            metric_type::gauge,
            "Age of the oldest notification waiting in the hub's queue.",
            [](const hub_report& h) { return h.stats.oldest_queued_age_seconds; });
    per_hub(w,
            r,
            "nhpushd_hub_min_connections",
            metric_type::gauge,
            "Connections to the hub kept open even when idle (min_connections).",
            [](const hub_report& h) { return static_cast<double>(h.min_connections); });
    per_hub(w,
            r,
            "nhpushd_hub_max_connections",
            metric_type::gauge,
            "Connections to the hub at most (max_connections).",
            [](const hub_report& h) { return static_cast<double>(h.max_connections); });
    per_hub(w,
            r,
            "nhpushd_hub_healthy",
            metric_type::gauge,
            "0 while the hub's recent sends all fail authentication or certificate verification.",
            [](const hub_report& h) { return h.healthy ? 1.0 : 0.0; });

    constexpr std::string_view latency = "nhpushd_send_latency_seconds";
    w.family(latency, metric_type::histogram, "Seconds from submission to the hub's 201, per hub.");
    for (const auto& h : r.hubs) {
        w.histogram(
            latency,
            {{"hub", h.name}},
            histogram_data{latency_bucket_bounds, h.stats.latency_buckets, h.stats.latency_sum_seconds});
    }
}

}  // namespace

void daemon_report::take_counters(const daemon_counters& c) {
    constexpr auto relaxed = std::memory_order_relaxed;
    connections_open = c.connections_open.load(relaxed);
    connections_accepted = c.connections_accepted.load(relaxed);
    connections_refused_peer = c.connections_refused_peer.load(relaxed);
    connections_refused_max_clients = c.connections_refused_max_clients.load(relaxed);
    for (std::size_t i = 0; i < request_errors.size(); ++i) {
        request_errors[i] = c.request_errors[i].load(relaxed);
    }
    reloads_ok = c.reloads_ok.load(relaxed);
    reloads_failed = c.reloads_failed.load(relaxed);
    sources.clear();
    for (const auto& s : c.sources.all()) {
        sources.push_back({.name = s->name,
                           .stream = s->stream,
                           .connected = s->connected.load(relaxed),
                           .read = s->read.load(relaxed),
                           .claimed = s->claimed.load(relaxed),
                           .acked = s->acked.load(relaxed),
                           .dead = s->dead.load(relaxed),
                           .reconnects = s->reconnects.load(relaxed)});
    }
}

void source_counters::set_problem(std::string text) {
    const std::lock_guard lock(mutex_);
    problem_ = std::move(text);
}

std::string source_counters::problem() const {
    const std::lock_guard lock(mutex_);
    return problem_;
}

std::shared_ptr<source_counters> source_board::add(std::string name, std::string stream) {
    auto s = std::make_shared<source_counters>();
    s->name = std::move(name);
    s->stream = std::move(stream);
    const std::lock_guard lock(mutex_);
    sources_.push_back(s);
    return s;
}

std::vector<std::shared_ptr<source_counters>> source_board::all() const {
    const std::lock_guard lock(mutex_);
    return sources_;
}

std::vector<std::string> source_board::problems() const {
    std::vector<std::string> out;
    for (const auto& s : all()) {
        if (!s->connected.load(std::memory_order_relaxed)) {
            const auto why = s->problem();
            out.push_back(fmt::format("source {}: not reading stream {}: {}",
                                      s->name,
                                      s->stream,
                                      why.empty() ? std::string("not connected to Redis yet") : why));
        }
    }
    return out;
}

double latency_quantile(const sender_stats_snapshot& s, double q) noexcept {
    std::uint64_t total = 0;
    for (const auto n : s.latency_buckets) {
        total += n;
    }
    if (total == 0) {
        return 0;
    }
    // The rank of the quantile among the samples, 1-based: the smallest rank covering q of them.
    const auto rank =
        std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.999999));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < s.latency_buckets.size(); ++i) {
        seen += s.latency_buckets[i];
        if (seen >= rank) {
            return latency_bucket_bounds[std::min(i, latency_bucket_bounds.size() - 1)];
        }
    }
    return latency_bucket_bounds.back();
}

std::string render_stats_json(const daemon_report& report) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_daemon_json(w, report);
    write_key(w, "hubs");
    w.StartObject();
    for (const auto& h : report.hubs) {
        write_hub_json(w, h);
    }
    w.EndObject();
    write_key(w, "sources");
    w.StartObject();
    for (const auto& s : report.sources) {
        write_source_json(w, s);
    }
    w.EndObject();
    w.EndObject();
    return out;
}

std::string render_metrics_text(const daemon_report& report) {
    std::string out;
    out.reserve(8192);
    exposition_writer w(out);
    write_daemon_metrics(w, report);
    write_hub_metrics(w, report);
    write_source_metrics(w, report);
    return out;
}

}  // namespace nhpush::metrics
