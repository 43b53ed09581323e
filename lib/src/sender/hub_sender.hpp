#pragma once
// The machinery behind notification_hub: the state a hub's shards share (config, endpoint, tokens,
// TLS context, stats, the hub-wide pause) and the stop protocol. One shard per worker thread.

#include "nhpush/notification_hub.hpp"
#include "nhpush/request.hpp"
#include "nhpush/worker_pool.hpp"
#include "sender/shard.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>

namespace nhpush::detail {

using steady = std::chrono::steady_clock;

/// Owns a hub's shards and the state they share. Lives in a shared_ptr held by every coroutine.
class hub_sender : public std::enable_shared_from_this<hub_sender> {
public:
    hub_sender(worker_pool& pool,
               const connection_string& cs,
               std::string_view hub,
               hub_client_config config,
               logger log);

    void start();
    /// Queues `item`; `validate` runs prepare_notification first (false: the caller did).
    /// `deadline`: when the item fails unless sent; unset: notification_deadline from now.
    /// `cancel_slot`: the caller's (connected: a send it may cancel while queued).
    void submit(work_item&& item,
                bool validate = true,
                std::optional<std::chrono::system_clock::time_point> deadline = std::nullopt,
                boost::asio::cancellation_slot cancel_slot = {});
    void stop(std::chrono::milliseconds drain);
    sender_stats_snapshot snapshot() const;

    const hub_client_config& config() const noexcept { return config_; }
    const hub_endpoint& endpoint() const noexcept { return endpoint_; }
    const logger& log() const noexcept { return log_; }
    sender_stats& stats() noexcept { return stats_; }
    sas_token_cache& tokens() noexcept { return tokens_; }
    boost::asio::ssl::context& tls() noexcept { return tls_; }

    /// The whole hub waits until this time after a throttling answer.
    steady::time_point paused_until() const noexcept {
        return steady::time_point{steady::duration{paused_until_.load(std::memory_order_relaxed)}};
    }
    void pause_until(steady::time_point until);
    /// A caller cancelled a queued notification: every shard drops what is cancelled.
    void drop_cancelled();
    /// Cancels the queued send whose work_item::cancel_key is `key` (not 0): see
    /// notification_hub::cancel_queued.
    bool cancel_queued(std::uint64_t key);
    /// The shard with the most notifications ready to send, for work stealing; null with one shard.
    shard* busiest_shard() noexcept;
    /// A connection's coroutine has started, or ended for good.
    void connection_started() noexcept { running_connections_.fetch_add(1); }
    void connection_exited();
    /// An accepted item was completed; `depth_before` is queue_depth before it left.
    void item_left(std::uint64_t depth_before) {
        // Only the last item out while stop() waits wakes it: nothing on the hot path.
        if (depth_before == 1 && stopping_.load()) {
            wake_stopper();
        }
    }

private:
    shard& pick_shard() noexcept;
    void wake_stopper();

    hub_client_config config_;
    logger log_;
    hub_endpoint endpoint_;
    sas_token_cache tokens_;
    boost::asio::ssl::context tls_;
    sender_stats stats_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::atomic<std::size_t> next_shard_{0};
    std::atomic<bool> accepting_{true};
    std::atomic<steady::rep> paused_until_{0};
    std::atomic<int> running_connections_{0};
    std::mutex stop_mutex_;  // one stop() at a time
    bool stopped_ = false;
    // stop() waits on these; the last item out and the last connection out signal.
    std::atomic<bool> stopping_{false};
    std::mutex stopper_mutex_;
    std::condition_variable stopper_;
};

}  // namespace nhpush::detail
