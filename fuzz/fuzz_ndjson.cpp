// Fuzzes the NDJSON batch parser (daemon/api/submission.hpp, submission_parser::parse_ndjson): every
// non-blank line is accepted or rejected exactly once, line numbers rise and stay within the body, and
// the batch answer is valid JSON.

#include "fuzz_check.hpp"

#include "api/submission.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using nhpush::fuzz::fixed_now;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nhpush::api::submission_parser parser({"main", "other"});
    std::string body(reinterpret_cast<const char*>(data), size);
    const auto lines = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n')) + 1;
    auto batch = parser.parse_ndjson(body, fixed_now);

    std::vector<std::size_t> seen;
    for (const auto& a : batch.accepted) {
        seen.push_back(a.line);
    }
    for (const auto& r : batch.rejected) {
        seen.push_back(r.line);
    }
    std::sort(seen.begin(), seen.end());
    NHPUSH_FUZZ_CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // once each
    NHPUSH_FUZZ_CHECK(seen.empty() || (seen.front() >= 1 && seen.back() <= lines));

    std::vector<nhpush::api::accepted_line> ids;
    for (const auto& a : batch.accepted) {
        ids.push_back({a.line, "id-" + std::to_string(a.line)});
    }
    const auto answer = nhpush::api::render_batch_answer(ids, batch.rejected);
    rapidjson::Document doc;
    doc.Parse(answer.data(), answer.size());
    NHPUSH_FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
    return 0;
}
