#include "sender/shard.hpp"

#include "sender/hub_connection.hpp"
#include "sender/hub_sender.hpp"
#include "sender/pool_sizing.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace nhpush::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono;

// Runs the handler on its associated executor (inline when it has none). A lambda rather than
// asio::append: Boost 1.81 re-wraps an lvalue any_completion_handler inside append without end.
void complete(asio::any_completion_handler<send_signature> handler, error_code ec, send_result&& result) {
    auto ex = asio::get_associated_executor(handler);
    if (ex.target<asio::system_executor>() != nullptr) {
        // No executor of its own: run it here, as dispatch() would, without first moving it and
        // the result into a function object on the heap.
        std::move(handler)(ec, std::move(result));
        return;
    }
    asio::dispatch(ex, [h = std::move(handler), ec, r = std::move(result)]() mutable {
        std::move(h)(ec, std::move(r));
    });
}

shard::shard(hub_sender& owner, asio::io_context& ioc, shard_limits limits)
    : owner_(owner)
    , ioc_(ioc)
    , limits_(limits)
    , capacity_per_connection_(owner.config().protocol == hub_protocol::http1 ? 1
                                                                              : owner.config().max_streams)
    , retry_timer_(ioc)
    , sweep_timer_(ioc)
    , bucket_(limits.rate, std::max(1.0, limits.rate / 10)) {}

shard::~shard() = default;

void shard::start() {
    grow_pool();
    asio::co_spawn(ioc_, sweep_deadlines(), asio::detached);
}

void shard::learned_capacity(std::size_t requests_at_once) {
    capacity_per_connection_ = std::max<std::size_t>(requests_at_once, 1);
    grow_pool();
}

bool shard::claim_idle_close() noexcept {
    if (!may_close_idle(connections_.size() - retiring_, limits_.min_connections)) {
        return false;
    }
    ++retiring_;
    return true;
}

void shard::grow_pool() {
    if (closing_) {
        return;
    }
    const auto more = connections_to_open({.outstanding = ready_.size() + in_flight_,
                                           .connections = connections_.size() - retiring_,
                                           .per_connection = capacity_per_connection_,
                                           .min = limits_.min_connections,
                                           .max = limits_.max_connections});
    for (std::size_t i = 0; i < more; ++i) {
        open_connection();
    }
}

void shard::open_connection() {
    connections_.push_back(std::make_unique<hub_connection>(*this));
    const auto it = std::prev(connections_.end());
    owner_.connection_started();
    asio::co_spawn(
        ioc_, (*it)->run(), [this, it, keep_alive = owner_.shared_from_this()](std::exception_ptr e) {
            if (e) {
                // run() catches what its steps throw; this is a last resort, logged and replaced.
                keep_alive->log().log(log_level::error,
                                      "hub {}: a connection ended by an exception",
                                      keep_alive->endpoint().hub);
            }
            std::erase(idle_, it->get());
            if ((*it)->retiring()) {
                --retiring_;  // its claim to close for being idle ends with it
            }
            connections_.erase(it);
            keep_alive->connection_exited();
            grow_pool();
        });
}

void shard::update_oldest() {
    const auto oldest = ready_.empty() ? steady::time_point{} : ready_.front().enqueued_at;
    oldest_enqueued_.store(oldest.time_since_epoch().count(), std::memory_order_relaxed);
}

void shard::wake_one() {
    if (!idle_.empty()) {
        auto* c = idle_.back();
        idle_.pop_back();
        c->wake();
    }
}

void shard::hand_over(work_item&& item) {
    bool first = false;
    {
        std::lock_guard lock(queue_mutex_);
        first = incoming_.empty();
        incoming_.push_back(std::move(item));
    }
    // Whoever makes incoming_ non-empty asks the shard's thread to take it in: one post a batch.
    if (first) {
        asio::post(ioc_, [this, keep_alive = owner_.shared_from_this()] { take_incoming(); });
    }
}

void shard::take_incoming() {
    std::vector<work_item> ended;  // cancelled on their way here, or arriving after close()
    std::size_t added = 0;
    {
        std::lock_guard lock(queue_mutex_);
        const bool burst = incoming_.size() > 1024;
        // One at a time, each node freed before the next is allocated: a batch never takes twice
        // its memory (nhpushd's peak RSS with 100,000 queued was 1.8 MB higher when it did).
        for (; !incoming_.empty(); incoming_.pop_front()) {
            auto& item = incoming_.front();
            if (closing_ || item.cancelled()) {
                ended.push_back(std::move(item));
            } else {
                ready_.push_back(std::move(item));
                ++added;
            }
        }
        if (burst) {
            incoming_ = std::deque<work_item>();  // else it would keep a map sized for the burst
        }
    }
    for (auto& item : ended) {
        finish(item, make_error_code(closing_ ? errc::shutting_down : errc::cancelled));
    }
    update_oldest();
    publish_outstanding();
    for (; added > 0 && !idle_.empty(); --added) {
        wake_one();
    }
    grow_pool();
}

void shard::push_front(work_item item) {
    if (closing_) {
        // Handed back after close() emptied the queue (an answer that raced the stop): nobody
        // would take it any more.
        return not_sent_at_stop(item);
    }
    requeue_front(std::move(item));
    update_oldest();
    publish_outstanding();
    wake_one();
}

void shard::requeue_front(work_item item) {
    if (item.cancel != nullptr) {
        item.cancel->requeue();
    }
    std::lock_guard lock(queue_mutex_);
    ready_.push_front(std::move(item));
}

std::optional<work_item> shard::pop_ready() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    std::optional<work_item> item;
    {
        std::lock_guard lock(queue_mutex_);
        item.emplace(std::move(ready_.front()));
        ready_.pop_front();
    }
    update_oldest();
    publish_outstanding();
    return item;
}

std::optional<work_item> shard::try_take() {
    while (auto item = pop_ready()) {
        // Out of the queue, nothing marks it any more: cancelled_by_key is read without the lock.
        if (!item->cancelled_by_key && (item->cancel == nullptr || item->cancel->take())) {
            return item;
        }
        finish(*item, make_error_code(errc::cancelled));
    }
    return std::nullopt;
}

void shard::drop_cancelled() {
    finish_queued_if([](const work_item& i) { return i.cancelled(); }, errc::cancelled);
}

bool shard::mark_cancelled(std::uint64_t key) noexcept {
    const auto mark = [key](work_item& item) {
        if (item.cancel_key != key || item.cancelled()) {
            return false;
        }
        item.cancelled_by_key = true;
        return true;
    };
    for (auto& item : incoming_) {
        if (mark(item)) {
            return true;
        }
    }
    for (auto& item : ready_) {
        if (mark(item)) {
            return true;
        }
    }
    for (auto& [when, item] : delayed_) {
        if (mark(item)) {
            return true;
        }
    }
    return false;
}

bool shard::any_queued_past(steady::time_point now) const noexcept {
    // The sweep looks every second: a queue with nothing past its deadline costs no lock.
    const auto past = [now](const work_item& i) { return i.deadline <= now; };
    return std::any_of(ready_.begin(), ready_.end(), past) ||
           std::any_of(delayed_.begin(), delayed_.end(), [&](const auto& e) { return past(e.second); });
}

template <class Predicate>
void shard::finish_queued_if(Predicate matches, errc why) {
    // Taken out under the lock, completed after it: a completion handler may call into the hub.
    std::vector<work_item> ended;
    {
        std::lock_guard lock(queue_mutex_);
        for (auto it = ready_.begin(); it != ready_.end();) {
            if (matches(*it)) {
                ended.push_back(std::move(*it));
                it = ready_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto it = delayed_.begin(); it != delayed_.end();) {
            if (matches(it->second)) {
                ended.push_back(std::move(it->second));
                it = delayed_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& item : ended) {
        finish(item, make_error_code(why));
    }
    update_oldest();
    publish_outstanding();
}

asio::awaitable<void> shard::wait_for_work(hub_connection& c, steady::time_point until) {
    if (!ready_.empty() || closing_) {
        co_return;
    }
    steal_work();
    idle_.push_back(&c);
    co_await c.sleep_until(until);
    std::erase(idle_, &c);
}

void shard::steal_work() {
    if (stealing_) {
        return;
    }
    shard* victim = owner_.busiest_shard();
    if (victim == nullptr || victim == this || victim->ready_count() == 0) {
        return;
    }
    stealing_ = true;
    // The posted work holds the sender, so neither shard is gone when it runs.
    asio::post(victim->context(),
               [victim, thief = this, keep_alive = owner_.shared_from_this()] { victim->give_work(*thief); });
}

void shard::give_work(shard& thief) {
    // Half, at most 1000: enough to even out, and it leaves this shard's connections work too.
    const std::size_t n = std::min<std::size_t>((ready_.size() + 1) / 2, 1000);
    {
        // Both locks: at every moment cancel_queued() can look, an item is in one queue or the other.
        std::scoped_lock lock(queue_mutex_, thief.queue_mutex_);
        for (std::size_t i = 0; i < n; ++i) {
            thief.incoming_.push_back(std::move(ready_.back()));
            ready_.pop_back();
        }
    }
    update_oldest();
    publish_outstanding();
    asio::post(thief.context(), [&thief, keep_alive = owner_.shared_from_this()] {
        thief.stealing_ = false;
        thief.take_incoming();
    });
}

void shard::retry_later(work_item item, steady::duration delay) {
    if (closing_) {
        return not_sent_at_stop(item);
    }
    if (item.cancel != nullptr) {
        item.cancel->requeue();
    }
    {
        std::lock_guard lock(queue_mutex_);
        delayed_.emplace(steady::now() + delay, std::move(item));
    }
    publish_outstanding();
    arm_retry_timer();
}

void shard::arm_retry_timer() {
    if (delayed_.empty()) {
        return;
    }
    retry_timer_.expires_at(delayed_.begin()->first);
    retry_timer_.async_wait([this](error_code ec) {
        if (!ec) {
            move_due_retries();
        }
    });
}

void shard::move_due_retries() {
    const auto now = steady::now();
    std::size_t moved = 0;
    {
        // From one container to the other under one lock (see queue_mutex_). close() emptied
        // delayed_ for good, so nothing here meets a closing shard.
        std::lock_guard lock(queue_mutex_);
        while (!delayed_.empty() && delayed_.begin()->first <= now) {
            auto node = delayed_.extract(delayed_.begin());
            ready_.push_front(std::move(node.mapped()));
            ++moved;
        }
    }
    if (moved > 0) {
        update_oldest();
        publish_outstanding();
        for (; moved > 0 && !idle_.empty(); --moved) {
            wake_one();
        }
    }
    arm_retry_timer();
    grow_pool();
}

asio::awaitable<void> shard::sweep_deadlines() {
    const auto keep_alive = owner_.shared_from_this();
    while (!closing_) {
        sweep_timer_.expires_after(seconds{1});
        if (auto [ec] = co_await sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            ec || closing_) {
            break;
        }
        const auto now = steady::now();
        if (any_queued_past(now)) {
            finish_queued_if([now](const work_item& i) { return i.deadline <= now; }, errc::deadline_expired);
        }
    }
}

void shard::finish(work_item& item, error_code ec) {
    auto& stats = owner_.stats();
    auto& r = item.result();
    // Cancelled while queued: whatever ends it now (the sweep, a deadline, a stop), it was never
    // sent, and the caller was told it is cancelled. (Out of the queue: its flags no longer change.)
    if (item.cancelled()) {
        ec = make_error_code(errc::cancelled);
        r.error_detail = "cancelled while queued; never sent";
    }
    if (item.cancel != nullptr) {
        item.cancel->finish();
    }
    r.error = ec;
    r.latency = steady::now() - item.enqueued_at;
    if (!ec) {
        sender_stats::bump(r.unexpected_status ? stats.sent_unexpected_status : stats.sent);
        stats.record_latency(r.latency);
    } else if (ec == errc::hub_rejected) {
        sender_stats::bump(stats.failed_rejected);
        if (r.http_status == 401 || r.http_status == 403) {
            sender_stats::bump(stats.failed_auth);
        }
    } else if (ec == errc::deadline_expired) {
        sender_stats::bump(stats.failed_deadline);
    } else if (ec == errc::shutting_down) {
        sender_stats::bump(stats.failed_shutdown);
    } else if (ec == errc::outcome_unknown) {
        sender_stats::bump(stats.outcome_unknown);
    } else if (ec == errc::cancelled) {
        sender_stats::bump(stats.cancelled);
    } else if (ec == errc::send_path_failed) {
        sender_stats::bump(stats.failed_send_path);
    } else {
        sender_stats::bump(stats.failed_retries_exhausted);
    }
    publish_outstanding();
    owner_.item_left(stats.queue_depth.fetch_sub(1));
    complete(std::move(item.completion.handler), ec, std::move(r));
}

void shard::not_sent_at_stop(work_item& item) {
    item.result().error_detail = "the sender stopped before this notification was sent";
    finish(item, make_error_code(errc::shutting_down));
}

void shard::fail_all_ready(error_code ec, const std::string& detail) {
    while (auto item = try_take()) {
        item->result().error_detail = detail;
        finish(*item, ec);
    }
}

void shard::close() {
    closing_ = true;
    fail_all_ready(make_error_code(errc::shutting_down),
                   "the sender stopped before this notification was sent");
    std::vector<work_item> waiting;
    {
        std::lock_guard lock(queue_mutex_);
        for (auto& [when, item] : delayed_) {
            waiting.push_back(std::move(item));
        }
        delayed_.clear();
    }
    for (auto& item : waiting) {
        item.result().error_detail = "the sender stopped before this notification was retried";
        finish(item, make_error_code(errc::shutting_down));
    }
    retry_timer_.cancel();
    sweep_timer_.cancel();
    for (auto& c : connections_) {
        c->interrupt();
    }
}

}  // namespace nhpush::detail
