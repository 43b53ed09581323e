// Fuzzes the submission API's notification-object parser (daemon/submission/submission.hpp,
// submission_parser::parse): any bytes are either a submission or an api_error, never a crash; an
// accepted object names a configured hub and holds a notification prepare_notification accepts; an
// error renders as a JSON error body.

#include "fuzz_check.hpp"

#include "submission/submission.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>

using nhpush::fuzz::fixed_now;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A fresh parser per input, so that a crash replays from its input alone.
    nhpush::api::submission_parser parser({"main", "other"});
    std::string body(reinterpret_cast<const char*>(data), size);
    auto result = parser.parse(body, fixed_now);
    if (auto* s = std::get_if<nhpush::api::submission>(&result)) {
        NHPUSH_FUZZ_CHECK(s->hub == "main" || s->hub == "other");
        NHPUSH_FUZZ_CHECK(s->client_id.size() <= nhpush::api::max_client_id_bytes);
        // Already validated and completed: validating again finds nothing.
        auto again = s->notification;
        NHPUSH_FUZZ_CHECK(!nhpush::prepare_notification(again, fixed_now));
    } else {
        const auto& error = std::get<nhpush::api::api_error>(result);
        const auto text = nhpush::api::render_error_body(error);
        rapidjson::Document doc;
        doc.Parse(text.data(), text.size());
        NHPUSH_FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
    }
    return 0;
}
