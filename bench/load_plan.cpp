#include "load_plan.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <stdexcept>

namespace nhpush::bench {

namespace {

// `head` + filler + `tail`, `bytes` long when that is longer than head and tail.
std::string padded(std::string_view head, std::string_view tail, std::size_t bytes) {
    const auto fixed = head.size() + tail.size();
    return fmt::format("{}{}{}", head, std::string(bytes > fixed ? bytes - fixed : 1, 'x'), tail);
}

bool is_xml(notification_format f) {
    return f == notification_format::windows || f == notification_format::windowsphone;
}

}  // namespace

std::string sample_payload(notification_format format, std::size_t bytes) {
    using enum notification_format;
    switch (format) {
        case template_:
            return padded(R"({"message":")", R"("})", bytes);
        case apple:
            return padded(R"({"aps":{"alert":")", R"("}})", bytes);
        case fcmv1:
            return padded(R"({"message":{"notification":{"body":")", R"("}}})", bytes);
        case gcm:
        case adm:
            return padded(R"({"data":{"message":")", R"("}})", bytes);
        case baidu:
        case browser:
        case xiaomi:
            return padded(R"({"title":"nhpush-bench","description":")", R"("})", bytes);
        case windows:
            return padded(R"(<toast><visual><binding template="ToastText01"><text id="1">)",
                          "</text></binding></visual></toast>",
                          bytes);
        case windowsphone:
            return padded(
                R"(<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>)",
                "</wp:Text1></wp:Toast></wp:Notification>",
                bytes);
    }
    return {};
}

notification sample_notification(const load_options& o) {
    notification n;
    n.format = o.format;
    n.payload = sample_payload(o.format, o.payload_bytes);
    n.tags = o.tags;
    if (const auto error = prepare_notification(n, std::chrono::system_clock::now())) {
        throw std::invalid_argument(fmt::format("the sample notification is not valid: {}", error->message));
    }
    return n;
}

std::string submission_json(std::string_view hub, const load_options& o) {
    const auto payload = sample_payload(o.format, o.payload_bytes);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartObject();
    w.Key("hub");
    w.String(hub.data(), static_cast<rapidjson::SizeType>(hub.size()));
    w.Key("format");
    const auto format = to_string(o.format);
    w.String(format.data(), static_cast<rapidjson::SizeType>(format.size()));
    w.Key("payload");
    if (is_xml(o.format)) {
        w.String(payload.data(), static_cast<rapidjson::SizeType>(payload.size()));
    } else {
        w.RawValue(payload.data(), payload.size(), rapidjson::kObjectType);
    }
    if (!o.tags.empty()) {
        w.Key("tags");
        w.String(o.tags.data(), static_cast<rapidjson::SizeType>(o.tags.size()));
    }
    w.EndObject();
    return out.GetString();
}

std::string submission_request(std::string_view submission, std::size_t lines, bool wait) {
    std::string body;
    body.reserve((submission.size() + 1) * lines);
    for (std::size_t i = 0; i < lines; ++i) {
        body.append(submission);
        if (lines > 1) {
            body.push_back('\n');
        }
    }
    return fmt::format(
        "POST /v1/notifications{} HTTP/1.1\r\nHost: nhpushd\r\nContent-Type: {}\r\nContent-Length: "
        "{}\r\n\r\n{}",
        wait ? "?wait=true" : "",
        lines > 1 ? "application/x-ndjson" : "application/json",
        body.size(),
        body);
}

std::string progress_line(std::uint64_t done, std::uint64_t total, double seconds, std::size_t width) {
    const double fraction =
        total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 1.0;
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(width));
    return fmt::format("[{}{}] {:3.0f}%  {}/{}  {:.0f}/s",
                       std::string(filled, '#'),
                       std::string(width - filled, '.'),
                       fraction * 100,
                       done,
                       total,
                       seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
}

}  // namespace nhpush::bench
