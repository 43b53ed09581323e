#pragma once
/** @file The `[spool]` table of nhpushd.toml. */

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace nhpush::spool {

/** @brief When appends reach the disk: `[spool] fsync`. */
enum class fsync_mode {
    always,    ///< the 202 waits for the fdatasync that covers it (one sync serves all who wait)
    interval,  ///< an fdatasync every fsync_interval; the 202 at once
    never,     ///< the OS page cache only
};

/** @brief The `[spool]` table: where accepted notifications are kept until their final result. */
struct spool_config {
    /** @brief The spool's directory; empty: no spool (accepted notifications live in memory only). */
    std::string dir;
    /** @brief When appends reach the disk. */
    fsync_mode fsync = fsync_mode::interval;
    /** @brief With fsync = "interval": milliseconds between syncs (at most this much is lost when the
     *  power fails; nothing when the process dies). */
    std::chrono::milliseconds fsync_interval{100};
    /** @brief A segment file is closed and a new one started past this size. */
    std::size_t segment_bytes = 16 << 20;
    /** @brief Notifications per hub handed to the sender at once; the rest wait on disk. */
    std::size_t memory_window = 10'000;
    /** @brief dead-letters.jsonl grows to this size at most; past it, new dead letters are counted as
     *  dropped (and logged) until an operator requeues or purges. */
    std::size_t dead_letter_max_bytes = std::size_t{64} << 20;

    bool operator==(const spool_config&) const = default;
};

}  // namespace nhpush::spool
