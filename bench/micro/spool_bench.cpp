// Micro-benchmarks of the spool (daemon/spool/): what one notification costs it, accepted and then
// final, in nanoseconds, with fsync = "never" (the CPU and the write(2) calls, no sync); and a
// record's framing alone. The files go to a temporary directory on the machine's disk.
#include "spool/record.hpp"
#include "spool/spool.hpp"

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <random>
#include <vector>

namespace {

using namespace nhpush::spool;

accepted_record sample(std::uint64_t n) {
    return {
        .id = fmt::format("{:016x}", n),
        .hub = "main",
        .accepted_at_ms = 1'700'000'000'000,
        .deadline_ms = 1'700'001'800'000,
        .submission =
            R"({"hub":"main","format":"apple","payload":{"aps":{"alert":"A notification of about 300 bytes, )"
            R"(as the benchmarks send them"}},"tags":"sports || news","headers":{"apns-priority":"10"}})"};
}

/// A spool in a fresh temporary directory (fsync "never", every notification sent at once),
/// removed afterwards.
class scratch_spool {
public:
    scratch_spool()
        : dir_(std::filesystem::temp_directory_path() /
               fmt::format("nhpush-spool-bench-{}", std::random_device{}())) {
        spool_.emplace(
            spool_config{.dir = dir_.string(), .fsync = fsync_mode::never, .memory_window = 1'000'000});
        spool_->recover([](const auto&) {}, [](const auto&) {});
        spool_->start([](handoff&&) {});
    }
    ~scratch_spool() {
        spool_.reset();
        std::filesystem::remove_all(dir_);
    }
    spool& get() { return *spool_; }

private:
    std::filesystem::path dir_;
    std::optional<spool> spool_;
};

void BM_spool_accept_then_final(benchmark::State& state) {
    scratch_spool scratch;
    auto& s = scratch.get();
    std::uint64_t n = 0;
    for (auto _ : state) {
        const auto r = sample(n++);
        const auto a = s.accept(r, false);
        s.finished(final_fields{
            .id = r.id, .hub = r.hub, .segment = a.segment, .sent = true, .http_status = 201, .attempts = 1});
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_spool_accept_then_final);

// As nhpushd spools an NDJSON request: a group of 100 accepted in one write, then their final
// records (with the ids a hub gives), which the syncer writes together. Per notification.
void BM_spool_group_of_100(benchmark::State& state) {
    constexpr std::size_t group = 100;
    scratch_spool scratch;
    auto& s = scratch.get();
    std::uint64_t n = 0;
    std::vector<accepted_record> records(group);
    std::vector<intake> intakes(group);
    for (auto _ : state) {
        for (std::size_t i = 0; i < group; ++i) {
            records[i] = sample(n++);
            intakes[i] = {.record = fields_of(records[i])};
        }
        const auto admitted = s.accept(intakes);
        for (std::size_t i = 0; i < group; ++i) {
            s.finished(final_fields{.id = records[i].id,
                                    .hub = records[i].hub,
                                    .segment = admitted[i].segment,
                                    .sent = true,
                                    .http_status = 201,
                                    .attempts = 1,
                                    .notification_id = "6b3f5c1e-4a8d-4a51-9d0c-5f7c2e9a1b20",
                                    .tracking_id = "2f1c9a7e-3b4d-4e8f-a1c2-d3e4f5a6b7c8"});
        }
        s.write_finals();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(n));
}
BENCHMARK(BM_spool_group_of_100);

void BM_spool_encode_and_decode(benchmark::State& state) {
    const record r = sample(1);
    std::string framed;
    for (auto _ : state) {
        framed.clear();
        encode(r, framed);
        benchmark::DoNotOptimize(decode(framed));
    }
}
BENCHMARK(BM_spool_encode_and_decode);

}  // namespace
