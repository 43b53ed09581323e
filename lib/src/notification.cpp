#include "nhpush/notification.hpp"

#include "nhpush/header_field.hpp"

#include "detail/text.hpp"
#include "detail/xml_document.hpp"

#include <fmt/format.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <array>

namespace nhpush {
namespace {

using detail::iequals;

constexpr std::string_view json_content_type = "application/json;charset=utf-8";

struct format_info {
    notification_format format;
    std::string_view name;
    std::string_view deprecation;
};

constexpr std::array<format_info, std::size(all_formats)> formats{{
    {notification_format::template_, "template", ""},
    {notification_format::apple, "apple", ""},
    {notification_format::fcmv1, "fcmv1", ""},
    {notification_format::gcm,
     "gcm",
     "format 'gcm' (legacy FCM) is deprecated: Google retired the legacy FCM API in June 2024; use 'fcmv1'"},
    {notification_format::windows, "windows", ""},
    {notification_format::windowsphone,
     "windowsphone",
     "format 'windowsphone' (MPNS) is deprecated: Microsoft no longer supports MPNS"},
    {notification_format::adm, "adm", ""},
    {notification_format::baidu, "baidu", "format 'baidu' is marked deprecated by Microsoft"},
    {notification_format::browser, "browser", ""},
    {notification_format::xiaomi, "xiaomi", ""},
}};

const format_info& info(notification_format f) {
    return formats[static_cast<std::size_t>(f)];
}

constexpr std::string_view apns_push_types[] = {"alert",
                                                "background",
                                                "voip",
                                                "complication",
                                                "fileprovider",
                                                "mdm",
                                                "location",
                                                "liveactivity",
                                                "pushtotalk"};
constexpr std::string_view wns_types[] = {"wns/toast", "wns/tile", "wns/badge", "wns/raw"};

template <class Range>
bool contains(const Range& range, std::string_view value) {
    return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

validation_error header_error(std::string_view name, std::string message) {
    return {fmt::format("headers.{}", name), std::move(message)};
}

// Called after check_header_fields: names are tokens and values hold no control bytes, so the
// messages below may quote them.
std::optional<validation_error> check_known_header_value(const header& h) {
    std::int64_t number = 0;
    if (iequals(h.name, "ServiceBusNotification-ApnsExpiry")) {
        return header_error(h.name,
                            "unknown header; the service's name is ServiceBusNotification-Apns-Expiry");
    }
    if (iequals(h.name, "apns-priority") && h.value != "5" && h.value != "10") {
        return header_error(h.name, fmt::format("apns-priority must be 5 or 10, not '{}'", h.value));
    }
    if (iequals(h.name, "apns-push-type") && !contains(apns_push_types, h.value)) {
        return header_error(
            h.name,
            fmt::format("apns-push-type '{}' is not one of: {}", h.value, fmt::join(apns_push_types, ", ")));
    }
    if (iequals(h.name, "apns-expiration") && !detail::parse_decimal(h.value, number)) {
        return header_error(h.name, fmt::format("apns-expiration must be UNIX seconds, not '{}'", h.value));
    }
    if (iequals(h.name, "ServiceBusNotification-Apns-Expiry") && !parse_rfc3339(h.value)) {
        return header_error(
            h.name, fmt::format("'{}' is not an ISO-8601 time such as 2026-07-16T19:20:00Z", h.value));
    }
    if (iequals(h.name, "X-WNS-Type") && !contains(wns_types, h.value)) {
        return header_error(
            h.name, fmt::format("X-WNS-Type '{}' is not one of: {}", h.value, fmt::join(wns_types, ", ")));
    }
    return std::nullopt;
}

std::optional<validation_error> check_headers(const notification& n) {
    for (std::size_t i = 0; i < n.headers.size(); ++i) {
        const auto& h = n.headers[i];
        for (std::size_t j = 0; j < i; ++j) {
            if (iequals(n.headers[j].name, h.name)) {
                return header_error(h.name, "header given twice");
            }
        }
        if (auto e = check_known_header_value(h)) {
            return e;
        }
    }
    return std::nullopt;
}

bool is_wns_raw(const notification& n) {
    const auto* type = find_header(n, "X-WNS-Type");
    return type != nullptr && *type == "wns/raw";
}

std::optional<validation_error> parse_xml_payload(const notification& n,
                                                  std::string_view what,
                                                  pugi::xml_document& doc) {
    if (auto problem = detail::parse_xml_document(n.payload, doc)) {
        return validation_error{"payload",
                                fmt::format("a {} payload is not well-formed XML: {}", what, *problem)};
    }
    return std::nullopt;
}

std::optional<validation_error> prepare_windows(notification& n) {
    if (is_wns_raw(n)) {
        if (n.payload.size() > notification_limits::max_wns_raw_bytes) {
            return validation_error{"payload",
                                    fmt::format("a wns/raw payload is {} bytes; WNS allows {}",
                                                n.payload.size(),
                                                notification_limits::max_wns_raw_bytes)};
        }
        return std::nullopt;
    }
    pugi::xml_document doc;
    if (auto e = parse_xml_payload(n, "windows toast, tile or badge", doc)) {
        e->message += " (to send other bytes, set X-WNS-Type: wns/raw)";
        return e;
    }
    if (find_header(n, "X-WNS-Type") == nullptr) {
        const std::string_view root = doc.document_element().name();
        if (root != "toast" && root != "tile" && root != "badge") {
            return validation_error{"headers.X-WNS-Type",
                                    "X-WNS-Type is required for windows unless the payload's XML root is "
                                    "<toast>, <tile> or <badge>"};
        }
        n.headers.push_back({"X-WNS-Type", fmt::format("wns/{}", root)});
    }
    return std::nullopt;
}

// MPNS headers as the Python sample sets them, from the element under <wp:Notification>.
std::optional<validation_error> prepare_windowsphone(notification& n) {
    pugi::xml_document doc;
    if (auto e = parse_xml_payload(n, "windowsphone", doc)) {
        return e;
    }
    if (find_header(n, "X-WindowsPhone-Target") != nullptr) {
        return std::nullopt;
    }
    const auto root = doc.document_element();
    if (detail::child_element(root, "Toast")) {
        n.headers.push_back({"X-WindowsPhone-Target", "toast"});
        n.headers.push_back({"X-NotificationClass", "2"});
    } else if (detail::child_element(root, "Tile")) {
        n.headers.push_back({"X-WindowsPhone-Target", "tile"});
        n.headers.push_back({"X-NotificationClass", "1"});
    } else {
        return validation_error{
            "headers.X-WindowsPhone-Target",
            "X-WindowsPhone-Target is required unless the payload has <wp:Toast> or <wp:Tile>"};
    }
    return std::nullopt;
}

// Checks the shape of a JSON payload while RapidJSON's SAX reader scans it: no document is built,
// so validation allocates nothing on the hot path.
class json_payload_checker : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, json_payload_checker> {
public:
    explicit json_payload_checker(notification_format f) : format_(f) {}

    bool Default() { return value(false); }
    bool String(const char*, rapidjson::SizeType, bool) { return value(true); }
    bool StartObject() { return open(true); }
    bool StartArray() { return open(false); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }
    bool Key(const char* s, rapidjson::SizeType len, bool) {
        if (depth_ == 1) {
            key_.assign(s, len);
        }
        return true;
    }

    bool saw_message_object() const { return saw_message_object_; }
    std::optional<validation_error>& problem() { return problem_; }

private:
    bool fail(validation_error e) {
        problem_ = std::move(e);
        return false;
    }

    bool root_must_be_object() {
        return fail(
            {"payload", fmt::format("payload for format '{}' must be a JSON object", to_string(format_))});
    }

    // A value directly under the root of a template must be a string.
    bool value(bool is_string) {
        if (depth_ == 0) {
            return root_must_be_object();
        }
        if (depth_ == 1 && format_ == notification_format::template_ && !is_string) {
            return fail({fmt::format("payload.{}", key_), "template properties must be strings"});
        }
        return true;
    }

    bool open(bool is_object) {
        if (depth_ == 0 && !is_object) {
            return root_must_be_object();
        }
        if (depth_ == 1) {
            if (!value(false)) {
                return false;
            }
            saw_message_object_ = saw_message_object_ || (is_object && key_ == "message");
        }
        ++depth_;
        return true;
    }

    bool close() {
        --depth_;
        return true;
    }

    notification_format format_;
    int depth_ = 0;
    std::string key_;
    bool saw_message_object_ = false;
    std::optional<validation_error> problem_;
};

std::optional<validation_error> check_json_payload(const notification& n) {
    if (n.payload.find('\0') != std::string::npos) {
        return validation_error{"payload", "payload contains a NUL byte"};
    }
    json_payload_checker checker(n.format);
    rapidjson::Reader reader;
    rapidjson::StringStream stream(n.payload.c_str());
    // Iterative: a deeply nested payload cannot exhaust the stack.
    if (reader.Parse<rapidjson::kParseIterativeFlag>(stream, checker).IsError()) {
        if (checker.problem()) {
            return std::move(checker.problem());
        }
        return validation_error{"payload",
                                fmt::format("payload for format '{}' is not valid JSON (error at byte {})",
                                            to_string(n.format),
                                            reader.GetErrorOffset())};
    }
    if (n.format == notification_format::fcmv1 && !checker.saw_message_object()) {
        return validation_error{"payload", "an fcmv1 payload must be {\"message\":{…}}"};
    }
    if (n.format == notification_format::apple &&
        n.payload.size() > notification_limits::max_apns_payload_bytes) {
        return validation_error{"payload",
                                fmt::format("an apple payload is {} bytes; APNs allows {}",
                                            n.payload.size(),
                                            notification_limits::max_apns_payload_bytes)};
    }
    return std::nullopt;
}

std::optional<validation_error> check_payload(notification& n) {
    if (n.payload.empty()) {
        return validation_error{"payload", "payload is empty"};
    }
    if (n.payload.size() > notification_limits::max_body_bytes) {
        return validation_error{"payload",
                                fmt::format("payload is {} bytes; Notification Hubs allows {}",
                                            n.payload.size(),
                                            notification_limits::max_body_bytes)};
    }
    switch (n.format) {
        case notification_format::windows:
            return prepare_windows(n);
        case notification_format::windowsphone:
            return prepare_windowsphone(n);
        default:
            return check_json_payload(n);
    }
}

std::optional<validation_error> check_targeting(const notification& n,
                                                std::chrono::system_clock::time_point now) {
    const bool batch = !n.device_handles.empty();
    const bool direct = !n.device_handle.empty();
    if (batch || direct) {
        const char* field = batch ? "device_handles" : "device_handle";
        if (batch && direct) {
            return validation_error{"device_handle", "give device_handle or device_handles, not both"};
        }
        if (!n.tags.empty()) {
            return validation_error{field, "a direct send goes to device handles; it cannot also have tags"};
        }
        if (n.test) {
            return validation_error{"test",
                                    "test sends are for tag and broadcast sends only, not direct sends"};
        }
        if (n.schedule_at) {
            return validation_error{"schedule_at", "scheduled sends go to tags; they cannot be direct sends"};
        }
    }
    if (batch) {
        if (n.device_handles.size() > notification_limits::max_batch_handles) {
            return validation_error{"device_handles",
                                    fmt::format("{} device handles; a batch allows at most {}",
                                                n.device_handles.size(),
                                                notification_limits::max_batch_handles)};
        }
        for (std::size_t i = 0; i < n.device_handles.size(); ++i) {
            if (n.device_handles[i].empty()) {
                return validation_error{fmt::format("device_handles[{}]", i), "device handle is empty"};
            }
        }
    }
    if (!n.tags.empty()) {
        if (auto e = validate_tag_expression(n.tags)) {
            return e;
        }
    }
    if (n.schedule_at) {
        if (n.test) {
            return validation_error{"test", "a scheduled send cannot be a test send"};
        }
        if (*n.schedule_at < now - std::chrono::minutes(1)) {
            return validation_error{"schedule_at", "schedule time is in the past"};
        }
        if (*n.schedule_at > now + notification_limits::max_schedule_ahead) {
            return validation_error{"schedule_at", "schedule time is more than 7 days ahead"};
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(notification_format f) noexcept {
    return info(f).name;
}

std::optional<notification_format> parse_format(std::string_view name) noexcept {
    for (const auto& f : formats) {
        if (f.name == name) {
            return f.format;
        }
    }
    return std::nullopt;
}

std::string_view deprecation_notice(notification_format f) noexcept {
    return info(f).deprecation;
}

const std::string* find_header(const notification& n, std::string_view name) noexcept {
    for (const auto& h : n.headers) {
        if (iequals(h.name, name)) {
            return &h.value;
        }
    }
    return nullptr;
}

std::string_view content_type_of(const notification& n) noexcept {
    switch (n.format) {
        case notification_format::windows: {
            const auto* type = find_header(n, "X-WNS-Type");
            return type != nullptr && *type == "wns/raw" ? "application/octet-stream" : "application/xml";
        }
        case notification_format::windowsphone:
            return "application/xml;charset=utf-8";
        default:
            return json_content_type;
    }
}

std::optional<validation_error> prepare_notification(notification& n,
                                                     std::chrono::system_clock::time_point now) {
    // The bytes and lengths of every header first: later messages may then quote the values.
    if (auto e = check_header_fields(n)) {
        return e;
    }
    if (auto e = check_headers(n)) {
        return e;
    }
    if (auto e = check_targeting(n, now)) {
        return e;
    }
    if (auto e = check_payload(n)) {
        return e;
    }
    // The payload step may have added X-WNS-Type or the two MPNS headers.
    return check_platform_header_count(n.headers.size());
}

}  // namespace nhpush
