#pragma once
/** @file Handing submissions to their hub and keeping track of what becomes of them. */

#include "hubs/hub_registry.hpp"
#include "hubs/recent_results.hpp"
#include "hubs/unsent_log.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace nhpush::hubs {

/** @brief Why the dispatcher itself refused a submission (the library's refusals are nhpush::errc). */
enum class dispatch_errc {
    duplicate_id = 1,  ///< the id is already queued, in flight or a recent result: nothing was submitted
};

/** @brief The error category of dispatch_errc ("nhpushd.dispatch"). */
const boost::system::error_category& dispatch_category() noexcept;

inline boost::system::error_code make_error_code(dispatch_errc e) noexcept {
    return {static_cast<int>(e), dispatch_category()};
}

/** @brief What a refused submit() leaves for the answer. */
struct submit_refusal {
    send_result result;      ///< the library's result of a refusal (queue_full, invalid_notification, …)
    result_record existing;  ///< with duplicate_id: the state of the notification that holds the id
};

namespace detail {

/// Where a completion that runs inside async_send's own call (a refusal at once) is stored.
struct at_once_outcome {
    bool completed = false;
    boost::system::error_code ec;
    send_result result;
};

/// Non-null while this thread is inside notification_hub::async_send for a submission.
extern thread_local at_once_outcome* current_at_once;

/// Sets current_at_once for the duration of one async_send call (and restores it).
class at_once_scope {
public:
    explicit at_once_scope(at_once_outcome* outcome) noexcept : saved_(current_at_once) {
        current_at_once = outcome;
    }
    ~at_once_scope() { current_at_once = saved_; }
    at_once_scope(const at_once_scope&) = delete;
    at_once_scope& operator=(const at_once_scope&) = delete;

private:
    at_once_outcome* saved_;
};

}  // namespace detail

/**
 * @brief Submits notifications to hubs, records them in the recent-results table, and updates the
 * hub's health and the unsent log with every final result.
 *
 * Ids are idempotent: a submission whose id the recent-results table holds (queued, in flight or
 * recent) is refused with dispatch_errc::duplicate_id and changes nothing; the claim is atomic, so
 * of concurrent submissions of one id exactly one is queued. A refusal releases only its own claim.
 *
 * The library completes a refusal (queue full, invalid, shutting down) inside async_send on the
 * caller's thread, and a final result later on a worker. The two are told apart without allocating:
 * a thread-local pointer is set only for the duration of the async_send call, and a handler that
 * runs while it is set is the refusal. (A later completion runs from an event loop, never nested in
 * another async_send call.)
 *
 * Thread-safety: any thread. Lifetime: outlive every hub it submitted to (stop the hubs first).
 */
class notification_dispatcher {
public:
    notification_dispatcher(recent_results& results, unsent_log& unsent)
        : results_(results), unsent_(unsent) {}

    /**
     * @brief Queues `n` on `slot`'s hub under `id` and returns at once.
     * @returns empty when queued; otherwise why it was refused: dispatch_errc::duplicate_id (with the
     * holder's state in `refusal->existing`), or the library's queue_full, shutting_down,
     * invalid_notification (with its result in `refusal->result`).
     */
    boost::system::error_code submit(hub_slot& slot,
                                     const std::string& id,
                                     notification n,
                                     submit_refusal* refusal = nullptr);

    /**
     * @brief Queues `n` and completes once with its final result, as
     * `void(error_code, send_result, bool at_once)`; `at_once` is true for a refusal. The completion
     * is dispatched to the token's associated executor, so a session coroutine awaiting it with
     * use_awaitable resumes on its own thread.
     * Records the outcome as submit() does; a duplicate id completes at once with
     * dispatch_errc::duplicate_id (the holder's state is in the recent-results table).
     */
    template <class CompletionToken>
    auto async_submit(hub_slot& slot, std::string id, notification n, CompletionToken&& token) {
        using signature = void(boost::system::error_code, send_result, bool);
        return boost::asio::async_initiate<CompletionToken, signature>(
            [this, &slot](auto handler, std::string id, notification n) {
                if (results_.claim(id, slot.name)) {
                    auto ex = boost::asio::get_associated_executor(handler);
                    boost::asio::dispatch(ex, [h = std::move(handler)]() mutable {
                        std::move(h)(make_error_code(dispatch_errc::duplicate_id), send_result{}, true);
                    });
                    return;
                }
                const std::string claimed = id;
                detail::at_once_outcome marker;
                detail::at_once_scope scope(&marker);
                try {
                    send(slot, std::move(n), std::move(id), std::move(handler));
                } catch (...) {
                    if (!marker.completed) {
                        results_.forget(claimed);  // never leave a claim pending: others of this id wait
                    }
                    throw;
                }
                if (!marker.completed) {
                    results_.confirm(claimed);
                }
            },
            token,
            std::move(id),
            std::move(n));
    }

private:
    /// async_submit's hand-over to the library. A refusal completes inline: it forgets the claim
    /// (before the caller's handler can run) and marks the caller's at_once_outcome.
    template <class Handler>
    void send(hub_slot& slot, notification n, std::string id, Handler handler) {
        slot.hub->async_send_prepared(
            std::move(n),
            [this, &slot, id = std::move(id), h = std::move(handler)](boost::system::error_code ec,
                                                                      send_result r) mutable {
                const bool at_once = refusing();
                if (at_once) {
                    results_.forget(id);
                    detail::current_at_once->completed = true;
                } else {
                    finish(slot, id, ec, r);
                }
                auto ex = boost::asio::get_associated_executor(h);
                boost::asio::dispatch(ex, [h = std::move(h), ec, r = std::move(r), at_once]() mutable {
                    std::move(h)(ec, std::move(r), at_once);
                });
            });
    }

    void finish(hub_slot& slot,
                const std::string& id,
                const boost::system::error_code& ec,
                const send_result& r);
    static bool refusing() noexcept;

    recent_results& results_;
    unsent_log& unsent_;
};

}  // namespace nhpush::hubs

template <>
struct boost::system::is_error_code_enum<nhpush::hubs::dispatch_errc> : std::true_type {};
