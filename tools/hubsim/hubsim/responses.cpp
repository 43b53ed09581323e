// NH answer bodies (nh-rest.md §4.2, §4.3, §5) and hubsim's notification ids.

#include "hubsim/responses.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>

#include <stdexcept>

namespace nhpush::hubsim {

using namespace std::chrono;

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void put_hex(char* out, std::uint64_t v, int digits) noexcept {
    for (int i = digits - 1; i >= 0; --i, v >>= 4) {
        out[i] = hex_digits[v & 0xf];
    }
}

std::size_t format_index(notification_format f) noexcept {
    for (std::size_t i = 0; i < std::size(all_formats); ++i) {
        if (all_formats[i] == f) {
            return i;
        }
    }
    return 0;
}

/// The `*OutcomeCounts` element of a platform; empty for template (no platform of its own).
std::string_view outcome_counts_element(notification_format f) noexcept {
    switch (f) {
        case notification_format::apple:
            return "ApnsOutcomeCounts";
        case notification_format::fcmv1:
            return "FcmV1OutcomeCounts";
        case notification_format::gcm:
            return "GcmOutcomeCounts";
        case notification_format::windows:
            return "WnsOutcomeCounts";
        case notification_format::windowsphone:
            return "MpnsOutcomeCounts";
        case notification_format::adm:
            return "AdmOutcomeCounts";
        case notification_format::baidu:
            return "BaiduOutcomeCounts";
        case notification_format::browser:
            return "BrowserOutcomeCounts";
        case notification_format::xiaomi:
            return "XiaomiOutcomeCounts";
        case notification_format::template_:
            return {};
    }
    return {};
}

constexpr std::string_view nh_namespaces =
    R"(xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" )"
    R"(xmlns:i="http://www.w3.org/2001/XMLSchema-instance")";

}  // namespace

id_generator::id_generator(std::string_view process_prefix, unsigned worker, std::uint64_t seed)
    : prefix_(fmt::format("{}{:04x}", process_prefix.substr(0, 12), worker & 0xffff)), rng_state_(seed) {
    id_.reserve(64);
}

std::string_view id_generator::next_notification_id(notification_format f, std::int64_t unix_seconds) {
    char seq[16];
    put_hex(seq, ++sequence_, 16);
    id_.assign(prefix_).append(seq, sizeof seq);
    fmt::format_to(std::back_inserter(id_), "-{}-{}", unix_seconds, format_index(f));
    return id_;
}

std::string_view id_generator::next_tracking_id() {
    const auto hi = splitmix64(rng_state_);
    const auto lo = splitmix64(rng_state_);
    // A version-4 GUID layout: 8-4-4-4-12.
    char hex[32];
    put_hex(hex, hi, 16);
    put_hex(hex + 16, lo, 16);
    hex[12] = '4';
    hex[16] = hex_digits[8 + (lo >> 62)];
    std::size_t j = 0;
    for (std::size_t i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) {
            guid_[j++] = '-';
        }
        guid_[j++] = hex[i];
    }
    return {guid_, sizeof guid_};
}

std::string make_process_prefix() {
    unsigned char bytes[6];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("OpenSSL's random generator failed");
    }
    std::string out(12, '0');
    for (std::size_t i = 0; i < sizeof bytes; ++i) {
        put_hex(out.data() + 2 * i, bytes[i], 2);
    }
    return out;
}

std::optional<id_info> parse_notification_id(std::string_view id, std::string_view process_prefix) {
    // {32 hex}-{digits}-{digit}
    if (id.size() < 36 || !id.starts_with(process_prefix) || id[32] != '-') {
        return std::nullopt;
    }
    const auto rest = id.substr(33);
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash > 15 || rest.size() != dash + 2) {
        return std::nullopt;
    }
    std::int64_t t = 0;
    for (char c : rest.substr(0, dash)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        t = t * 10 + (c - '0');
    }
    const auto index = static_cast<std::size_t>(rest.back() - '0');
    if (index >= std::size(all_formats)) {
        return std::nullopt;
    }
    return id_info{all_formats[index], t};
}

std::string_view reason_word(unsigned status) noexcept {
    switch (status) {
        case 400:
            return "BadRequest";
        case 401:
            return "Unauthorized";
        case 403:
            return "QuotaExceeded";
        case 404:
            return "NotFound";
        case 405:
            return "MethodNotAllowed";
        case 413:
            return "RequestEntityTooLarge";
        case 429:
            return "Throttled";
        case 500:
            return "InternalServerError";
        case 503:
            return "ServiceUnavailable";
        default:
            return "Error";
    }
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string dotnet_timestamp(system_clock::time_point t) {
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    const auto h = hms.hours().count();
    return fmt::format("{}/{}/{} {}:{:02}:{:02} {}",
                       static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()),
                       static_cast<int>(ymd.year()),
                       h % 12 == 0 ? 12 : h % 12,
                       hms.minutes().count(),
                       hms.seconds().count(),
                       h < 12 ? "AM" : "PM");
}

std::string error_body(unsigned status,
                       std::string_view reason,
                       std::string_view message,
                       std::string_view tracking_id,
                       system_clock::time_point now) {
    return fmt::format("<Error><Code>{}</Code><Detail>{}: {}.TrackingId:{},TimeStamp:{}</Detail></Error>",
                       status,
                       reason,
                       xml_escape(message.ends_with('.') ? message.substr(0, message.size() - 1) : message),
                       tracking_id,
                       dotnet_timestamp(now));
}

void append_location(std::string& out,
                     std::string_view authority,
                     std::string_view hub,
                     location_kind kind,
                     std::string_view id,
                     std::string_view api_version,
                     bool direct) {
    out.append("https://").append(authority).append("/");
    boost::urls::encode(hub, boost::urls::pchars, {}, boost::urls::string_token::append_to(out));
    out.append(kind == location_kind::messages ? "/messages/" : "/schedulednotifications/");
    boost::urls::encode(id, boost::urls::pchars, {}, boost::urls::string_token::append_to(out));
    out.append("?api-version=").append(api_version);
    if (direct) {
        out.append("&direct");
    }
}

std::string test_outcome_body(notification_format f, std::string_view registration_id) {
    return fmt::format(
        "<NotificationOutcome {}><Success>1</Success><Failure>0</Failure><Results><RegistrationResult>"
        "<ApplicationPlatform>{}</ApplicationPlatform><PnsHandle>hubsim-handle-{}</PnsHandle>"
        "<RegistrationId>{}</RegistrationId>"
        "<Outcome>The Notification was successfully sent to the Push Notification System</Outcome>"
        "</RegistrationResult></Results></NotificationOutcome>",
        nh_namespaces,
        to_string(f),
        registration_id,
        registration_id);
}

std::string details_body(std::string_view id, std::string_view location, const id_info& info) {
    const auto when = format_utc_iso8601(system_clock::time_point{seconds{info.enqueued_unix}});
    std::string counts;
    if (const auto element = outcome_counts_element(info.format); !element.empty()) {
        counts = fmt::format("<{0}><Outcome><Name>Success</Name><Count>1</Count></Outcome></{0}>", element);
    }
    return fmt::format(
        "<NotificationDetails {}><NotificationId>{}</NotificationId><Location>{}</Location>"
        "<State>Completed</State><EnqueueTime>{}</EnqueueTime><StartTime>{}</StartTime>"
        "<EndTime>{}</EndTime><TargetPlatforms>{}</TargetPlatforms>{}</NotificationDetails>",
        nh_namespaces,
        xml_escape(id),
        xml_escape(location),
        when,
        when,
        when,
        to_string(info.format),
        counts);
}

}  // namespace nhpush::hubsim
