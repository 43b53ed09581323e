#include "spool/dead_letters.hpp"

#include "shared/json_output.hpp"

#include <nhpush/error.hpp>
#include <nhpush/notification.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <system_error>

namespace nhpush::spool {

using shared::json_writer;
using shared::write_key;
using shared::write_string;
using std::chrono::system_clock;

bool fails_for_good(const boost::system::error_code& ec) noexcept {
    if (!ec) {
        return false;
    }
    if (ec.category() != nhpush_category()) {
        return true;  // a network error that ended the notification
    }
    switch (static_cast<errc>(ec.value())) {
        case errc::shutting_down:    // never sent: the spool resends it after the next start
        case errc::outcome_unknown:  // on the wire at a stop: resent after the next start
        case errc::cancelled:        // a client's decision, not a failure
        case errc::queue_full:       // refused at submission, never accepted
            return false;
        default:
            return true;
    }
}

namespace {

void write_field(json_writer& w, std::string_view key, std::string_view value) {
    write_key(w, key);
    write_string(w, value);
}

bool is_json_value(std::string_view text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    return !d.HasParseError();
}

std::string compact_json(const rapidjson::Value& v) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    v.Accept(w);
    return out;
}

std::string_view string_member(const rapidjson::Value& o, const char* name) {
    const auto it = o.FindMember(name);
    if (it == o.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<system_clock::time_point> time_member(const rapidjson::Value& o, const char* name) {
    return parse_rfc3339(string_member(o, name));
}

}  // namespace

std::string encode_line(const dead_letter& letter) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_field(w, "id", letter.id);
    write_field(w, "hub", letter.hub);
    write_key(w, "submission");
    if (is_json_value(letter.submission)) {
        // Embedded as it was submitted; RawValue keeps its bytes (it is valid JSON, checked above).
        // A line break inside it would split the line: those are whitespace, so compact it then.
        if (letter.submission.find_first_of("\r\n") == std::string::npos) {
            w.RawValue(letter.submission.data(), letter.submission.size(), rapidjson::kObjectType);
        } else {
            rapidjson::Document d;
            d.Parse(letter.submission.data(), letter.submission.size());
            const auto compact = compact_json(d);
            w.RawValue(compact.data(), compact.size(), rapidjson::kObjectType);
        }
    } else {
        write_string(w, letter.submission);
    }
    write_field(w, "reason", letter.reason);
    write_key(w, "http_status");
    w.Uint(letter.http_status);
    write_field(w, "error_code", letter.error_code);
    write_field(w, "error_detail", letter.error_detail);
    write_key(w, "attempts");
    w.Int(letter.attempts);
    write_field(w, "accepted_at", format_utc_iso8601(letter.accepted_at));
    write_field(w, "failed_at", format_utc_iso8601(letter.failed_at));
    w.EndObject();
    out.push_back('\n');
    return out;
}

std::optional<dead_letter> decode_line(std::string_view line) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
        return std::nullopt;
    }
    dead_letter l;
    l.id = string_member(d, "id");
    l.hub = string_member(d, "hub");
    const auto submission = d.FindMember("submission");
    const auto status = d.FindMember("http_status");
    const auto attempts = d.FindMember("attempts");
    const auto accepted = time_member(d, "accepted_at");
    const auto failed = time_member(d, "failed_at");
    if (l.id.empty() || submission == d.MemberEnd() || status == d.MemberEnd() || !status->value.IsUint() ||
        attempts == d.MemberEnd() || !attempts->value.IsInt() || !accepted || !failed) {
        return std::nullopt;
    }
    l.submission = submission->value.IsString()
                       ? std::string(submission->value.GetString(), submission->value.GetStringLength())
                       : compact_json(submission->value);
    l.reason = string_member(d, "reason");
    l.http_status = status->value.GetUint();
    l.error_code = string_member(d, "error_code");
    l.error_detail = string_member(d, "error_detail");
    l.attempts = attempts->value.GetInt();
    l.accepted_at = *accepted;
    l.failed_at = *failed;
    return l;
}

// ---- the file ----

namespace {

std::uint64_t file_size_or_zero(const std::filesystem::path& p) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    return ec ? 0 : size;
}

/// Writes all of `data` at the end of `path` in one write() (O_APPEND); false on any failure.
bool append_to_file(const std::filesystem::path& path, std::string_view data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        return false;
    }
    const auto written = ::write(fd, data.data(), data.size());
    const bool closed = ::close(fd) == 0;
    return closed && written == static_cast<ssize_t>(data.size());
}

}  // namespace

dead_letters::dead_letters(std::filesystem::path dir, std::uint64_t max_bytes, const log::daemon_log& log)
    : path_(std::move(dir) / dead_letters_file_name), max_bytes_(max_bytes), log_(log) {
    std::filesystem::create_directories(path_.parent_path());
    cut_torn_tail();
    size_ = file_size_or_zero(path_);
}

void dead_letters::cut_torn_tail() {
    std::ifstream in(path_, std::ios::binary | std::ios::ate);
    if (!in) {
        return;
    }
    const auto size = static_cast<std::uint64_t>(in.tellg());
    // Find the last '\n' from the end, reading a block at a time.
    std::uint64_t end = size;
    std::string block;
    while (end > 0) {
        const auto n = std::min<std::uint64_t>(end, 4096);
        block.resize(n);
        in.seekg(static_cast<std::streamoff>(end - n));
        in.read(block.data(), static_cast<std::streamsize>(n));
        if (const auto nl = block.rfind('\n'); nl != std::string::npos) {
            end = end - n + nl + 1;
            break;
        }
        end -= n;
    }
    if (end == size) {
        return;
    }
    in.close();
    std::filesystem::resize_file(path_, end);
    log_.log(log_level::warning,
             "{}: cut a torn last line ({} bytes) left by a crash during an append",
             path_.string(),
             size - end);
}

bool dead_letters::append(const dead_letter& letter) {
    const auto line = encode_line(letter);
    std::lock_guard lock(mutex_);
    const bool room = size_ + line.size() <= max_bytes_;
    if (room && append_to_file(path_, line)) {
        size_ += line.size();
        return true;
    }
    ++dropped_;
    std::uint64_t suppressed = 0;
    if (drop_warnings_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_.log(log_level::error,
                 "{}: dead letter {} not recorded: {}{}",
                 path_.string(),
                 letter.id,
                 room ? "the write failed" : fmt::format("the file is full ({} bytes at most)", max_bytes_),
                 log::suppressed_note(suppressed));
    }
    size_ = file_size_or_zero(path_);
    return false;
}

template <class Visit>
void dead_letters::for_each_line(Visit visit) const {
    std::ifstream in(path_, std::ios::binary);
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        visit(number, std::string_view(line), !in.eof());
    }
}

namespace {

/// How a line of `id` starts: encode_line writes the id first.
std::string line_prefix_of(std::string_view id) {
    std::string out;
    shared::string_output stream{out};
    json_writer w(stream);
    w.StartObject();
    write_field(w, "id", id);
    return out;  // `{"id":"…"`, escaped as in the file
}

}  // namespace

dead_letter_page dead_letters::list(std::size_t limit, std::string_view after) const {
    // No lock: the file grows by whole lines only and a rewrite replaces it by a rename (this stream
    // keeps reading the file it opened), so the appends of the workers never wait for a listing.
    // Only the lines of the page are parsed. The file is oldest first: keep the last `limit + 1`
    // lines before `after` (the extra one says `more`).
    struct raw_line {
        std::size_t number;
        std::string text;
    };
    std::deque<raw_line> window;
    const auto after_prefix = after.empty() ? std::string() : line_prefix_of(after);
    bool reached_after = false;
    for_each_line([&](std::size_t number, std::string_view line, bool whole) {
        if (reached_after || !whole) {
            return;  // past the page, or an append still under way
        }
        if (!after.empty() && line.starts_with(after_prefix)) {
            reached_after = true;
            return;
        }
        window.push_back({number, std::string(line)});
        if (window.size() > limit + 1) {
            window.pop_front();
        }
    });
    dead_letter_page page;
    if (!after.empty() && !reached_after) {
        return page;  // no such letter (requeued or purged since): nothing is older than it
    }
    page.more = window.size() > limit;
    if (page.more) {
        window.pop_front();
    }
    for (auto it = window.rbegin(); it != window.rend(); ++it) {
        if (auto letter = decode_line(it->text)) {
            page.letters.push_back(std::move(*letter));
        } else {
            log_.log(
                log_level::warning, "{}: line {} is not a dead letter; skipped", path_.string(), it->number);
        }
    }
    return page;
}

std::optional<dead_letter> dead_letters::take(std::string_view id) {
    std::lock_guard lock(mutex_);
    std::optional<dead_letter> newest;
    std::size_t newest_line = 0;
    for_each_line([&](std::size_t number, std::string_view line, bool) {
        // Cheap test first: most lines are not this id.
        if (line.find(id) == std::string_view::npos) {
            return;
        }
        if (auto letter = decode_line(line); letter && letter->id == id) {
            newest = std::move(letter);
            newest_line = number;
        }
    });
    if (newest && !rewrite_without(newest_line)) {
        return std::nullopt;
    }
    return newest;
}

bool dead_letters::rewrite_without(std::size_t line_to_drop) {
    auto temp = path_;
    temp += ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        for_each_line([&](std::size_t number, std::string_view line, bool) {
            if (number != line_to_drop) {
                out << line << '\n';
            }
        });
        if (!out.flush()) {
            log_.log(log_level::error, "{}: cannot write {}", path_.string(), temp.string());
            return false;
        }
    }
    std::error_code ec;
    std::filesystem::rename(temp, path_, ec);
    if (ec) {
        log_.log(log_level::error, "{}: cannot replace it: {}", path_.string(), ec.message());
        return false;
    }
    size_ = file_size_or_zero(path_);
    return true;
}

std::size_t dead_letters::purge() {
    std::lock_guard lock(mutex_);
    std::size_t count = 0;
    for_each_line([&](std::size_t, std::string_view, bool) { ++count; });
    std::error_code ec;
    std::filesystem::resize_file(path_, 0, ec);
    size_ = file_size_or_zero(path_);
    return count;
}

std::uint64_t dead_letters::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::uint64_t dead_letters::size_bytes() const {
    std::lock_guard lock(mutex_);
    return size_;
}

}  // namespace nhpush::spool
