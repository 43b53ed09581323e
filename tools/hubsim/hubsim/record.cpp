// NDJSON record of accepted notifications.

#include "hubsim/record.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nhpush::hubsim {

using namespace std::chrono;

std::string_view record_operation(const route& r) noexcept {
    switch (r.op) {
        case operation::batch_send:
            return "batch";
        case operation::schedule:
            return "scheduled";
        default:
            return r.direct ? "direct" : r.test ? "test" : "send";
    }
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    std::string out;
    out.reserve(2 * len);
    for (unsigned i = 0; i < len; ++i) {
        fmt::format_to(std::back_inserter(out), "{:02x}", md[i]);
    }
    return out;
}

void append_record_line(std::string& out, const record_entry& e) {
    const auto& n = *e.notification;
    const auto ms = floor<milliseconds>(e.time);
    const auto time = fmt::format(
        "{}.{:03}Z", format_utc_iso8601(e.time).substr(0, 19), (ms.time_since_epoch() % seconds{1}).count());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    const auto str = [&](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    w.StartObject();
    w.Key("time"), str(time);
    w.Key("hub"), str(e.hub);
    w.Key("operation"), str(e.operation);
    w.Key("format"), str(to_string(n.format));
    if (!n.tags.empty()) {
        w.Key("tags"), str(n.tags);
    }
    if (!n.device_handle.empty()) {
        w.Key("handle"), str(n.device_handle);
    }
    if (!n.device_handles.empty()) {
        w.Key("handles"), w.StartArray();
        for (const auto& h : n.device_handles) {
            str(h);
        }
        w.EndArray();
    }
    w.Key("payload_sha256"), str(sha256_hex(n.payload));
    w.Key("payload_bytes"), w.Uint64(n.payload.size());
    if (!n.client_id.empty()) {
        w.Key("client_id"), str(n.client_id);
    }
    w.Key("notification_id"), str(e.notification_id);
    w.EndObject();
    out.append(buf.GetString(), buf.GetSize()).push_back('\n');
}

record_file::record_file(const std::string& path)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) {
        throw std::runtime_error(fmt::format("cannot open record file {}: {}", path, std::strerror(errno)));
    }
}

record_file::~record_file() {
    ::close(fd_);
}

void record_file::write(std::string_view line) noexcept {
    while (!line.empty()) {
        const auto n = ::write(fd_, line.data(), line.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            errors_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace nhpush::hubsim
