#include "api/result_json.hpp"

#include "shared/json_output.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

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
        if (r.scheduled) {
            write_key(w, "scheduled");
            w.Bool(true);
        }
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

// ---- the notification's life: cancel, details, dead letters ----

std::string render_cancelled(std::string_view id, const hubs::result_record& r, cancelled_where where) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_field(w, "id", id);
    write_field(w, "hub", r.hub);
    write_field(w, "status", "failed");
    write_field(w, "reason", "cancelled");
    write_field(w, "cancelled", where == cancelled_where::queue ? "queue" : "hub");
    write_field(w, "notification_id", r.notification_id);
    w.EndObject();
    return out;
}

namespace {

/// `EnqueueTime` → `enqueue_time`, `PnsErrorDetailsUri` → `pns_error_details_uri`.
std::string snake_case(std::string_view name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (std::isupper(c) && i > 0 && !std::isupper(static_cast<unsigned char>(name[i - 1]))) {
            out.push_back('_');
        }
        out.push_back(static_cast<char>(std::tolower(c)));
    }
    return out;
}

bool is_nil(const pugi::xml_node& n) {
    return std::string_view(n.attribute("i:nil").value()) == "true";
}

/// `<Outcome><Name>Success</Name><Count>3</Count></Outcome>…` → `{"Success":3,…}`.
void write_outcome_counts(json_writer& w, const pugi::xml_node& counts) {
    w.StartObject();
    for (const auto& outcome : counts.children("Outcome")) {
        write_key(w, outcome.child_value("Name"));
        const std::string_view text = outcome.child_value("Count");
        long long n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc{} && end == text.data() + text.size()) {
            w.Int64(n);
        } else {
            write_string(w, text);
        }
    }
    w.EndObject();
}

}  // namespace

std::optional<std::string> render_outcome_details(std::string_view id,
                                                  const hubs::result_record& r,
                                                  std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) {
        return std::nullopt;
    }
    const auto details = doc.child("NotificationDetails");
    if (!details) {
        return std::nullopt;
    }
    constexpr std::string_view counts_suffix = "OutcomeCounts";
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_field(w, "id", id);
    write_field(w, "hub", r.hub);
    const auto is_counts = [&](std::string_view name) { return name.ends_with(counts_suffix); };
    for (const auto& child : details.children()) {
        const std::string_view name = child.name();
        if (child.type() == pugi::node_element && !is_nil(child) && !is_counts(name) &&
            name != "NotificationId") {
            write_field(w, snake_case(name), child.text().get());
        }
    }
    write_key(w, "outcome_counts");
    w.StartObject();
    for (const auto& child : details.children()) {
        const std::string_view name = child.name();
        if (child.type() == pugi::node_element && !is_nil(child) && is_counts(name)) {
            // ApnsOutcomeCounts → "apns", FcmV1OutcomeCounts → "fcmv1".
            std::string platform(name.substr(0, name.size() - counts_suffix.size()));
            std::transform(platform.begin(), platform.end(), platform.begin(), [](unsigned char c) {
                return static_cast<char>(std::tolower(c));
            });
            write_key(w, platform);
            write_outcome_counts(w, child);
        }
    }
    w.EndObject();
    write_field(w, "notification_id", details.child_value("NotificationId"));
    w.EndObject();
    return out;
}

std::string render_dead_letters(const spool::dead_letter_page& page, const spool::dead_letters& store) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_key(w, "dead_letters");
    w.StartArray();
    for (const auto& letter : page.letters) {
        // The file's own line: the submission embedded as JSON, the fields named as in the file.
        auto line = spool::encode_line(letter);
        line.pop_back();
        w.RawValue(line.data(), line.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    write_key(w, "more");
    w.Bool(page.more);
    if (page.more && !page.letters.empty()) {
        write_field(w, "next_after", page.letters.back().id);
    }
    write_key(w, "dropped");
    w.Uint64(store.dropped());
    write_key(w, "file_bytes");
    w.Uint64(store.size_bytes());
    write_key(w, "max_bytes");
    w.Uint64(store.max_bytes());
    w.EndObject();
    return out;
}

}  // namespace nhpush::api
