#pragma once
/** @file The cancellation signals of the notifications queued in the library, by id. */

#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace nhpush::hubs {

/**
 * @brief One Asio cancellation signal per notification handed to the library, so that
 * `DELETE /v1/notifications/{id}` can cancel it while it is still queued.
 *
 * A send binds the slot of open()'s signal to its completion handler, arm()s it once async_send
 * returned (before that the library may still be installing its handler in the slot), and close()s
 * it in its completion handler. cancel() emits under the same lock as close(), so an emit never
 * races the completion (Asio's rule for a cancellation signal).
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
        boost::asio::cancellation_signal* signal = nullptr;  ///< null: not cancellable (id open already)
        bool cancelled = false;  ///< cancel() came first (it waited on disk): do not send it
    };

    /** @brief A signal for the send of `id`, to bind to its completion handler. */
    ticket open(std::string_view id);

    /** @brief The slot to bind (a disconnected one for a null signal). */
    static boost::asio::cancellation_slot slot_of(const ticket& t) {
        return t.signal != nullptr ? t.signal->slot() : boost::asio::cancellation_slot{};
    }

    /** @brief The send of `signal` is handed over: it may be cancelled from now on. */
    void arm(std::string_view id, const boost::asio::cancellation_signal* signal);

    /** @brief The send of `signal` completed: forgets it (no-op for a null signal). */
    void close(std::string_view id, const boost::asio::cancellation_signal* signal);

    /** @brief What cancel() did. */
    enum class outcome {
        cancelled,  ///< it was queued in the library: it completes with errc::cancelled, never sent
        cancelled_at_hand_over,  ///< not in the library's hands: its hand-over will cancel it (see withdraw)
        on_the_wire,             ///< it is being sent: a request cannot be recalled
    };

    /**
     * @brief Cancels `id`, which the caller knows is queued (the recent-results table says so).
     * In the library's queue: emits cancellation_type::terminal. Not handed to the library yet
     * (waiting in the spool, or being handed over now): remembered, and the hand-over cancels it.
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
    struct entry {
        boost::asio::cancellation_signal signal;
        bool armed = false;
        bool cancel_when_armed = false;
    };
    struct stripe {
        mutable std::mutex mutex;
        std::unordered_map<std::string, entry> entries;
        std::unordered_set<std::string> before_handover;  // cancelled before open(): few
    };
    stripe& stripe_of(std::string_view id);

    std::vector<std::unique_ptr<stripe>> stripes_;
};

}  // namespace nhpush::hubs
