#pragma once
/** @file Which notifications are in the library's hands, by id hash, so that they can be cancelled. */

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace nhpush {
class notification_hub;
}

namespace nhpush::hubs {

/**
 * @brief Lets `DELETE /v1/notifications/{id}` cancel a notification while it is still queued: in
 * the library's queue (notification_hub::cancel_queued, by a key the hand-over gave it), or not yet
 * handed over (waiting in the spool, or being handed over now).
 *
 * A send open()s its id, passes the ticket's key as send_options::cancel_key, arm()s it once
 * async_send returned (until then the library may not have queued it yet), and close()s it in its
 * completion handler. What a notification in the library's hands costs here is its id's 64-bit
 * hash in a set: the library finds it in its queue by that key only when a cancel comes.
 *
 * Keys are the ids' hashes, as the recent-results table holds queued ids: two queued notifications
 * whose ids share a hash are one for it already (the second is refused as a duplicate), and a
 * second open() of a key that is open gets a ticket that cannot be cancelled.
 *
 * Races with the completion are safe: cancel() asks the library under the same lock as close(), so
 * the hub it asks still holds the notification or has completed it, and a hub outlives every
 * notification sent through it (hub_slot).
 *
 * Thread-safety: any thread; the table is split into stripes, each with its own lock.
 */
class send_cancellations {
public:
    send_cancellations();
    ~send_cancellations();
    send_cancellations(const send_cancellations&) = delete;
    send_cancellations& operator=(const send_cancellations&) = delete;

    /** @brief What open() gives a send about to be handed to the library. */
    struct ticket {
        std::uint64_t key = 0;   ///< send_options::cancel_key; 0: not cancellable (key open already)
        std::uint32_t turn = 0;  ///< tells this hand-over from a later one of the same key
        bool cancelled = false;  ///< cancel() came first (it waited on disk): do not send it
    };

    /** @brief The key the library knows the send of `id` by (never 0). */
    static std::uint64_t key_of(std::string_view id) noexcept;

    /** @brief The send of `id` is about to be handed to `hub`. */
    ticket open(notification_hub& hub, std::string_view id);

    /** @brief The send of `t` is handed over (async_send returned): cancel() asks its hub from now on. */
    void arm(const ticket& t);

    /** @brief The send of `key` (its ticket's) completed: forgets it (no-op for key 0). */
    void close(std::uint64_t key);

    /** @brief What cancel() did. */
    enum class outcome {
        cancelled,  ///< it was queued in the library: it completes with errc::cancelled, never sent
        cancelled_at_hand_over,  ///< not in the library's hands: its hand-over will cancel it (see withdraw)
        on_the_wire,             ///< it is being sent, or has just completed: a request cannot be recalled
    };

    /**
     * @brief Cancels `id`, which the caller knows is queued (the recent-results table says so).
     * In the library's hands: notification_hub::cancel_queued. Being handed over: waits until it is
     * armed or closed (another thread's few microseconds), then as before: the library's answer
     * decides. Not handed to the library yet (waiting in the spool): remembered, and the hand-over
     * cancels it.
     */
    outcome cancel(std::string_view id);

    /**
     * @brief Takes back a cancelled_at_hand_over that came too late: the notification finished in
     * the meantime (between the caller's look at its state and cancel()), so no hand-over will come.
     */
    void withdraw(std::string_view id);

    /** @brief Notifications that can be cancelled now (armed or not). */
    std::size_t size() const;

private:
    struct stripe;
    stripe& stripe_of(std::uint64_t key) const;

    std::vector<std::unique_ptr<stripe>> stripes_;
};

}  // namespace nhpush::hubs
