#include "submission/submission.hpp"

#include "shared/json_output.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace nhpush::api {
namespace {

using pool_allocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
using json_document = rapidjson::GenericDocument<rapidjson::UTF8<>, pool_allocator, pool_allocator>;
using json_value = json_document::ValueType;
// Its nesting stack comes from the parse's pool too.
using payload_writer =
    rapidjson::Writer<shared::string_output, rapidjson::UTF8<>, rapidjson::UTF8<>, pool_allocator>;

// In place: strings stay in the request buffer. Iterative: deep nesting cannot exhaust the stack.
constexpr unsigned parse_flags =
    rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

std::string_view view(const json_value& v) {
    return {v.GetString(), v.GetStringLength()};
}

std::string_view type_name(const json_value& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType:
            return "null";
        case rapidjson::kFalseType:
        case rapidjson::kTrueType:
            return "a boolean";
        case rapidjson::kObjectType:
            return "an object";
        case rapidjson::kArrayType:
            return "an array";
        case rapidjson::kStringType:
            return "a string";
        default:
            return "a number";
    }
}

api_error error(api_errc code, std::string field, std::string message) {
    return {code, std::move(message), std::move(field)};
}

api_error wrong_type(std::string field, std::string_view expected, const json_value& v) {
    auto message = fmt::format("{} must be {}, not {}", field, expected, type_name(v));
    return error(api_errc::invalid_field, std::move(field), std::move(message));
}

/// True if the JSON value nests deeper than `limit` (arrays and objects); stops early.
bool nests_deeper_than(const json_value& v, std::size_t limit) {
    if (!v.IsObject() && !v.IsArray()) {
        return false;
    }
    if (limit == 0) {
        return true;
    }
    if (v.IsArray()) {
        return std::any_of(
            v.Begin(), v.End(), [&](const json_value& e) { return nests_deeper_than(e, limit - 1); });
    }
    return std::any_of(
        v.MemberBegin(), v.MemberEnd(), [&](const auto& m) { return nests_deeper_than(m.value, limit - 1); });
}

/// The same for JSON text, by counting brackets outside strings; the text need not be valid.
bool text_nests_deeper_than(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                return true;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

bool is_json_format(notification_format f) {
    return f != notification_format::windows && f != notification_format::windowsphone;
}

/// A submission being filled in, field by field.
struct draft {
    submission out;
    const std::vector<std::string>& hub_names;
    std::string& scratch;  ///< reused serialization buffer; keeps its capacity between requests
    pool_allocator& pool;
};

using field_reader = std::optional<api_error> (*)(const json_value&, draft&);

std::optional<api_error> read_hub(const json_value& v, draft& d) {
    if (!v.IsString()) {
        return wrong_type("hub", "a string", v);
    }
    const auto name = view(v);
    if (std::find(d.hub_names.begin(), d.hub_names.end(), name) == d.hub_names.end()) {
        return error(
            api_errc::unknown_hub,
            "hub",
            fmt::format("unknown hub '{}'; configured hubs: {}", name, fmt::join(d.hub_names, ", ")));
    }
    d.out.hub.assign(name);
    return std::nullopt;
}

std::string format_names() {
    std::vector<std::string_view> names;
    for (const auto f : all_formats) {
        names.push_back(to_string(f));
    }
    return fmt::format("{}", fmt::join(names, ", "));
}

std::optional<api_error> read_format(const json_value& v, draft& d) {
    if (!v.IsString()) {
        return wrong_type("format", "a string", v);
    }
    const auto format = parse_format(view(v));
    if (!format) {
        return error(api_errc::unknown_format,
                     "format",
                     fmt::format("unknown format '{}'; formats: {}", view(v), format_names()));
    }
    d.out.notification.format = *format;
    return std::nullopt;
}

std::optional<api_error> read_payload(const json_value& v, draft& d) {
    auto& payload = d.out.notification.payload;
    if (v.IsString()) {
        payload.assign(view(v));  // the body exactly as given, never encoded again
        return std::nullopt;
    }
    if (!v.IsObject()) {
        return wrong_type("payload", "an object or a string", v);
    }
    if (nests_deeper_than(v, max_payload_depth)) {
        return error(api_errc::invalid_payload,
                     "payload",
                     fmt::format("payload nests deeper than {} levels", max_payload_depth));
    }
    // Serialized once into the reused buffer, then copied with its exact size: one allocation.
    d.scratch.clear();
    shared::string_output out{d.scratch};
    payload_writer writer(out, &d.pool, max_payload_depth + 1);
    v.Accept(writer);
    payload.assign(d.scratch);
    return std::nullopt;
}

bool is_single_tag(std::string_view tag) {
    return tag.find_first_of(" \t\r\n&|!()") == std::string_view::npos;
}

std::optional<api_error> read_tag_array(const json_value& v, draft& d) {
    if (v.Empty()) {
        return error(api_errc::invalid_tags, "tags", "tags is an empty array; leave tags out to broadcast");
    }
    std::vector<std::string> tags;  // not reserved from the client's count; at most 20 are valid
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        auto field = fmt::format("tags[{}]", i);
        if (!v[i].IsString()) {
            return wrong_type(std::move(field), "a string", v[i]);
        }
        const auto tag = view(v[i]);
        if (tag.empty()) {
            auto message = fmt::format("{} is empty", field);
            return error(api_errc::invalid_tags, std::move(field), std::move(message));
        }
        if (!is_single_tag(tag)) {
            auto message =
                fmt::format("{} '{}' is an expression; a tags array holds single tags", field, tag);
            return error(api_errc::invalid_tags, std::move(field), std::move(message));
        }
        tags.emplace_back(tag);
    }
    d.out.notification.tags = join_tags(std::move(tags));
    return std::nullopt;
}

std::optional<api_error> read_tags(const json_value& v, draft& d) {
    if (v.IsArray()) {
        return read_tag_array(v, d);
    }
    if (!v.IsString()) {
        return wrong_type("tags", "a string or an array of strings", v);
    }
    if (v.GetStringLength() == 0) {
        return error(api_errc::invalid_tags, "tags", "tags is empty; leave tags out to broadcast");
    }
    d.out.notification.tags.assign(view(v));
    return std::nullopt;
}

std::optional<api_error> check_device_handle(std::string field, const json_value& v) {
    if (!v.IsString()) {
        return wrong_type(std::move(field), "a string", v);
    }
    if (v.GetStringLength() == 0) {
        auto message = fmt::format("{} is empty", field);
        return error(api_errc::invalid_field, std::move(field), std::move(message));
    }
    // Its bytes and length are checked by the library's header gate, in prepare_notification.
    return std::nullopt;
}

std::optional<api_error> read_device_handle(const json_value& v, draft& d) {
    if (auto e = check_device_handle("device_handle", v)) {
        return e;
    }
    d.out.notification.device_handle.assign(view(v));
    return std::nullopt;
}

std::optional<api_error> read_device_handles(const json_value& v, draft& d) {
    if (!v.IsArray()) {
        return wrong_type("device_handles", "an array of strings", v);
    }
    if (v.Empty()) {
        return error(api_errc::invalid_field, "device_handles", "device_handles is an empty array");
    }
    if (v.Size() > notification_limits::max_batch_handles) {
        // Refused before copying: a body of short handles would otherwise take ~10 times its size.
        return error(api_errc::invalid_field,
                     "device_handles",
                     fmt::format("{} device handles; a batch allows at most {}",
                                 v.Size(),
                                 notification_limits::max_batch_handles));
    }
    auto& handles = d.out.notification.device_handles;
    handles.reserve(v.Size());  // at most max_batch_handles, checked above
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        if (auto e = check_device_handle(fmt::format("device_handles[{}]", i), v[i])) {
            return e;
        }
        handles.emplace_back(view(v[i]));
    }
    return std::nullopt;
}

std::optional<api_error> read_headers(const json_value& v, draft& d) {
    if (!v.IsObject()) {
        return wrong_type("headers", "an object of strings", v);
    }
    auto& headers = d.out.notification.headers;  // not reserved from the client's count
    for (const auto& m : v.GetObject()) {
        if (!m.value.IsString()) {
            return wrong_type(fmt::format("headers.{}", view(m.name)), "a string", m.value);
        }
        headers.push_back({std::string(view(m.name)), std::string(view(m.value))});
    }
    return std::nullopt;
}

std::optional<api_error> read_schedule_at(const json_value& v, draft& d) {
    if (!v.IsString()) {
        return wrong_type("schedule_at", "a string", v);
    }
    const auto at = parse_rfc3339(view(v));
    if (!at) {
        return error(
            api_errc::invalid_field,
            "schedule_at",
            fmt::format("schedule_at '{}' is not an RFC 3339 time such as 2026-05-01T12:00:00Z", view(v)));
    }
    d.out.notification.schedule_at = at;
    return std::nullopt;
}

std::optional<api_error> read_test(const json_value& v, draft& d) {
    if (!v.IsBool()) {
        return wrong_type("test", "a boolean", v);
    }
    d.out.notification.test = v.GetBool();
    return std::nullopt;
}

bool is_client_id_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_.:@~").find(c) != std::string_view::npos;
}

std::optional<api_error> read_id(const json_value& v, draft& d) {
    if (!v.IsString()) {
        return wrong_type("id", "a string", v);
    }
    const auto id = view(v);
    if (id.empty() || id.size() > max_client_id_bytes ||
        !std::all_of(id.begin(), id.end(), is_client_id_char)) {
        return error(api_errc::invalid_field,
                     "id",
                     fmt::format("id must be 1 to {} characters: letters, digits and - _ . : @ ~",
                                 max_client_id_bytes));
    }
    d.out.client_id.assign(id);
    return std::nullopt;
}

struct field_entry {
    std::string_view name;
    field_reader read;
};

// The first three are required; their positions are their bits in `seen`.
constexpr std::array<field_entry, 10> fields{{
    {"hub", read_hub},
    {"format", read_format},
    {"payload", read_payload},
    {"tags", read_tags},
    {"device_handle", read_device_handle},
    {"device_handles", read_device_handles},
    {"headers", read_headers},
    {"schedule_at", read_schedule_at},
    {"test", read_test},
    {"id", read_id},
}};
constexpr std::size_t required_fields = 3;

std::optional<api_error> read_fields(const json_value& root, draft& d) {
    unsigned seen = 0;
    for (const auto& m : root.GetObject()) {
        const auto name = view(m.name);
        const auto* entry =
            std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.name == name; });
        if (entry == fields.end()) {
            return error(api_errc::unknown_field, std::string(name), fmt::format("unknown field '{}'", name));
        }
        const unsigned bit = 1u << (entry - fields.begin());
        if ((seen & bit) != 0) {
            return error(api_errc::invalid_field, std::string(name), fmt::format("{} is given twice", name));
        }
        seen |= bit;
        if (auto e = entry->read(m.value, d)) {
            return e;
        }
    }
    for (std::size_t i = 0; i < required_fields; ++i) {
        if ((seen & (1u << i)) == 0) {
            return error(api_errc::missing_field,
                         std::string(fields[i].name),
                         fmt::format("{} is required", fields[i].name));
        }
    }
    return std::nullopt;
}

bool exceeds_size_limit(const notification& n) {
    using limits = notification_limits;
    const auto size = n.payload.size();
    if (size > limits::max_body_bytes) {
        return true;
    }
    if (n.format == notification_format::apple) {
        return size > limits::max_apns_payload_bytes;
    }
    const auto* wns_type = find_header(n, "X-WNS-Type");
    return n.format == notification_format::windows && wns_type != nullptr && *wns_type == "wns/raw" &&
           size > limits::max_wns_raw_bytes;
}

api_error from_validation_error(validation_error e, const notification& n) {
    auto code = api_errc::invalid_field;
    if (e.field == "tags") {
        code = api_errc::invalid_tags;
    } else if (e.field.starts_with("headers")) {
        code = api_errc::invalid_header;
    } else if (e.field.starts_with("payload")) {
        code = exceeds_size_limit(n) ? api_errc::payload_too_large : api_errc::invalid_payload;
    }
    return error(code, std::move(e.field), std::move(e.message));
}

std::optional<api_error> validate(notification& n, std::chrono::system_clock::time_point now) {
    // prepare_notification parses JSON payloads recursively: refuse deep nesting before it does.
    if (is_json_format(n.format) && text_nests_deeper_than(n.payload, max_payload_depth)) {
        return error(api_errc::invalid_payload,
                     "payload",
                     fmt::format("payload nests deeper than {} levels", max_payload_depth));
    }
    if (auto e = prepare_notification(n, now)) {
        return from_validation_error(std::move(*e), n);
    }
    return std::nullopt;
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

/// Memory reused by every parse: the DOM's values and the parser's stack.
struct submission_parser::state {
    static constexpr std::size_t value_bytes = 16'384;
    static constexpr std::size_t stack_bytes = 4'096;
    // The parse stack starts at half its buffer (the pool keeps a header there) and grows in place.
    static constexpr std::size_t initial_stack_bytes = stack_bytes / 2;
    std::unique_ptr<char[]> values = std::make_unique<char[]>(value_bytes);
    std::unique_ptr<char[]> stack = std::make_unique<char[]>(stack_bytes);
    std::string payload;  ///< where object payloads are serialized
};

submission_parser::submission_parser(std::vector<std::string> hub_names)
    : hub_names_(std::move(hub_names)), state_(std::make_unique<state>()) {}

submission_parser::~submission_parser() = default;
submission_parser::submission_parser(submission_parser&&) noexcept = default;
submission_parser& submission_parser::operator=(submission_parser&&) noexcept = default;

std::variant<submission, api_error> submission_parser::parse_in_place(
    char* text, std::size_t size, std::chrono::system_clock::time_point now) {
    // The in-place parser stops at NUL; anything after one would be silently ignored.
    if (std::memchr(text, '\0', size) != nullptr) {
        return error(api_errc::invalid_json, "", "invalid JSON: the text holds a NUL byte");
    }
    // Parsing in place overwrites the text: keep a copy first when the caller wants it (the spool).
    std::string original = keep_text_ ? std::string(text, size) : std::string();
    pool_allocator values(state_->values.get(), state::value_bytes);
    pool_allocator stack(state_->stack.get(), state::stack_bytes);
    json_document doc(&values, state::initial_stack_bytes, &stack);
    doc.ParseInsitu<parse_flags>(text);
    if (doc.HasParseError()) {
        return error(api_errc::invalid_json,
                     "",
                     fmt::format("invalid JSON at byte {}: {}",
                                 doc.GetErrorOffset(),
                                 rapidjson::GetParseError_En(doc.GetParseError())));
    }
    if (!doc.IsObject()) {
        return error(api_errc::invalid_json,
                     "",
                     fmt::format("a notification must be a JSON object, not {}", type_name(doc)));
    }
    draft d{{}, hub_names_, state_->payload, values};
    if (auto e = read_fields(doc, d)) {
        return std::move(*e);
    }
    if (auto e = validate(d.out.notification, now)) {
        return std::move(*e);
    }
    d.out.text = std::move(original);
    return std::move(d.out);
}

namespace {

// RapidJSON's UTF-8 validation takes a multi-byte sequence whole before it checks any byte of it, so
// a text that ends inside one is read up to three bytes past its end (found by fuzz_submission).
constexpr std::size_t utf8_read_ahead = 3;

/// Puts utf8_read_ahead NULs after the text; returns the text's own size.
std::size_t pad_for_in_place_parsing(std::string& body) {
    const auto size = body.size();
    body.append(utf8_read_ahead, '\0');
    return size;
}

}  // namespace

std::variant<submission, api_error> submission_parser::parse(std::string& body,
                                                             std::chrono::system_clock::time_point now) {
    const auto size = pad_for_in_place_parsing(body);
    return parse_in_place(body.data(), size, now);
}

void submission_parser::parse_ndjson_lines(std::string& body,
                                           std::chrono::system_clock::time_point now,
                                           const line_handler& on_line) {
    const auto body_size = pad_for_in_place_parsing(body);
    char* next = body.data();
    char* const end = next + body_size;
    for (std::size_t line = 1; next < end; ++line) {
        char* const begin = next;
        auto* newline = static_cast<char*>(std::memchr(begin, '\n', static_cast<std::size_t>(end - begin)));
        char* line_end = newline != nullptr ? newline : end;
        next = newline != nullptr ? newline + 1 : end;
        if (line_end > begin && line_end[-1] == '\r') {
            --line_end;
        }
        const auto size = static_cast<std::size_t>(line_end - begin);
        if (is_blank({begin, size})) {
            continue;
        }
        *line_end = '\0';  // at `end` this is the first byte of the padding
        auto result = parse_in_place(begin, size, now);
        on_line(line, result);
    }
}

ndjson_batch submission_parser::parse_ndjson(std::string& body, std::chrono::system_clock::time_point now) {
    ndjson_batch batch;
    parse_ndjson_lines(body, now, [&](std::size_t line, std::variant<submission, api_error>& result) {
        if (auto* accepted = std::get_if<submission>(&result)) {
            batch.accepted.push_back({line, std::move(*accepted)});
        } else {
            batch.rejected.push_back({line, std::move(std::get<api_error>(result))});
        }
    });
    return batch;
}

}  // namespace nhpush::api
