#pragma once
/**
 * @file Dead letters: the notifications that failed for good, kept in `dead-letters.jsonl` in the
 * spool directory, one JSON object a line, so an operator can read, requeue or purge them.
 */

#include "log/daemon_log.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::spool {

/**
 * @brief Whether a final result means the notification failed for good and is a dead letter.
 *
 * Yes for every failure of an accepted notification (a hub's 4xx, retries exhausted, deadline
 * expired, TLS or protocol failures, invalid_notification when a spooled one no longer parses or
 * its hub is gone after a restart, …), except: success; errc::shutting_down and
 * errc::outcome_unknown, which a stop leaves and the spool resends after the next start;
 * errc::cancelled, which a client asked for; and queue_full, a refusal at submission (never
 * accepted). Only final results of accepted notifications are classified.
 */
bool fails_for_good(const boost::system::error_code& ec) noexcept;

/** @brief One dead letter: a notification, as submitted, and why it failed. */
struct dead_letter {
    std::string id;
    std::string hub;         ///< the [hubs.NAME] it was submitted to
    std::string submission;  ///< the notification object as submitted (JSON text)
    std::string reason;      ///< hubs::reason_name of the final error (`hub_rejected`, …)
    unsigned http_status = 0;
    std::string error_code;    ///< the hub's <Code>, if any
    std::string error_detail;  ///< the hub's <Detail>, or what went wrong on our side
    int attempts = 0;
    std::chrono::system_clock::time_point accepted_at;  ///< second precision in the file
    std::chrono::system_clock::time_point failed_at;

    bool operator==(const dead_letter&) const = default;
};

/**
 * @brief One line of the file, ending in `\n`. The submission is embedded as a JSON value (not an
 * escaped string) when it is valid JSON; otherwise as a string, so the line stays valid JSON.
 */
std::string encode_line(const dead_letter& letter);

/**
 * @brief Reads a line (without its `\n`); nullopt for a line that is not a dead letter (a torn
 * or damaged line). The submission comes back as compact JSON text.
 */
std::optional<dead_letter> decode_line(std::string_view line);

/** @brief The file's name in the spool directory. */
inline constexpr std::string_view dead_letters_file_name = "dead-letters.jsonl";

/** @brief A page of dead letters, newest first. */
struct dead_letter_page {
    std::vector<dead_letter> letters;
    bool more = false;  ///< older ones follow: ask again with after = the last id of this page
};

/**
 * @brief The dead-letter file of a spool directory.
 *
 * Appends are single write() calls to a file opened with O_APPEND (no fsync: a process crash
 * loses nothing, a power failure may lose the last ones). The file is bounded: an append that
 * would take it past `max_bytes` is not written and is counted in dropped() (the oldest are kept:
 * the file is never rewritten behind an operator's back; purge or requeue to make room). A torn
 * last line left by a crash is cut at start with a log line; any other unreadable line is skipped
 * with a log line when read.
 *
 * Thread-safety: every member may be called from any thread (one mutex, which list() does not
 * take: failures are rare, listings may be long).
 */
class dead_letters {
public:
    /// @throws std::system_error when the directory cannot be used.
    dead_letters(std::filesystem::path dir, std::uint64_t max_bytes, const log::daemon_log& log);

    /** @brief Appends `letter`; false when it was dropped (the file is full, or a write failed). */
    bool append(const dead_letter& letter);

    /**
     * @brief Up to `limit` letters, newest first, older than the letter `after` (empty: from the
     * newest; a letter no longer in the file: none). Memory is bounded by `limit`, whatever the
     * file's size; only the page's lines are parsed, and appends do not wait for it.
     */
    dead_letter_page list(std::size_t limit, std::string_view after = {}) const;

    /** @brief Removes and returns the newest letter of `id` (for a requeue); nullopt if none. */
    std::optional<dead_letter> take(std::string_view id);

    /** @brief Removes every letter; returns how many there were. */
    std::size_t purge();

    /** @brief Letters not written since start because the file was full or a write failed. */
    std::uint64_t dropped() const;

    /** @brief The file's size now. */
    std::uint64_t size_bytes() const;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::uint64_t max_bytes() const noexcept { return max_bytes_; }

private:
    void cut_torn_tail();
    template <class Visit>
    void for_each_line(Visit visit) const;
    bool rewrite_without(std::size_t line_to_drop);

    std::filesystem::path path_;
    std::uint64_t max_bytes_;
    const log::daemon_log& log_;
    mutable std::mutex mutex_;
    std::uint64_t size_ = 0;
    std::uint64_t dropped_ = 0;
    log::log_throttle drop_warnings_{};
};

}  // namespace nhpush::spool
