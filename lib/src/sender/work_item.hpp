#pragma once
// One accepted notification (or query) on its way through the sender, until its final result.

#include "nhpush/notification_hub.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace nhpush::detail {

using steady = std::chrono::steady_clock;

/// What a queued entry asks of the hub.
enum class work_kind : std::uint8_t { send, cancel_scheduled, outcome_details };

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

class hub_sender;

/// The library's handler in the cancellation slot of a send's completion handler. It lives in the
/// signal's memory (the caller's), from submission until the signal is destroyed, and is the one
/// place where the emitter's thread and the shard's thread meet: a notification is cancelled if the
/// emitter moves it from queued to cancelled before a connection moves it from queued to taken.
class queued_cancellation {
public:
    enum class phase : std::uint8_t { queued, taken, cancelled, done };

    explicit queued_cancellation(std::weak_ptr<hub_sender> sender) noexcept : sender_(std::move(sender)) {}

    /// On the emitter's thread: cancellation_type::terminal cancels a queued notification (the
    /// shards then drop it); other types, and a notification taken or done, are left as they are.
    void operator()(boost::asio::cancellation_type type);

    /// On the shard's thread: a connection takes the notification; false if it was cancelled.
    bool take() noexcept { return advance(phase::queued, phase::taken); }
    /// On the shard's thread: back in the queue (a retry), so cancellable again.
    void requeue() noexcept { advance(phase::taken, phase::queued); }
    bool cancelled() const noexcept { return phase_.load(std::memory_order_acquire) == phase::cancelled; }
    /// Before the completion handler runs: later emits find nothing to do.
    void finish() noexcept { phase_.store(phase::done, std::memory_order_release); }

private:
    bool advance(phase from, phase to) noexcept {
        return phase_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
    }

    std::atomic<phase> phase_{phase::queued};
    std::weak_ptr<hub_sender> sender_;
};

/// One accepted notification (or query) until its final result.
struct work_item {
    // The small fields share the first 8 bytes, so the cancel key costs a queued item nothing.
    work_kind kind = work_kind::send;
    bool cancelled_by_key = false;  // cancel_queued(cancel_key) found it queued; see shard::queue_mutex_
    int free_resends = 0;           // resent without an attempt: the hub had not processed it
    notification n;
    std::string id;  // for queries
    handler_slot completion;
    steady::time_point enqueued_at;
    steady::time_point deadline;
    std::uint64_t cancel_key = 0;                 // send_options::cancel_key; 0: none
    std::unique_ptr<send_result> partial_result;  // see result()
    queued_cancellation* cancel = nullptr;        // in the handler's cancellation slot; null: not cancellable

    /// Cancelled while queued, by its caller's slot or by its key: never to be sent (again).
    bool cancelled() const noexcept { return cancelled_by_key || (cancel != nullptr && cancel->cancelled()); }

    /// The result so far, filled as attempts come back. Allocated at the first use, so a queued
    /// item that no attempt has reached is half the size (nhpushd holding 100k queued: 24 MB less).
    send_result& result() {
        if (!partial_result) {
            partial_result = std::make_unique<send_result>();
        }
        return *partial_result;
    }
};

/// Runs a completion handler on its associated executor (inline when it has none).
void complete(boost::asio::any_completion_handler<send_signature> handler,
              boost::system::error_code ec,
              send_result&& result);

}  // namespace nhpush::detail
