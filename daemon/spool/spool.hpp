#pragma once
/** @file The spool: every accepted notification is on disk before its 202, until its final result. */

#include "spool/group_commit.hpp"
#include "spool/record.hpp"
#include "spool/segment_log.hpp"
#include "spool/spool_config.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nhpush::spool {

/**
 * @brief A spooled notification for the sender: its accepted record and where it is.
 *
 * One that accept() takes comes without its submission (`record.submission` empty): the caller
 * already has the notification, and the submission stays on disk for a dead letter
 * (spool::submission_of), not in memory while the notification is sent.
 */
struct handoff {
    accepted_record record;
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;    ///< where its accepted record starts in `segment`
    std::uint32_t attempts = 0;  ///< made before: by a run a stop cut short, or a hub a reload replaced
};

/** @brief A notification for accept(): its accepted record's fields and its hub's limit. */
struct intake {
    accepted_fields record;           ///< borrowed for the call
    bool send_now = false;            ///< a client waits for its result: hand it over even beyond the window
    std::size_t capacity = SIZE_MAX;  ///< refused when its hub has this many without a final result
};

/** @brief What accept() did with a notification. */
struct admission {
    enum class verdict {
        accepted,    ///< written
        full,        ///< its hub has `capacity` notifications outstanding; nothing written
        unwritable,  ///< the spool could not be written (why: `problem`); nothing accepted
    };
    verdict outcome = verdict::accepted;
    std::string problem;
    std::uint64_t segment = 0;  ///< give it back with the final result
    std::uint64_t offset = 0;   ///< where its accepted record starts in `segment`
    std::uint64_t ticket = 0;   ///< for async_wait_durable
    bool send_now = false;      ///< the caller sends it; otherwise it waits on disk for room

    bool accepted() const noexcept { return outcome == verdict::accepted; }
    bool full() const noexcept { return outcome == verdict::full; }
};

/** @brief What recovery found, for the log and the metrics. */
struct recovery_summary {
    std::size_t unfinished = 0;  ///< queued again
    std::size_t finished = 0;    ///< final results found
    std::vector<recovery_note> notes;
};

/**
 * @brief The daemon's spool: one segment log per hub, under `dir/hubs/NAME/`.
 *
 * A hub's notifications are handed to the sender in the order they were accepted, at most
 * `memory_window` at a time; the others wait on disk and a cursor reads them back as results free
 * the window. A segment is deleted once every notification accepted into it has its final record.
 * Finals for errc::shutting_down / outcome_unknown (a stop) are not recorded: those are sent again
 * after the next start.
 *
 * Thread-safety: any thread. The `send` function given to start() is called without locks held.
 */
class spool {
public:
    using send_function = std::function<void(handoff&&)>;

    /// @throws std::system_error if the directory cannot be made.
    explicit spool(spool_config config);
    ~spool();
    spool(const spool&) = delete;
    spool& operator=(const spool&) = delete;

    /**
     * @brief Reads what a previous run left, before anything is accepted: `on_final` gets each final
     * record, `on_unfinished` each accepted record without one (in order, per hub).
     */
    recovery_summary recover(const std::function<void(const final_record&)>& on_final,
                             const std::function<void(const accepted_record&)>& on_unfinished);

    /// Hands the recovered notifications to `send` as far as the window allows, and every later one.
    void start(send_function send);

    /**
     * @brief Appends the notifications of `batch`, each unless its hub already has `capacity`
     * notifications without a final result: one write per hub for the whole batch, which also
     * carries the final records waiting to be written. Never throws: a failed write refuses the
     * hub's notifications of the batch (admission::verdict::unwritable) and accepts none of them.
     */
    std::vector<admission> accept(std::span<const intake> batch);
    /**
     * @brief The submission of a notification handed over, read back from its accepted record (for
     * its dead letter). Call before finished(), which may delete its segment. nullopt if it cannot
     * be read.
     */
    std::optional<std::string> submission_of(const handoff& h);

    /// One notification: accept() of a batch of one.
    admission accept(const accepted_record& r, bool send_now, std::size_t capacity = SIZE_MAX);

    /// Completes as `void(error_code)` once `ticket`'s append is durable by the fsync mode.
    template <class CompletionToken>
    auto async_wait_durable(std::uint64_t ticket, CompletionToken&& token) {
        return commit_.async_wait_durable(ticket, std::forward<CompletionToken>(token));
    }
    bool waits_for_sync() const noexcept { return config_.fsync == fsync_mode::always; }

    /**
     * @brief The final result of a notification accept() or the cursor handed over.
     *
     * Final records are written in batches: with the next accept() of their hub; by the sender
     * that reports one when the oldest waiting is flush_delay old (unless a write is in progress)
     * or past flush_bytes; by the syncer thread flush_delay after the first after a quiet spell,
     * then every flush_period while more come. The notification keeps its place in the window until
     * then, so at most `memory_window` per hub are ever handed over without a final record written:
     * the bound on what a crash sends twice. Only a final past flush_bytes waits for a write; the
     * others never wait for one in progress.
     */
    void finished(const final_fields& r);
    void finished(const final_record& r) { finished(fields_of(r)); }

    /**
     * @brief A notification a stop cut short: it stays unfinished, for the next start, which
     * resumes it with `h.attempts` (the attempts made so far).
     */
    void kept(const handoff& h);

    /**
     * @brief A notification handed over came back without a result: refused by a full queue, or cut
     * short by a hub a reload replaced. It is handed over again before the cursor's next record: at
     * once with `resend_now`, else with the next result (never from inside a refusal, which would loop).
     */
    void hand_back(handoff&& h, bool resend_now);

    /// True once stop() was called: what comes back is kept for the next start.
    bool stopping() const noexcept { return stopped_; }

    /// No more hand-overs (the daemon is stopping); syncs what was written.
    void stop();

    /// Why the spool cannot be written now (the last append's error), or empty.
    std::string problem() const;

    struct hub_figures {
        std::string hub;
        std::size_t in_window = 0;    ///< handed to the sender, no result yet
        std::size_t outstanding = 0;  ///< accepted, no final result yet (on disk or handed over)
        std::uint64_t bytes = 0;      ///< in its segments
        std::size_t segments = 0;
    };
    std::vector<hub_figures> figures() const;

    /// Writes the final records waiting in memory (the syncer calls it; so do stop() and tests).
    void write_finals();

    /// How long final records gather before they are written (by an append, a sender or the syncer).
    static constexpr std::chrono::milliseconds flush_delay{10};
    /// While final records keep coming, the syncer writes what is left this often: the appends and
    /// the senders write the rest, and the syncer stays asleep (each wake preempts a sender).
    static constexpr std::chrono::milliseconds flush_period{100};
    /// Final records waiting past this many bytes are written at once.
    static constexpr std::size_t flush_bytes = 64 << 10;

private:
    struct hub_log;
    void accept_into(hub_log& h,
                     std::span<const intake> batch,
                     std::span<const std::size_t> which,
                     std::vector<admission>& out);
    /// Writes the records waiting in memory, then `accepted` (framed), in one write; @returns where
    /// the first starts.
    position write_unwritten(hub_log& h, std::string_view accepted = {});
    void write_finals(hub_log& h);
    void write_finals(hub_log& h, std::unique_lock<std::mutex> lock);
    hub_log& log_of(std::string_view hub);
    std::vector<hub_log*> all_logs() const;  // each hub's log lives as long as the spool
    std::vector<handoff> pump(hub_log& log);
    static std::optional<std::string> read_submission(hub_log& log, const handoff& h);  // under its lock
    void deliver(std::vector<handoff> batch);
    std::vector<std::shared_ptr<segment_file>> files_to_sync();  // hands retired segments over once

    spool_config config_;
    // Every accept and final looks its hub up; a hub is added a handful of times in a run. So
    // lookups read an immutable map through an atomic pointer, and an addition publishes a copy.
    // Each version is kept as long as the spool, as each hub_log is: a lookup never races a free.
    // A vector sorted by name, searched in order: a daemon has a few hubs, and comparing a name's
    // size first costs less than a tree's three-way string comparisons (callgrind, at 50 ms:
    // find_hub 78 -> 33 instructions a notification).
    using hub_map = std::vector<std::pair<std::string, hub_log*>>;
    const hub_map& hubs() const noexcept { return *hubs_.load(std::memory_order_acquire); }
    hub_log* find_hub(std::string_view hub) const noexcept;
    hub_log& add_hub(std::string name, std::unique_ptr<hub_log> log);  // under hubs_mutex_
    std::mutex hubs_mutex_;  // guards additions only; each hub_log has its own lock
    std::vector<std::unique_ptr<hub_log>> logs_;
    std::vector<std::unique_ptr<const hub_map>> hub_maps_;
    const hub_map no_hubs_;
    std::atomic<const hub_map*> hubs_{&no_hubs_};  // set before the syncer thread (commit_) starts
    send_function send_;
    std::atomic<bool> stopped_{false};
    void set_problem(std::string problem);
    void accepted_written();  // submissions were written: clears the problem

    mutable std::mutex problem_mutex_;
    std::string problem_;
    std::atomic<bool> has_problem_{false};  // problem_ is not empty: read without the lock
    group_commit commit_;
};

}  // namespace nhpush::spool
