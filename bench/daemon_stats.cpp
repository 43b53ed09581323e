#include "daemon_stats.hpp"

#include "metrics/daemon_metrics.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <stdexcept>

namespace nhpush::bench {

std::uint64_t hub_progress::finished() const {
    auto n = sent;
    for (const auto& [reason, count] : failed) {
        n += count;
    }
    return n;
}

hub_progress parse_hub_progress(std::string_view stats_json, std::string_view hub) {
    rapidjson::Document d;
    d.Parse(stats_json.data(), stats_json.size());
    if (d.HasParseError() || !d.IsObject()) {
        throw std::runtime_error("nhpushd's /v1/stats is not a JSON object");
    }
    const auto* hubs = rapidjson::Pointer("/hubs").Get(d);
    if (hubs == nullptr || !hubs->IsObject()) {
        throw std::runtime_error("nhpushd's /v1/stats has no 'hubs'");
    }
    const auto h = hubs->FindMember(rapidjson::Value(rapidjson::StringRef(hub.data(), hub.size())));
    if (h == hubs->MemberEnd()) {
        throw std::runtime_error(fmt::format("nhpushd has no hub '{}' (see --hub)", hub));
    }
    const auto field = [&](const char* pointer) -> const rapidjson::Value& {
        const auto* v = rapidjson::Pointer(pointer).Get(h->value);
        if (v == nullptr) {
            throw std::runtime_error(fmt::format("nhpushd's /v1/stats has no hubs.{}{}", hub, pointer));
        }
        return *v;
    };
    hub_progress p;
    p.sent = field("/sent").GetUint64() + field("/sent_unexpected_status").GetUint64();
    for (const auto& [reason, count] : field("/failed").GetObject()) {
        p.failed[reason.GetString()] = count.GetUint64();
    }
    const auto& buckets = field("/latency_seconds/bucket_counts");
    if (!buckets.IsArray() || buckets.Size() != p.latency_buckets.size()) {
        throw std::runtime_error("nhpushd's latency histogram has other buckets than this nhpush-bench's");
    }
    for (rapidjson::SizeType i = 0; i < buckets.Size(); ++i) {
        p.latency_buckets[i] = buckets[i].GetUint64();
    }
    return p;
}

hub_progress operator-(const hub_progress& after, const hub_progress& before) {
    hub_progress d = after;
    d.sent -= before.sent;
    for (auto& [reason, count] : d.failed) {
        const auto b = before.failed.find(reason);
        count -= b == before.failed.end() ? 0 : b->second;
    }
    std::erase_if(d.failed, [](const auto& entry) { return entry.second == 0; });
    for (std::size_t i = 0; i < d.latency_buckets.size(); ++i) {
        d.latency_buckets[i] -= before.latency_buckets[i];
    }
    return d;
}

latency_summary estimate_latency(const hub_progress& p) {
    sender_stats_snapshot s;
    s.latency_buckets = p.latency_buckets;
    const auto ms = [&](double q) { return metrics::latency_quantile(s, q) * 1000; };
    return {ms(0.5), ms(0.9), ms(0.99), ms(1.0)};
}

}  // namespace nhpush::bench
