#pragma once
// The machinery behind notification_hub: per-thread shards, each with a queue, delayed retries
// and its share of the hub's connections. Everything of a shard runs on its own io_context.

#include "nhpush/notification_hub.hpp"
#include "nhpush/rate_limiter.hpp"
#include "nhpush/request.hpp"
#include "nhpush/worker_pool.hpp"

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

/// What a queued entry asks of the hub.
enum class work_kind { send, cancel_scheduled, outcome_details };

/// Holds a completion handler. Its move assignment reconstructs the handler: in Boost 1.81,
/// any_completion_handler's own assignment recurses without end (fixed in 1.82), and containers
/// such as std::deque move-assign their elements.
struct handler_slot {
    boost::asio::any_completion_handler<send_signature> handler;

    handler_slot() = default;
    explicit handler_slot(boost::asio::any_completion_handler<send_signature> h) noexcept
        : handler(std::move(h)) {}
    handler_slot(handler_slot&&) noexcept = default;
    handler_slot& operator=(handler_slot&& other) noexcept {
        if (this != &other) {
            std::destroy_at(&handler);
            std::construct_at(&handler, std::move(other.handler));
        }
        return *this;
    }
};

/// One accepted notification (or query) until its final result.
struct work_item {
    work_kind kind = work_kind::send;
    notification n;
    std::string id;  // for queries
    handler_slot completion;
    steady::time_point enqueued_at;
    steady::time_point deadline;
    std::unique_ptr<send_result> partial_result;  // see result()

    /// The result so far, filled as attempts come back. Allocated at the first use, so a queued
    /// item that no attempt has reached is half the size (nhpushd holding 100k queued: 24 MB less).
    send_result& result() {
        if (!partial_result) {
            partial_result = std::make_unique<send_result>();
        }
        return *partial_result;
    }
};

class hub_sender;
class hub_connection;

/// A hub's share on one thread. Not thread-safe: only its io_context's thread touches it.
class shard {
public:
    shard(hub_sender& owner, boost::asio::io_context& ioc, std::size_t connections, double rate);
    ~shard();

    boost::asio::io_context& context() noexcept { return ioc_; }
    hub_sender& owner() noexcept { return owner_; }

    /// Starts the connections' coroutines.
    void start();
    void push(work_item item);
    void push_front(work_item item);
    /// Waits for work; nullopt once the shard is closing.
    boost::asio::awaitable<std::optional<work_item>> take(hub_connection& c);
    std::optional<work_item> try_take();
    /// Queues `item` again after `delay`. push_front and retry_later complete the item instead
    /// once the shard is closing.
    void retry_later(work_item item, steady::duration delay);
    /// Completes `item` with `ec` (empty: sent): counts it and leaves the queue. Every completion of
    /// an accepted item goes through here.
    void finish(work_item& item, boost::system::error_code ec);
    /// Completes `item` with shutting_down: the sender stopped before it was sent.
    void not_sent_at_stop(work_item& item);
    /// Fails every queued item with `ec` (used for certificate failures).
    void fail_all_ready(boost::system::error_code ec, const std::string& detail);

    token_bucket& bucket() noexcept { return bucket_; }
    double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
    bool closing() const noexcept { return closing_; }
    /// Fails everything queued with shutting_down and ends the connections.
    void close();
    steady::time_point oldest_enqueued() const noexcept {
        return steady::time_point{steady::duration{oldest_enqueued_.load(std::memory_order_relaxed)}};
    }

private:
    /// Runs `c`'s coroutine; should one end by an exception, a fresh one carries on.
    void spawn(hub_connection& c);
    void wake_one();
    void arm_retry_timer();
    void move_due_retries();
    boost::asio::awaitable<void> sweep_deadlines();
    void update_oldest();

    hub_sender& owner_;
    boost::asio::io_context& ioc_;
    std::deque<work_item> ready_;
    std::multimap<steady::time_point, work_item> delayed_;
    std::vector<hub_connection*> idle_;
    std::vector<std::unique_ptr<hub_connection>> connections_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer sweep_timer_;
    token_bucket bucket_;
    std::mt19937_64 rng_{std::random_device{}()};
    std::atomic<steady::rep> oldest_enqueued_{0};
    bool closing_ = false;
};

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
    void submit(work_item item, bool validate = true);
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
    /// A connection's coroutine has ended for good.
    void connection_exited();
    /// An accepted item was completed; `depth_before` is queue_depth before it left.
    void item_left(std::uint64_t depth_before) {
        // Only the last item out while stop() waits wakes it: nothing on the hot path.
        if (depth_before == 1 && stopping_.load()) {
            wake_stopper();
        }
    }

private:
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
