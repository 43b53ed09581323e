#pragma once
// A hub's share on one thread: its queue (ready and delayed notifications), its deadline sweep, and
// its connections, opened as the work outstanding needs them (pool_sizing.hpp). Everything of a
// shard runs on its own io_context; nothing here is thread-safe but the atomic counters, hand_over()
// and what is said to hold queue_mutex().

#include "nhpush/rate_limiter.hpp"
#include "sender/work_item.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

namespace nhpush::detail {

class hub_sender;
class hub_connection;

/// The shard's part of the hub's connection limits.
struct shard_limits {
    std::size_t min_connections = 0;
    std::size_t max_connections = 1;
    double rate = 0;  ///< notifications a second, 0 = none
};

class shard {
public:
    shard(hub_sender& owner, boost::asio::io_context& ioc, shard_limits limits);
    ~shard();

    boost::asio::io_context& context() noexcept { return ioc_; }
    hub_sender& owner() noexcept { return owner_; }

    /// Opens the minimum of connections and starts the deadline sweep.
    void start();

    /// @name The queue
    /// Queued items are in `incoming_` (handed over, not yet taken in), `ready_` or `delayed_`, and
    /// they change containers under queue_mutex_ only, so that cancel_queued() can find an item by
    /// its key from any thread without an index: a queued item is always in one of them. The
    /// shard's thread is the only writer of `ready_` and `delayed_` and reads them without the lock.
    /// @{
    /// From any thread: queues `item` here (taken in on the shard's thread).
    void hand_over(work_item&& item);
    /// Back at the head: the hub had not processed it, or a retry is due.
    void push_front(work_item item);
    /// The next item for the wire (cancelled ones are completed on the way).
    std::optional<work_item> try_take();
    /// Completes every queued item whose caller cancelled it (errc::cancelled).
    void drop_cancelled();
    /// Guards the containers of the queued items (see above); never held while calling out.
    std::mutex& queue_mutex() noexcept { return queue_mutex_; }
    /// With queue_mutex() held, from any thread: marks the queued item with `key` as cancelled (the
    /// shard drops it at its next look, drop_cancelled() or try_take()). False if no item queued
    /// here has that key, or it was cancelled already.
    bool mark_cancelled(std::uint64_t key) noexcept;
    /// Finishes with `why` every queued or delayed item that `matches`.
    template <class Predicate>
    void finish_queued_if(Predicate matches, errc why);
    bool has_ready() const noexcept { return !ready_.empty(); }
    /// Waits until work is ready, `until`, a wake() of `c`, or the shard closes.
    boost::asio::awaitable<void> wait_for_work(hub_connection& c, steady::time_point until);
    /// Queues `item` again after `delay`. push_front and retry_later complete the item instead
    /// once the shard is closing.
    void retry_later(work_item item, steady::duration delay);
    /// @}

    /// Completes `item` with `ec` (empty: sent): counts it and leaves the queue. Every completion of
    /// an accepted item goes through here.
    void finish(work_item& item, boost::system::error_code ec);
    /// Completes `item` with shutting_down: the sender stopped before it was sent.
    void not_sent_at_stop(work_item& item);
    /// Fails every queued item with `ec` (used for certificate failures).
    void fail_all_ready(boost::system::error_code ec, const std::string& detail);

    /// @name What connections tell the shard
    /// @{
    /// Requests a connection of this shard carries at once, learnt at each connect.
    void learned_capacity(std::size_t requests_at_once);
    void request_started() noexcept { ++in_flight_; }
    void request_ended() noexcept { --in_flight_; }
    /// A connection with nothing to do asks to close: true if the shard keeps its minimum
    /// without it (it then no longer counts towards the minimum).
    bool claim_idle_close() noexcept;
    /// @}

    token_bucket& bucket() noexcept { return bucket_; }
    double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
    bool closing() const noexcept { return closing_; }
    /// Fails everything queued with shutting_down and ends the connections.
    void close();
    /// @name Work stealing: a shard whose connections wait for work takes some of another's queue,
    /// so that a shard whose connections are slow or down does not strand its queue.
    /// @{
    /// Ready to send here now (published for other threads).
    std::size_t ready_count() const noexcept { return ready_count_.load(std::memory_order_relaxed); }
    /// On this shard's thread: hands up to half the ready queue to `thief` (on its thread).
    void give_work(shard& thief);
    /// @}

    /// Queued or in flight here: submit() sends new work to the less loaded of two shards.
    std::size_t outstanding() const noexcept { return outstanding_.load(std::memory_order_relaxed); }
    steady::time_point oldest_enqueued() const noexcept {
        return steady::time_point{steady::duration{oldest_enqueued_.load(std::memory_order_relaxed)}};
    }

private:
    /// On the shard's thread: moves what was handed over into the ready queue.
    void take_incoming();
    /// On the shard's thread: the item at the head of the ready queue, removed; nullopt if none.
    std::optional<work_item> pop_ready();
    /// `item` back at the head of the ready queue (cancellable again).
    void requeue_front(work_item item);
    /// Whether a queued item's deadline is `now` or earlier (a look without the lock: see above).
    bool any_queued_past(steady::time_point now) const noexcept;
    /// Opens as many connections as the outstanding work needs (pool_sizing.hpp).
    void grow_pool();
    void open_connection();
    void wake_one();
    void arm_retry_timer();
    void move_due_retries();
    boost::asio::awaitable<void> sweep_deadlines();
    void update_oldest();
    void publish_outstanding() noexcept {
        outstanding_.store(ready_.size() + delayed_.size() + in_flight_, std::memory_order_relaxed);
        ready_count_.store(ready_.size(), std::memory_order_relaxed);
    }
    /// Asks the shard with the most ready work for some, once at a time.
    void steal_work();

    hub_sender& owner_;
    boost::asio::io_context& ioc_;
    shard_limits limits_;
    std::mutex queue_mutex_;
    std::deque<work_item> incoming_;  // written by any thread, under queue_mutex_
    std::deque<work_item> ready_;
    std::multimap<steady::time_point, work_item> delayed_;
    std::vector<hub_connection*> idle_;  // waiting in wait_for_work
    std::list<std::unique_ptr<hub_connection>> connections_;
    std::size_t capacity_per_connection_;
    std::size_t retiring_ = 0;  // connections closing for being idle, not yet gone
    std::size_t in_flight_ = 0;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer sweep_timer_;
    token_bucket bucket_;
    std::mt19937_64 rng_{std::random_device{}()};
    std::atomic<std::size_t> outstanding_{0};
    std::atomic<std::size_t> ready_count_{0};
    bool stealing_ = false;  // a steal_work() request is under way
    std::atomic<steady::rep> oldest_enqueued_{0};
    bool closing_ = false;
};

}  // namespace nhpush::detail
