#include "api/result_json.hpp"

#include "shared/json_output.hpp"

#include <fmt/format.h>

namespace nhpush::api {
namespace {

using shared::json_writer;
using shared::write_key;
using shared::write_string;

void write_field(json_writer& w, std::string_view key, std::string_view value) {
    if (!value.empty()) {
        write_key(w, key);
        write_string(w, value);
    }
}

void write_test_outcome(json_writer& w, const test_send_outcome& t) {
    write_key(w, "test_outcome");
    w.StartObject();
    write_key(w, "success");
    w.Int(t.success);
    write_key(w, "failure");
    w.Int(t.failure);
    write_key(w, "results");
    w.StartArray();
    for (const auto& r : t.results) {
        w.StartObject();
        write_field(w, "platform", r.platform);
        write_field(w, "registration_id", r.registration_id);
        write_field(w, "pns_handle", r.pns_handle);
        write_field(w, "outcome", r.outcome);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

void write_result_fields(json_writer& w,
                         std::string_view id,
                         const hubs::result_record& r,
                         const test_send_outcome* test) {
    write_field(w, "id", id);
    write_field(w, "hub", r.hub);
    write_field(w, "status", hubs::to_string(r.state));
    if (r.state != hubs::notification_state::queued) {
        write_field(w, "reason", r.reason);
        write_field(w, "notification_id", r.notification_id);
        write_field(w, "tracking_id", r.tracking_id);
        write_key(w, "attempts");
        w.Int(r.attempts);
        if (r.http_status != 0) {
            write_key(w, "http_status");
            w.Uint(r.http_status);
        }
        if (r.unexpected_status) {
            write_key(w, "unexpected_status");
            w.Bool(true);
        }
        write_field(w, "error_code", r.error_code);
        write_field(w, "error_detail", r.error_detail);
    }
    if (test != nullptr) {
        write_test_outcome(w, *test);
    }
}

}  // namespace

std::string render_accepted(std::string_view id) {
    std::string out;
    out.reserve(id.size() + 10);
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_key(w, "id");
    write_string(w, id);
    w.EndObject();
    return out;
}

std::string render_result(std::string_view id, const hubs::result_record& r, const test_send_outcome* test) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_result_fields(w, id, r, test);
    w.EndObject();
    return out;
}

std::string render_duplicate(std::string_view id, const hubs::result_record& r) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_result_fields(w, id, r, nullptr);
    write_key(w, "error");
    w.StartObject();
    write_field(w, "code", "duplicate_id");
    write_field(w, "message", duplicate_message(id, r));
    write_field(w, "field", "id");
    w.EndObject();
    w.EndObject();
    return out;
}

std::string duplicate_message(std::string_view id, const hubs::result_record& r) {
    return fmt::format(
        "id '{}' is already taken by a notification to hub {} that is {}; it is kept "
        "unchanged and nothing was queued",
        id,
        r.hub,
        hubs::to_string(r.state));
}

}  // namespace nhpush::api
