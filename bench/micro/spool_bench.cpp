// Micro-benchmarks of the spool (daemon/spool/): what one notification costs it, accepted and then
// final, in nanoseconds, with fsync = "never" (the CPU and the write(2) calls, no sync); and a
// record's framing alone. The files go to a temporary directory on the machine's disk.
#include "spool/record.hpp"
#include "spool/spool.hpp"

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <filesystem>
#include <random>

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

void BM_spool_accept_then_final(benchmark::State& state) {
    const auto dir =
        std::filesystem::temp_directory_path() / fmt::format("nhpush-spool-bench-{}", std::random_device{}());
    {
        spool s({.dir = dir.string(), .fsync = fsync_mode::never, .memory_window = 1'000'000});
        s.recover([](const auto&) {}, [](const auto&) {});
        s.start([](handoff&&) {});
        std::uint64_t n = 0;
        for (auto _ : state) {
            const auto r = sample(n++);
            const auto a = s.accept(r, false);
            s.finished({.id = r.id,
                        .hub = r.hub,
                        .segment = a.segment,
                        .sent = true,
                        .http_status = 201,
                        .attempts = 1});
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(n));
    }
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_spool_accept_then_final);

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
