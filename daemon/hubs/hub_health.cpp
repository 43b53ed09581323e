#include "hubs/hub_health.hpp"

#include "shared/json_output.hpp"

#include <fmt/format.h>

namespace nhpush::hubs {
namespace {

void reset(std::atomic<std::uint32_t>& counter) noexcept {
    if (counter.load(std::memory_order_relaxed) != 0) {
        counter.store(0, std::memory_order_relaxed);
    }
}

bool is_auth_failure(const boost::system::error_code& ec, const send_result& r) noexcept {
    return ec == errc::hub_rejected && (r.http_status == 401 || r.http_status == 403);
}

}  // namespace

void hub_health::record(const boost::system::error_code& ec, const send_result& result) noexcept {
    if (!ec) {
        reset(consecutive_auth_failures);
        reset(consecutive_tls_failures);
    } else if (is_auth_failure(ec, result)) {
        consecutive_auth_failures.fetch_add(1, std::memory_order_relaxed);
        last_auth_status.store(result.http_status, std::memory_order_relaxed);
    } else if (ec == errc::tls_verify_failed) {
        consecutive_tls_failures.fetch_add(1, std::memory_order_relaxed);
    }
}

hub_health_sample hub_health_sample::of(std::string_view name, const hub_health& h) noexcept {
    return {name,
            h.consecutive_auth_failures.load(std::memory_order_relaxed),
            h.consecutive_tls_failures.load(std::memory_order_relaxed),
            h.last_auth_status.load(std::memory_order_relaxed)};
}

health_report evaluate_health(bool stopping, std::span<const hub_health_sample> hubs) {
    health_report report;
    if (stopping) {
        report.reasons.push_back("nhpushd is stopping");
    }
    for (const auto& h : hubs) {
        if (h.consecutive_auth_failures >= unhealthy_after_failures) {
            report.reasons.push_back(fmt::format(
                "hub {}: the last {} sends failed authentication (HTTP {}); check its connection string "
                "and access policy",
                h.name,
                h.consecutive_auth_failures,
                h.last_auth_status));
        }
        if (h.consecutive_tls_failures >= unhealthy_after_failures) {
            report.reasons.push_back(fmt::format(
                "hub {}: the last {} sends failed TLS certificate verification; check its ca_file",
                h.name,
                h.consecutive_tls_failures));
        }
    }
    report.healthy = report.reasons.empty();
    return report;
}

std::string render_health(const health_report& report) {
    std::string out;
    shared::string_output stream{out};
    shared::json_writer w(stream);
    w.StartObject();
    shared::write_key(w, "status");
    shared::write_string(w, !report.healthy ? "unhealthy" : report.degraded.empty() ? "ok" : "degraded");
    if (!report.healthy || !report.degraded.empty()) {
        shared::write_key(w, "reasons");
        w.StartArray();
        for (const auto& r : report.reasons) {
            shared::write_string(w, r);
        }
        for (const auto& r : report.degraded) {
            shared::write_string(w, r);
        }
        w.EndArray();
    }
    w.EndObject();
    return out;
}

}  // namespace nhpush::hubs
