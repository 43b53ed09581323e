#pragma once
/** @file The threads the sender runs on: one io_context per thread. */

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace nhpush {

/**
 * @brief N threads, each running its own io_context.
 *
 * Why one io_context per thread: each hub's connections and queue are split into per-thread
 * shards that are only touched by their own thread, so the per-request path takes no lock; only
 * handing a notification to a shard crosses threads (one post). Several hubs may share one pool.
 * Destroying the pool stops and joins the threads; destroy every hub that uses it first.
 */
class worker_pool {
public:
    /// `threads` = 0 means one per core.
    explicit worker_pool(std::size_t threads = 0);
    ~worker_pool();
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    std::size_t size() const noexcept { return contexts_.size(); }
    boost::asio::io_context& context(std::size_t i) noexcept { return *contexts_[i]; }

    /// True when called from one of the pool's threads.
    bool running_in_pool() const noexcept;

private:
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
    std::vector<std::thread> threads_;
};

}  // namespace nhpush
