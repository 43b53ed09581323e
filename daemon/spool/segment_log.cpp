#include "spool/segment_log.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <fstream>
#include <iterator>
#include <system_error>

namespace nhpush::spool {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void throw_errno(int error, std::string_view what, const fs::path& path) {
    throw std::system_error(error, std::generic_category(), fmt::format("{} {}", what, path.string()));
}

int open_or_throw(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw_errno(errno, "cannot open", path);
    }
    return fd;
}

// Writes all of `parts` at the end, one after another, in one writev(2) unless it comes back short;
// false (errno set) if a write failed or wrote nothing.
bool write_all(int fd, std::span<const std::string_view> parts) {
    std::vector<iovec> pending;
    for (const auto part : parts) {
        if (!part.empty()) {
            pending.push_back({const_cast<char*>(part.data()), part.size()});
        }
    }
    std::span<iovec> left(pending);
    while (!left.empty()) {
        const auto n =
            ::writev(fd, left.data(), static_cast<int>(std::min<std::size_t>(left.size(), IOV_MAX)));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = ENOSPC;
            }
            return false;
        }
        auto written = static_cast<std::size_t>(n);
        while (!left.empty() && written >= left.front().iov_len) {
            written -= left.front().iov_len;
            left = left.subspan(1);
        }
        if (written > 0) {
            left.front().iov_base = static_cast<char*>(left.front().iov_base) + written;
            left.front().iov_len -= written;
        }
    }
    return true;
}

bool write_all(int fd, std::string_view bytes) {
    return write_all(fd, std::span(&bytes, 1));
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw_errno(errno, "cannot read", path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool read_exactly(int fd, std::uint64_t offset, char* out, std::size_t size) {
    while (size > 0) {
        const auto n = ::pread(fd, out, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        out += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

}  // namespace

segment_file::~segment_file() {
    ::close(fd_);
}

void segment_file::sync() const {
    if (::fdatasync(fd_) != 0) {
        throw_errno(errno, "cannot sync", path_);
    }
}

segment_log::segment_log(fs::path dir, std::uint64_t segment_bytes, bool sync_on_rotate)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes), sync_on_rotate_(sync_on_rotate) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        throw_errno(ec.value(), "cannot create", dir_);
    }
}

fs::path segment_log::path_of(std::uint64_t number) const {
    return dir_ / fmt::format("{:020}.seg", number);
}

std::vector<std::uint64_t> segment_log::segment_numbers() const {
    std::vector<std::uint64_t> numbers;
    for (const auto& entry : fs::directory_iterator(dir_)) {
        const auto name = entry.path().filename().string();
        if (name.size() == 24 && name.ends_with(".seg") &&
            std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) {
            numbers.push_back(std::stoull(name.substr(0, 20)));
        }
    }
    std::sort(numbers.begin(), numbers.end());
    return numbers;
}

std::vector<recovery_note> segment_log::recover(
    const fs::path& damaged_dir, const std::function<void(record&&, std::uint64_t segment)>& on_record) {
    std::vector<recovery_note> notes;
    const auto numbers = segment_numbers();
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        const auto path = path_of(numbers[i]);
        const bool last = i + 1 == numbers.size();
        const auto bytes = read_file(path);
        std::string_view rest(bytes);
        std::string problem;
        if (!rest.starts_with(segment_magic)) {
            problem = rest.size() < segment_magic.size() && segment_magic.starts_with(rest)
                          ? std::string("a header cut short")
                          : std::string("no nhpush spool header");
        } else {
            rest.remove_prefix(segment_magic.size());
            while (!rest.empty()) {
                auto d = decode(rest);
                if (auto* ok = std::get_if<decoded>(&d)) {
                    rest.remove_prefix(ok->frame_bytes);
                    on_record(std::move(ok->value), numbers[i]);
                } else {
                    problem = std::holds_alternative<incomplete>(d) ? "a record cut short"
                                                                    : std::get<damaged>(d).what;
                    break;
                }
            }
        }
        if (problem.empty()) {
            continue;
        }
        const auto good = bytes.size() - rest.size();
        std::error_code ec;
        if (last) {
            // The tail a crash tore off (or damage at the end): the records before it are all there.
            notes.push_back(
                {false,
                 fmt::format("{}: cut at byte {} of {} ({})", path.string(), good, bytes.size(), problem)});
        } else {
            // Damage inside: a copy goes aside for the operator, the good records before it stay.
            fs::create_directories(damaged_dir, ec);
            const auto aside = damaged_dir / path.filename();
            fs::copy_file(path, aside, fs::copy_options::overwrite_existing, ec);
            notes.push_back({true,
                             fmt::format("{}: damaged at byte {} of {} ({}); the records before it are "
                                         "recovered, the rest is lost; a copy of the file is in {}{}",
                                         path.string(),
                                         good,
                                         bytes.size(),
                                         problem,
                                         aside.string(),
                                         ec ? fmt::format(" (the copy failed: {})", ec.message()) : "")});
        }
        // Cut at the damage, so the cursor reads the good records back and stops there.
        if (good < segment_magic.size()) {
            fs::remove(path, ec);
        } else {
            fs::resize_file(path, good, ec);
        }
    }
    first_number_ = numbers.empty() ? 1 : numbers.front();
    start_segment(numbers.empty() ? 1 : numbers.back() + 1);
    return notes;
}

void segment_log::drop_older_segments() {
    drop_before(active_number_);
}

void segment_log::start_segment(std::uint64_t number) {
    const auto path = path_of(number);
    auto file =
        std::make_shared<segment_file>(path, open_or_throw(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND));
    if (!write_all(file->fd(), segment_magic)) {
        throw_errno(errno, "cannot write", path);
    }
    if (active_) {
        retired_bytes_ += active_size_;
    }
    active_ = std::move(file);
    active_number_ = number;
    active_size_ = segment_magic.size();
}

position segment_log::append(std::span<const std::string_view> framed) {
    if (active_size_ >= segment_bytes_) {
        if (sync_on_rotate_) {
            retired_unsynced_.push_back(active_);  // the syncer's next sync covers it
        }
        start_segment(active_number_ + 1);
    }
    if (!write_all(active_->fd(), framed)) {
        const int error = errno;
        // Never leave half a record: the next append would follow garbage.
        if (::ftruncate(active_->fd(), static_cast<off_t>(active_size_)) != 0) {
            // Could not cut it: start a new segment, so the torn bytes end a segment (cut at recovery).
            start_segment(active_number_ + 1);
        }
        throw_errno(error, "cannot append to", active_->path());
    }
    const position at{active_number_, active_size_};
    for (const auto part : framed) {
        active_size_ += part.size();
    }
    return at;
}

void segment_log::files_to_sync(std::vector<std::shared_ptr<segment_file>>& out) {
    for (auto& f : retired_unsynced_) {
        out.push_back(std::move(f));
    }
    retired_unsynced_.clear();
    if (active_) {
        out.push_back(active_);
    }
}

const segment_file* segment_log::reader_for(std::uint64_t number) {
    if (!reader_ || reader_number_ != number) {
        const auto path = path_of(number);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            return nullptr;  // moved aside as damaged at recovery
        }
        reader_ = std::make_shared<segment_file>(path, fd < 0 ? open_or_throw(path, O_RDONLY) : fd);
        reader_number_ = number;
    }
    return reader_.get();
}

std::optional<segment_log::stored> segment_log::read(position at) {
    for (;;) {
        if (at.offset < segment_magic.size()) {
            at.offset = segment_magic.size();
        }
        if (at >= end()) {
            return std::nullopt;
        }
        if (at.segment < first_number_) {
            at = {first_number_, 0};
            continue;
        }
        const auto* reader = reader_for(at.segment);
        if (reader == nullptr) {
            at = {at.segment + 1, 0};
            continue;
        }
        const auto& file = *reader;
        std::string frame(frame_header_bytes, '\0');
        if (!read_exactly(file.fd(), at.offset, frame.data(), frame.size())) {
            // The end of a retired segment: go on with the next one.
            at = {at.segment + 1, 0};
            continue;
        }
        const auto size = static_cast<std::size_t>(static_cast<unsigned char>(frame[0])) |
                          static_cast<std::size_t>(static_cast<unsigned char>(frame[1])) << 8 |
                          static_cast<std::size_t>(static_cast<unsigned char>(frame[2])) << 16 |
                          static_cast<std::size_t>(static_cast<unsigned char>(frame[3])) << 24;
        if (size > max_payload_bytes) {
            throw std::runtime_error(fmt::format("{}: damaged at byte {}", file.path().string(), at.offset));
        }
        frame.resize(frame_header_bytes + size);
        if (!read_exactly(
                file.fd(), at.offset + frame_header_bytes, frame.data() + frame_header_bytes, size)) {
            throw std::runtime_error(
                fmt::format("{}: cut short at byte {}", file.path().string(), at.offset));
        }
        auto d = decode(frame);
        if (auto* ok = std::get_if<decoded>(&d)) {
            return stored{std::move(ok->value), at, position{at.segment, at.offset + ok->frame_bytes}};
        }
        throw std::runtime_error(fmt::format("{}: damaged at byte {}", file.path().string(), at.offset));
    }
}

void segment_log::drop_before(std::uint64_t segment) {
    segment = std::min(segment, active_number_);
    for (auto n = first_number_; n < segment; ++n) {
        std::error_code ec;
        const auto path = path_of(n);
        const auto size = fs::file_size(path, ec);
        if (!ec) {
            retired_bytes_ -= std::min(retired_bytes_, size);
        }
        fs::remove(path, ec);
        if (reader_ && reader_number_ == n) {
            reader_.reset();
        }
    }
    first_number_ = std::max(first_number_, segment);
}

}  // namespace nhpush::spool
