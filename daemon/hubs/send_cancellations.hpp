#pragma once
/** @file The cancellation signals of the notifications queued in the library, by id. */

#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
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

    /** @brief A signal for `id`; null when one is open already (that send is the cancellable one). */
    boost::asio::cancellation_signal* open(std::string_view id);

    /** @brief The send of `signal` is handed over: it may be cancelled from now on. */
    void arm(std::string_view id, const boost::asio::cancellation_signal* signal);

    /** @brief The send of `signal` completed: forgets it (no-op for a null signal). */
    void close(std::string_view id, const boost::asio::cancellation_signal* signal);

    /** @brief What cancel() did. */
    enum class outcome {
        cancelled,    ///< it was queued here: it completes with errc::cancelled, never sent
        on_the_wire,  ///< it is being sent: a request cannot be recalled
        unknown       ///< no notification of this id is in the library's hands
    };

    /** @brief Cancels the queued notification `id`. */
    outcome cancel(std::string_view id);

    /** @brief Notifications that can be cancelled now (armed or not). */
    std::size_t size() const;

private:
    struct entry {
        boost::asio::cancellation_signal signal;
        bool armed = false;
    };
    struct stripe {
        mutable std::mutex mutex;
        std::unordered_map<std::string, entry> entries;
    };
    stripe& stripe_of(std::string_view id);

    std::vector<std::unique_ptr<stripe>> stripes_;
};

}  // namespace nhpush::hubs
