// Fuzzes the NDJSON batch parser (daemon/submission/submission.hpp, submission_parser::parse_ndjson_lines)
// and the batch answer (daemon/api/batch_answer.hpp): every non-blank line is handed over exactly once,
// in rising order and within the body; the answer is valid JSON, counts every line, and lists at most
// max_listed_rejected_lines rejected lines in full.

#include "fuzz_check.hpp"

#include "api/batch_answer.hpp"
#include "submission/submission.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

using nhpush::fuzz::fixed_now;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nhpush::api::submission_parser parser({"main", "other"});
    std::string body(reinterpret_cast<const char*>(data), size);
    const auto lines = static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n')) + 1;

    nhpush::api::batch_answer answer;
    std::size_t previous_line = 0;
    parser.parse_ndjson_lines(body, fixed_now, [&](std::size_t line, auto& result) {
        NHPUSH_FUZZ_CHECK(line > previous_line && line <= lines);  // once each, in order
        previous_line = line;
        if (std::holds_alternative<nhpush::api::submission>(result)) {
            answer.accept(line, "id-" + std::to_string(line));
        } else {
            answer.reject(line, std::move(std::get<nhpush::api::api_error>(result)));
        }
    });
    const auto accepted = answer.accepted_count();
    const auto rejected = answer.rejected_count();
    const auto text = answer.finish();

    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    NHPUSH_FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
    NHPUSH_FUZZ_CHECK(doc.HasMember("accepted") && doc["accepted"].IsArray());
    NHPUSH_FUZZ_CHECK(doc["accepted"].Size() == accepted);
    NHPUSH_FUZZ_CHECK(doc.HasMember("rejected") && doc["rejected"].IsArray());
    NHPUSH_FUZZ_CHECK(doc["rejected"].Size() == std::min(rejected, nhpush::api::max_listed_rejected_lines));
    NHPUSH_FUZZ_CHECK(doc.HasMember("rejected_count") && doc["rejected_count"].GetUint64() == rejected);
    return 0;
}
