#pragma once
/** @file The spool's syncer: one fdatasync covers every append made before it (group commit). */

#include "spool/segment_log.hpp"
#include "spool/spool_config.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nhpush::spool {

/**
 * @brief A thread that writes and syncs the spool: it writes the final records waiting in memory
 * (`flush`) `flush_delay` after request_flush() finds it asleep, then every `flush_period` while
 * requests keep coming, and syncs the segments written to (`files`) in
 * `always` mode as soon as someone waits (every waiter that arrived meanwhile shares the next
 * sync), in `interval` mode on a period, in `never` mode not at all.
 *
 * Appenders take a ticket (note_append) after their write; async_wait_durable(ticket) completes once
 * a sync started after that write has finished. Thread-safe.
 */
class group_commit {
public:
    /// `flush` writes what waits in memory; `files` returns the segment files to sync now (the
    /// hubs' active segments and those retired since the last call). Neither may throw.
    group_commit(fsync_mode mode,
                 std::chrono::milliseconds interval,
                 std::chrono::milliseconds flush_delay,
                 std::chrono::milliseconds flush_period,
                 std::function<void()> flush,
                 std::function<std::vector<std::shared_ptr<segment_file>>()> files);
    ~group_commit();
    group_commit(const group_commit&) = delete;
    group_commit& operator=(const group_commit&) = delete;

    /// Something waits in memory to be written: flush() runs within flush_delay, or within
    /// flush_period while the thread ticks (the caller then writes what grows old itself).
    void request_flush() {
        if (!flush_wanted_.exchange(true) && !ticking_.load()) {
            std::lock_guard lock(mutex_);  // so the thread cannot miss the wake between test and wait
            wake_.notify_one();
        }
    }

    /// False while the thread flushes on a timer because final records kept coming (for tests).
    bool sleeping_between_flushes() const noexcept { return !ticking_.load(); }

    /// Call after each successful write; @returns its ticket.
    std::uint64_t note_append() noexcept { return appended_.fetch_add(1, std::memory_order_acq_rel) + 1; }

    /// Completes, as `void(error_code)`, once the append of `ticket` is on disk (at once unless
    /// the mode is `always`); the error of a failed sync otherwise.
    template <class CompletionToken>
    auto async_wait_durable(std::uint64_t ticket, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler, std::uint64_t ticket) {
                auto ex = boost::asio::get_associated_executor(handler);
                wait(ticket, [ex, h = std::move(handler)](boost::system::error_code ec) mutable {
                    boost::asio::post(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
                });
            },
            token,
            ticket);
    }

    /// Syncs now, from the caller's thread (at stop, and for tests). @throws std::system_error.
    void sync_now();

    /// The last sync's error, empty if it succeeded.
    std::string last_error() const;

private:
    using waiter = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    void wait(std::uint64_t ticket, waiter w);
    void run();
    boost::system::error_code sync_files();

    bool sync_due(std::chrono::steady_clock::time_point next_sync) const;

    fsync_mode mode_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds flush_delay_;
    std::chrono::milliseconds flush_period_;
    std::function<void()> flush_;
    std::function<std::vector<std::shared_ptr<segment_file>>()> files_;
    std::atomic<bool> flush_wanted_{false};
    std::atomic<bool> ticking_{false};  // the thread flushes on a timer: request_flush() need not wake it
    std::atomic<std::uint64_t> appended_{0};
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::uint64_t synced_ = 0;
    std::vector<std::pair<std::uint64_t, waiter>> waiters_;
    std::string last_error_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace nhpush::spool
