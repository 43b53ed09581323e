// Micro-benchmarks of nhpushd's submission parsing (JSON object to validated notification), one
// object and an NDJSON batch of 100, in nanoseconds per operation.

#include "submission/submission.hpp"

#include <benchmark/benchmark.h>

namespace {

const std::string submission_200_bytes =
    R"({"hub":"main","format":"apple","payload":{"aps":{"alert":")" + std::string(150, 'x') +
    R"("}},"tags":"(sports || news) && !muted","headers":{"apns-priority":"10"}})";

void parse_json_submission(benchmark::State& state) {
    nhpush::api::submission_parser parser({"main"});
    const auto now = std::chrono::system_clock::now();
    std::string body;
    for (auto _ : state) {
        body = submission_200_bytes;  // parsed in place, so a fresh copy each time (about 20 ns)
        benchmark::DoNotOptimize(parser.parse(body, now));
    }
}
BENCHMARK(parse_json_submission);

void parse_ndjson_batch_of_100(benchmark::State& state) {
    nhpush::api::submission_parser parser({"main"});
    const auto now = std::chrono::system_clock::now();
    std::string batch;
    for (int i = 0; i < 100; ++i) {
        batch += submission_200_bytes + "\n";
    }
    std::string body;
    for (auto _ : state) {
        body = batch;
        benchmark::DoNotOptimize(parser.parse_ndjson(body, now));
    }
    state.SetItemsProcessed(state.iterations() * 100);  // items/s: notifications a second
}
BENCHMARK(parse_ndjson_batch_of_100);

}  // namespace
