#include "nhpush/response.hpp"

#include "detail/text.hpp"
#include "detail/time_parse.hpp"
#include "detail/xml_document.hpp"

#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <array>

namespace nhpush {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono;

constexpr std::size_t max_detail_bytes = 512;

response_kind kind_of(unsigned status, bool has_retry_after) {
    if (status >= 200 && status < 300) {
        return response_kind::success;
    }
    switch (status) {
        case 403:
            return has_retry_after ? response_kind::retriable : response_kind::permanent;
        case 408:
        case 429:
            return response_kind::retriable;
        case 501:
        case 505:
            return response_kind::permanent;
        default:
            return status >= 500 && status < 600 ? response_kind::retriable : response_kind::permanent;
    }
}

// `Sun, 06 Nov 1994 08:49:37 GMT`, in whole seconds: years up to 9999 fit, where the nanoseconds
// of system_clock::time_point end in 2262.
std::optional<sys_seconds> parse_imf_fixdate(std::string_view s) {
    constexpr std::array<std::string_view, 12> months{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    detail::field_reader r{s};
    if (s.size() != 29 || s[3] != ',') {
        return std::nullopt;
    }
    r.pos = 5;
    int d = 0, y = 0, h = 0, mi = 0, se = 0;
    if (!r.number(2, d) || !r.literal(" ")) {
        return std::nullopt;
    }
    int mo = 0;
    for (std::size_t i = 0; i < months.size(); ++i) {
        if (r.literal(months[i])) {
            mo = static_cast<int>(i) + 1;
        }
    }
    if (mo == 0 || !r.literal(" ") || !r.number(4, y) || !r.literal(" ") || !r.number(2, h) ||
        !r.literal(":") || !r.number(2, mi) || !r.literal(":") || !r.number(2, se) || !r.literal(" GMT")) {
        return std::nullopt;
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) {
        return std::nullopt;
    }
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
}

// The root element of `body` if it is an XML document whose root has local name `name`.
pugi::xml_node xml_root(std::string_view body, std::string_view name, pugi::xml_document& doc) {
    // Most answers (every 201 without a test send) have no body: no parser for them.
    if (body.find('<') == std::string_view::npos || detail::parse_xml_document(body, doc)) {
        return {};
    }
    const auto root = doc.document_element();
    return detail::local_name(root) == name ? root : pugi::xml_node{};
}

void read_error_body(std::string_view body, hub_response& out) {
    if (body.empty()) {
        return;
    }
    pugi::xml_document doc;
    if (const auto error = xml_root(body, "Error", doc)) {
        out.error_code = detail::child_text(error, "Code");
        out.error_detail = detail::child_text(error, "Detail");
        return;
    }
    // Not NH's XML (a gateway's HTML or text): keep the start of it for a person to read.
    out.error_detail = std::string(detail::trim(body.substr(0, max_detail_bytes)));
}

// A URI reference without its query and fragment. (find_first_of("?#") calls memchr once a byte.)
std::string_view without_query(std::string_view ref) {
    const auto end = std::find_if(ref.begin(), ref.end(), [](char c) { return c == '?' || c == '#'; });
    return ref.substr(0, static_cast<std::size_t>(end - ref.begin()));
}

}  // namespace

std::optional<seconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
    // Anything longer means "a very long time"; the bound keeps every later sum far from overflow.
    constexpr seconds longest{999'999'999};
    constexpr std::size_t longest_digits = 9;
    value = detail::trim(value);
    const bool digits = !value.empty() &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
        std::int64_t delta = 0;
        if (value.size() > longest_digits || !detail::parse_decimal(value, delta)) {
            return longest;
        }
        return seconds{delta};
    }
    if (const auto when = parse_imf_fixdate(value)) {
        return std::clamp(*when - floor<seconds>(now), seconds{0}, longest);
    }
    return std::nullopt;
}

std::string notification_id_from_location(std::string_view location) {
    // Only the path's last segment is wanted, so the reference is split at its delimiters as
    // RFC 3986 appendix B does, not parsed whole: Boost.URL's parse_uri_reference took about 0.7 us
    // per send, some 6 % of nhpushd's CPU per notification. Boost.URL checks and decodes the segment.
    auto path = without_query(detail::trim(location));
    if (const auto colon = path.find(':');
        colon != std::string_view::npos && path.substr(0, colon).find('/') == std::string_view::npos) {
        path.remove_prefix(colon + 1);  // the scheme
    }
    if (path.starts_with("//")) {
        const auto slash = path.find('/', 2);
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);  // the authority
    }
    while (path.ends_with('/')) {
        path.remove_suffix(1);
    }
    const auto segment = boost::urls::make_pct_string_view(path.substr(path.rfind('/') + 1));
    return segment ? segment->decode() : std::string();
}

std::optional<test_send_outcome> parse_test_send_outcome(std::string_view xml) {
    pugi::xml_document doc;
    const auto root = xml_root(xml, "NotificationOutcome", doc);
    if (!root) {
        return std::nullopt;
    }
    test_send_outcome out;
    detail::parse_decimal(detail::trim(detail::child_text(root, "Success")), out.success);
    detail::parse_decimal(detail::trim(detail::child_text(root, "Failure")), out.failure);
    for (const auto& r : detail::child_element(root, "Results").children()) {
        if (detail::local_name(r) != "RegistrationResult") {
            continue;
        }
        out.results.push_back({detail::child_text(r, "ApplicationPlatform"),
                               detail::child_text(r, "PnsHandle"),
                               detail::child_text(r, "RegistrationId"),
                               detail::child_text(r, "Outcome")});
    }
    return out;
}

// Reads no field but detail::classified_fields': keep that list in step.
hub_response classify_response(const hub_response_message& res, system_clock::time_point now) {
    hub_response out;
    out.status = res.result_int();
    if (const auto it = res.find(http::field::retry_after); it != res.end()) {
        out.retry_after = parse_retry_after(it->value(), now);
    }
    out.kind = kind_of(out.status, out.retry_after.has_value());
    out.throttled = out.status == 429 || (out.status == 403 && out.retry_after);
    if (const auto it = res.find("TrackingId"); it != res.end()) {
        out.tracking_id = std::string(it->value());
    }
    if (out.kind == response_kind::success) {
        out.unexpected_success = out.status != 201;
        if (const auto it = res.find(http::field::location); it != res.end()) {
            out.notification_id = notification_id_from_location(it->value());
        }
        out.test_outcome = parse_test_send_outcome(res.body());
    } else {
        read_error_body(res.body(), out);
    }
    return out;
}

}  // namespace nhpush
