#include "spool/group_commit.hpp"

#include <algorithm>
#include <system_error>

namespace nhpush::spool {

group_commit::group_commit(fsync_mode mode,
                           std::chrono::milliseconds interval,
                           std::chrono::milliseconds flush_delay,
                           std::chrono::milliseconds flush_period,
                           std::function<void()> flush,
                           std::function<std::vector<std::shared_ptr<segment_file>>()> files)
    : mode_(mode)
    , interval_(interval)
    , flush_delay_(flush_delay)
    , flush_period_(flush_period)
    , flush_(std::move(flush))
    , files_(std::move(files))
    , thread_([this] { run(); }) {}

group_commit::~group_commit() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void group_commit::wait(std::uint64_t ticket, waiter w) {
    {
        std::lock_guard lock(mutex_);
        if (mode_ == fsync_mode::always && ticket > synced_ && !stopping_) {
            waiters_.emplace_back(ticket, std::move(w));
            wake_.notify_one();
            return;
        }
    }
    std::move(w)(boost::system::error_code{});
}

boost::system::error_code group_commit::sync_files() {
    try {
        for (const auto& file : files_()) {
            file->sync();
        }
        return {};
    } catch (const std::system_error& e) {
        std::lock_guard lock(mutex_);
        last_error_ = e.what();
        return e.code();
    }
}

void group_commit::sync_now() {
    flush_();
    const auto target = appended_.load(std::memory_order_acquire);
    for (const auto& file : files_()) {
        file->sync();
    }
    std::lock_guard lock(mutex_);
    synced_ = std::max(synced_, target);
}

bool group_commit::sync_due(std::chrono::steady_clock::time_point next_sync) const {
    switch (mode_) {
        case fsync_mode::always:
            return !waiters_.empty();
        case fsync_mode::interval:
            return std::chrono::steady_clock::now() >= next_sync;
        case fsync_mode::never:
            break;
    }
    return false;
}

void group_commit::run() {
    std::unique_lock lock(mutex_);
    auto next_sync = std::chrono::steady_clock::now() + interval_;
    const auto woken = [&] { return stopping_ || flush_wanted_.load() || sync_due(next_sync); };
    const auto sync_or_stop = [&] { return stopping_ || sync_due(next_sync); };
    while (!stopping_) {
        if (ticking_.load()) {
            // Final records kept coming: the next flush is due in flush_period, on a timer (one
            // wake instead of a notify and then a timeout). Meanwhile the appends and the callers
            // themselves write what waits: on two cores each wake of this thread preempts a sender,
            // and ticking every flush_delay (10 ms) cost about 3 % of the rate at 50 ms
            // (docs/benchmarks.md, "The syncer stays asleep under load").
            const auto tick = std::chrono::steady_clock::now() + flush_period_;
            wake_.wait_until(
                lock, mode_ == fsync_mode::interval ? std::min(tick, next_sync) : tick, sync_or_stop);
        } else if (mode_ == fsync_mode::interval) {
            wake_.wait_until(lock, next_sync, woken);
        } else {
            wake_.wait(lock, woken);
        }
        if (stopping_) {
            break;
        }
        if (!sync_due(next_sync)) {
            if (!ticking_.load()) {
                // The first final records after a quiet spell: let more gather first (one write
                // for many), unless a sync is due.
                wake_.wait_for(lock, flush_delay_, sync_or_stop);
            }
            // Ticking while finals come; otherwise request_flush() wakes this thread. (It sets the
            // flag, then reads ticking_; this stores ticking_, then reads the flag in `woken`: one
            // of the two sees the other's store.)
            const bool flush = flush_wanted_.exchange(false);
            ticking_.store(flush);
            if (flush) {
                lock.unlock();
                flush_();
                lock.lock();
            }
            continue;
        }
        flush_wanted_.store(false);
        next_sync = std::chrono::steady_clock::now() + interval_;
        // Every append that finished before this load is covered by the sync below.
        const auto target = appended_.load(std::memory_order_acquire);
        lock.unlock();
        flush_();
        const auto ec = sync_files();
        lock.lock();
        if (!ec) {
            synced_ = std::max(synced_, target);
            last_error_.clear();
        }
        // Split by moving into new vectors (never erase): in Boost 1.81, any_completion_handler's
        // move assignment recurses without end (fixed in 1.82), and erasing move-assigns.
        std::vector<waiter> done;
        std::vector<std::pair<std::uint64_t, waiter>> waiting;
        for (auto& w : waiters_) {
            if (ec || w.first <= target) {
                done.push_back(std::move(w.second));
            } else {
                waiting.emplace_back(w.first, std::move(w.second));
            }
        }
        waiters_.swap(waiting);
        lock.unlock();
        for (auto& w : done) {
            std::move(w)(ec);
        }
        lock.lock();
    }
    // Stopping: write what waits, and one last sync for whoever still waits.
    auto left = std::move(waiters_);
    lock.unlock();
    flush_();
    const auto ec = mode_ == fsync_mode::never ? boost::system::error_code{} : sync_files();
    for (auto& w : left) {
        std::move(w.second)(ec);
    }
}

std::string group_commit::last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
}

}  // namespace nhpush::spool
