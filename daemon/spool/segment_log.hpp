#pragma once
/** @file One hub's log on disk: numbered segment files of framed records, appended to, read back in
 * order, and deleted from the front once every record in them is final. */

#include "spool/record.hpp"

#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::spool {

/** @brief Where a record starts: its segment's number and the byte offset in it. */
struct position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;

    auto operator<=>(const position&) const = default;
};

/** @brief An open segment file. Shared with the syncer thread, which syncs it without the log's lock. */
class segment_file {
public:
    segment_file(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~segment_file();
    segment_file(const segment_file&) = delete;
    segment_file& operator=(const segment_file&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    int fd() const noexcept { return fd_; }
    /// fdatasync; @throws std::system_error naming the file.
    void sync() const;

private:
    std::filesystem::path path_;
    int fd_;
};

/** @brief What recovery found wrong and did, one line each, for the log. */
struct recovery_note {
    bool damage = false;  ///< a segment was moved aside (true) or a torn tail cut (false)
    std::string text;
};

/**
 * @brief Segment files `NNNNNNNNNNNNNNNNNNNN.seg` in one directory.
 *
 * Appends go to the last (active) segment; a new one is started when it passes `segment_bytes`.
 * Not thread-safe: the owner locks.
 */
class segment_log {
public:
    /// Creates the directory if needed. @throws std::system_error naming the path.
    segment_log(std::filesystem::path dir, std::uint64_t segment_bytes, bool sync_on_rotate);

    /**
     * @brief Reads every segment in order and hands each good record to `on_record`.
     *
     * A torn or damaged tail of the last segment is cut off. A segment with damage before its end
     * (or a bad header) is copied into `damaged_dir` for the operator and cut at the damage: its
     * records before the damage are kept. Never fatal.
     * Then starts a fresh active segment after the last one. Call once, before anything else.
     */
    std::vector<recovery_note> recover(const std::filesystem::path& damaged_dir,
                                       const std::function<void(record&&, std::uint64_t segment)>& on_record);

    /// Deletes every segment before the active one (after recovery wrote what is left into it).
    void drop_older_segments();

    /**
     * @brief Appends framed records (encode()) in one write. A failed or short write is cut off again,
     * so the log never keeps half a record. @returns where they start.
     * @throws std::system_error naming the file (ENOSPC, EFBIG, EIO, …).
     */
    position append(std::span<const std::string_view> framed);
    /// One buffer of framed records.
    position append(std::string_view framed) { return append(std::span(&framed, 1)); }

    /** @brief A record read back, where it starts and where the next one does. */
    struct stored {
        record value;
        position at;
        position next;
    };
    /// The first record at or after `at` (skipping to the next segment at a segment's end); nullopt
    /// at the end of the log.
    std::optional<stored> read(position at);

    /// Deletes the segments numbered below `segment` (never the active one).
    void drop_before(std::uint64_t segment);

    position end() const noexcept { return {active_number_, active_size_}; }
    std::uint64_t first_segment() const noexcept { return first_number_; }
    std::uint64_t active_segment() const noexcept { return active_number_; }
    std::shared_ptr<segment_file> active_file() const { return active_; }
    /**
     * @brief Appends to `out` what a sync must cover now: the segments retired since the last call
     * (with sync_on_rotate; they are handed over once) and the active one. A retired segment is
     * synced by the caller's thread (the syncer), never by the append that retired it.
     */
    void files_to_sync(std::vector<std::shared_ptr<segment_file>>& out);
    /// Bytes in every segment now.
    std::uint64_t bytes() const noexcept { return retired_bytes_ + active_size_; }

private:
    std::filesystem::path path_of(std::uint64_t number) const;
    std::vector<std::uint64_t> segment_numbers() const;
    void start_segment(std::uint64_t number);
    const segment_file* reader_for(std::uint64_t number);

    std::filesystem::path dir_;
    std::uint64_t segment_bytes_;
    bool sync_on_rotate_;
    std::uint64_t first_number_ = 0;
    std::uint64_t active_number_ = 0;
    std::uint64_t active_size_ = 0;
    std::uint64_t retired_bytes_ = 0;  // in the segments before the active one
    std::shared_ptr<segment_file> active_;
    std::vector<std::shared_ptr<segment_file>> retired_unsynced_;
    std::shared_ptr<segment_file> reader_;  // the segment read() reads, when not the active one
    std::uint64_t reader_number_ = 0;
};

}  // namespace nhpush::spool
