// Per-worker counters and the /$stats JSON.

#include "hubsim/stats.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <string>

namespace nhpush::hubsim {
namespace {

constexpr std::string_view fault_names[] = {"throttled_429",
                                            "throttled_403",
                                            "error_500",
                                            "error_503",
                                            "rate_limited",
                                            "delayed",
                                            "closed",
                                            "dropped",
                                            "stream_reset"};
static_assert(std::size(fault_names) == static_cast<std::size_t>(fault_counter::count_));

template <std::size_t N>
void add_all(std::array<std::uint64_t, N>& out, const std::array<thread_stats::counter, N>& in) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        out[i] += in[i].load(std::memory_order_relaxed);
    }
}

}  // namespace

fault_counter counter_of(fault_kind k) noexcept {
    switch (k) {
        case fault_kind::throttled_429:
            return fault_counter::throttled_429;
        case fault_kind::throttled_403:
            return fault_counter::throttled_403;
        case fault_kind::error_500:
            return fault_counter::error_500;
        case fault_kind::error_503:
            return fault_counter::error_503;
        default:
            return fault_counter::rate_limited;
    }
}

std::uint64_t stats_snapshot::auth_failure_total() const noexcept {
    std::uint64_t total = 0;
    for (auto n : auth_failures) {
        total += n;
    }
    return total;
}

void thread_stats::count_accepted(notification_format f) noexcept {
    bump(accepted);
    for (std::size_t i = 0; i < std::size(all_formats); ++i) {
        if (all_formats[i] == f) {
            bump(accepted_by_format[i]);
        }
    }
}

void thread_stats::add_to(stats_snapshot& out) const noexcept {
    constexpr auto r = std::memory_order_relaxed;
    out.requests += requests.load(r);
    out.accepted += accepted.load(r);
    out.bytes_received += bytes_received.load(r);
    out.bytes_sent += bytes_sent.load(r);
    out.connections += connections.load(r);
    out.tls_handshake_failures += tls_handshake_failures.load(r);
    out.requests_http1 += requests_http1.load(r);
    out.requests_h2 += requests_h2.load(r);
    out.connections_h2 += connections_h2.load(r);
    out.goaways_sent += goaways_sent.load(r);
    out.streams_reset += streams_reset.load(r);
    out.max_open_streams = std::max(out.max_open_streams, max_open_streams.load(r));
    add_all(out.accepted_by_format, accepted_by_format);
    add_all(out.by_status, by_status);
    add_all(out.auth_failures, auth_failures);
    add_all(out.faults, faults);
}

stats_registry::stats_registry(std::size_t workers) {
    for (std::size_t i = 0; i < workers; ++i) {
        slots_.push_back(std::make_unique<thread_stats>());
    }
}

stats_snapshot stats_registry::merged() const {
    stats_snapshot s;
    for (const auto& slot : slots_) {
        slot->add_to(s);
    }
    return s;
}

std::string to_json(const stats_snapshot& s) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    const auto key = [&](std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); };
    w.StartObject();
    key("requests"), w.Uint64(s.requests);
    key("accepted"), w.Uint64(s.accepted);
    key("accepted_by_format"), w.StartObject();
    for (std::size_t i = 0; i < std::size(all_formats); ++i) {
        key(to_string(all_formats[i])), w.Uint64(s.accepted_by_format[i]);
    }
    w.EndObject();
    key("answers_by_status"), w.StartObject();
    for (std::size_t i = 0; i < s.by_status.size(); ++i) {
        if (s.by_status[i] != 0) {
            key(std::to_string(i)), w.Uint64(s.by_status[i]);
        }
    }
    w.EndObject();
    key("auth_failures"), w.Uint64(s.auth_failure_total());
    key("auth_failures_by_reason"), w.StartObject();
    for (std::size_t i = 1; i < auth_failure_count; ++i) {
        if (s.auth_failures[i] != 0) {
            key(reason_code(static_cast<auth_failure>(i))), w.Uint64(s.auth_failures[i]);
        }
    }
    w.EndObject();
    key("faults"), w.StartObject();
    for (std::size_t i = 0; i < std::size(fault_names); ++i) {
        key(fault_names[i]), w.Uint64(s.faults[i]);
    }
    w.EndObject();
    key("bytes_received"), w.Uint64(s.bytes_received);
    key("bytes_sent"), w.Uint64(s.bytes_sent);
    key("connections"), w.Uint64(s.connections);
    key("tls_handshake_failures"), w.Uint64(s.tls_handshake_failures);
    key("requests_http1"), w.Uint64(s.requests_http1);
    key("requests_h2"), w.Uint64(s.requests_h2);
    key("connections_h2"), w.Uint64(s.connections_h2);
    key("goaways_sent"), w.Uint64(s.goaways_sent);
    key("streams_reset"), w.Uint64(s.streams_reset);
    key("max_open_streams"), w.Uint64(s.max_open_streams);
    w.EndObject();
    return out.GetString();
}

}  // namespace nhpush::hubsim
