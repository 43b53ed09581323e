#include "submission/api_error.hpp"

#include "shared/json_output.hpp"

#include <array>

namespace nhpush::api {
namespace {

struct code_info {
    api_errc code;
    std::string_view name;
    unsigned http_status;
};

constexpr std::array<code_info, api_errc_count> codes{{
    {api_errc::invalid_json, "invalid_json", 400},
    {api_errc::unknown_field, "unknown_field", 400},
    {api_errc::invalid_field, "invalid_field", 400},
    {api_errc::missing_field, "missing_field", 400},
    {api_errc::unknown_format, "unknown_format", 400},
    {api_errc::unknown_hub, "unknown_hub", 400},
    {api_errc::payload_too_large, "payload_too_large", 413},
    {api_errc::invalid_payload, "invalid_payload", 400},
    {api_errc::invalid_tags, "invalid_tags", 400},
    {api_errc::invalid_header, "invalid_header", 400},
    {api_errc::bad_request, "bad_request", 400},
    {api_errc::unsupported_media_type, "unsupported_media_type", 415},
    {api_errc::body_too_large, "body_too_large", 413},
    {api_errc::headers_too_large, "headers_too_large", 431},
    {api_errc::not_found, "not_found", 404},
    {api_errc::method_not_allowed, "method_not_allowed", 405},
    {api_errc::queue_full, "queue_full", 503},
    {api_errc::shutting_down, "shutting_down", 503},
    {api_errc::duplicate_id, "duplicate_id", 409},
    {api_errc::spool_unavailable, "spool_unavailable", 503},
    {api_errc::spool_off, "spool_off", 404},
    {api_errc::cannot_cancel, "cannot_cancel", 409},
    {api_errc::hub_error, "hub_error", 502},
}};

constexpr bool in_declaration_order() {
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (static_cast<std::size_t>(codes[i].code) != i) {
            return false;
        }
    }
    return true;
}
static_assert(in_declaration_order(), "codes[] must list api_errc in declaration order");

const code_info& info(api_errc code) {
    return codes[static_cast<std::size_t>(code)];
}

}  // namespace

std::string_view to_string(api_errc code) noexcept {
    return info(code).name;
}

unsigned http_status_of(api_errc code) noexcept {
    return info(code).http_status;
}

std::string render_error_body(const api_error& error) {
    std::string body;
    body.reserve(64 + error.message.size() + error.field.size());
    shared::string_output out{body};
    shared::json_writer w(out);
    w.StartObject();
    shared::write_key(w, "error");
    w.StartObject();
    shared::write_key(w, "code");
    shared::write_string(w, to_string(error.code));
    shared::write_key(w, "message");
    shared::write_string(w, error.message);
    shared::write_key(w, "field");
    shared::write_string(w, error.field);
    w.EndObject();
    w.EndObject();
    return body;
}

}  // namespace nhpush::api
