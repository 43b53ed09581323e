#pragma once
/** @file Handing submissions to their hub and keeping track of what becomes of them. */

#include "hubs/hub_registry.hpp"
#include "hubs/recent_results.hpp"
#include "hubs/send_cancellations.hpp"
#include "hubs/unsent_log.hpp"
#include "spool/dead_letters.hpp"
#include "spool/spool.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>

#include <boost/system/error_code.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

namespace nhpush::hubs {

/** @brief Why the dispatcher itself refused a submission (the library's refusals are nhpush::errc). */
enum class dispatch_errc {
    duplicate_id = 1,   ///< the id is already queued, in flight or a recent result: nothing was submitted
    spool_unavailable,  ///< the spool could not be written: nothing was accepted
};

/** @brief The error category of dispatch_errc ("nhpushd.dispatch"). */
const boost::system::error_category& dispatch_category() noexcept;

inline boost::system::error_code make_error_code(dispatch_errc e) noexcept {
    return {static_cast<int>(e), dispatch_category()};
}

/** @brief What a refused submit() leaves for the answer. */
struct submit_refusal {
    send_result result;       ///< the library's result of a refusal (queue_full, invalid_notification, …)
    result_record existing;   ///< with duplicate_id: the state of the notification that holds the id
    std::string spool_error;  ///< with spool_unavailable: why the spool could not be written
};

/** @brief A submission as the dispatcher takes it: its hub, id, the notification and its JSON text. */
struct dispatch_request {
    hub_slot& slot;
    std::string id;
    notification n;
    std::string_view text;  ///< the object as submitted; spooled when a spool is on
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
 * close_after_final: a send's cancel key is closed only once its final result is in the
 * recent-results table. A DELETE in between then finds the key open and asks the hub, which no
 * longer holds the send (409), or finds the result (409). Closed first, the DELETE would take the
 * notification for one not yet handed over and answer 200 for one that was sent. A send that comes
 * back to be sent again (a stop or a reload cut it short) is closed first: its id is opened again.
 *
 * Thread-safety: any thread. Lifetime: outlive every hub it submitted to (stop the hubs first).
 */
class notification_dispatcher {
public:
    /// `spool`: where accepted notifications are kept until their final result; nullptr for none.
    /// `dead_letters`: where those that fail for good are recorded (with a spool); nullptr for none.
    notification_dispatcher(recent_results& results,
                            unsent_log& unsent,
                            spool::spool* spool = nullptr,
                            spool::dead_letters* dead_letters = nullptr)
        : results_(results), unsent_(unsent), spool_(spool), dead_letters_(dead_letters) {}

    /**
     * @brief Queues the notification on its hub under its id and returns at once.
     * With a spool, it is spooled first; `ticket` (if given) receives the ticket to await with
     * spool::async_wait_durable before answering.
     * @returns empty when accepted; otherwise why it was refused: dispatch_errc::duplicate_id (with the
     * holder's state in `refusal->existing`), dispatch_errc::spool_unavailable, or the library's
     * queue_full, shutting_down, invalid_notification (with its result in `refusal->result`).
     */
    boost::system::error_code submit(dispatch_request request,
                                     submit_refusal* refusal = nullptr,
                                     std::uint64_t* ticket = nullptr);

    /**
     * @brief submit() for each of `requests` (an NDJSON batch's lines), with its refusal in
     * `refusals` (as many). With a spool they are written in one write per hub; `ticket` receives
     * the ticket that covers them all.
     */
    std::vector<boost::system::error_code> submit_all(std::span<dispatch_request> requests,
                                                      std::span<submit_refusal> refusals,
                                                      std::uint64_t* ticket = nullptr);

    /// The old form, without the JSON text (no spool).
    boost::system::error_code submit(hub_slot& slot,
                                     const std::string& id,
                                     notification n,
                                     submit_refusal* refusal = nullptr) {
        return submit(dispatch_request{slot, id, std::move(n), {}}, refusal);
    }

    /**
     * @brief Sends a notification the spool hands over (read back from disk): `slot` is its hub, or
     * nullptr when no hub of that name is configured now; `n` is its parsed notification, or the
     * reason it no longer parses in `problem`. Either way it gets its final result.
     */
    void send_spooled(hub_slot* slot, spool::handoff&& h, std::optional<notification> n, std::string problem);

    /** @brief The spool, or nullptr. */
    spool::spool* spool() const noexcept { return spool_; }

    /** @brief Cancels notifications still queued, in the library or not handed to it yet. */
    send_cancellations& cancellations() noexcept { return cancellations_; }

    /** @brief Spooled notifications a stop cut short so far: they are sent after the next start. */
    std::uint64_t kept_for_next_start() const noexcept { return kept_for_next_start_.load(); }

    /** @brief Notifications the spool queued again at start (a previous run left them unfinished;
     *  those it had on the wire may reach the hub twice). */
    std::uint64_t recovered() const noexcept { return recovered_.load(); }
    void count_recovered(std::uint64_t n) noexcept { recovered_.fetch_add(n); }

    /**
     * @brief Queues `n` and completes once with its final result, as
     * `void(error_code, send_result, bool at_once)`; `at_once` is true for a refusal. The completion
     * is dispatched to the token's associated executor, so a session coroutine awaiting it with
     * use_awaitable resumes on its own thread.
     * Records the outcome as submit() does; a duplicate id completes at once with
     * dispatch_errc::duplicate_id (the holder's state is in the recent-results table).
     */
    template <class CompletionToken>
    auto async_submit(
        hub_slot& slot, std::string id, notification n, std::string text, CompletionToken&& token) {
        using signature = void(boost::system::error_code, send_result, bool);
        return boost::asio::async_initiate<CompletionToken, signature>(
            [this, &slot](auto handler, std::string id, notification n, std::string text) {
                if (spool_ != nullptr) {
                    return submit_spooled_and_wait(
                        slot, std::move(id), std::move(n), text, std::move(handler));
                }
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
            std::move(n),
            std::move(text));
    }

private:
    /// What runs after a spooled notification's result: `(ec, result, at_once)`.
    using then_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, send_result, bool)>;

    /// Dispatches `handler(ec, result, at_once)` to its associated executor.
    template <class Handler>
    static void complete(Handler handler, boost::system::error_code ec, send_result r, bool at_once) {
        auto ex = boost::asio::get_associated_executor(handler);
        boost::asio::dispatch(ex, [h = std::move(handler), ec, r = std::move(r), at_once]() mutable {
            std::move(h)(ec, std::move(r), at_once);
        });
    }

    /// async_submit with a spool: the waiting client's notification is spooled, then sent at once.
    template <class Handler>
    void submit_spooled_and_wait(
        hub_slot& slot, std::string id, notification n, std::string_view text, Handler handler) {
        submit_refusal refusal;
        dispatch_request request{slot, std::move(id), {}, text};
        auto spooled = std::move(spool_in(std::span(&request, 1), true, std::span(&refusal, 1)).front());
        if (auto ec = spooled.error) {
            if (ec == make_error_code(dispatch_errc::spool_unavailable)) {
                refusal.result.error_detail = std::move(refusal.spool_error);
            }
            return complete(std::move(handler), ec, std::move(refusal.result), true);
        }
        // send_now: a waiting client's notification is always handed over at once.
        send_handoff(slot,
                     std::move(spooled.handoff),
                     std::move(n),
                     [handler = std::move(handler)](
                         boost::system::error_code ec, send_result r, bool at_once) mutable {
                         complete(std::move(handler), ec, std::move(r), at_once);
                     });
    }

    /// One submission's way into the spool: refused (`error`), or its record and admission.
    struct spooled {
        boost::system::error_code error;  ///< duplicate_id, queue_full or spool_unavailable
        spool::handoff handoff;
        spool::admission admission;
    };

    /// Claims the ids and spools the submissions (one write per hub); why each refused one was
    /// refused goes to `refusals` (as many as `requests`). The caller sends those to send now.
    std::vector<spooled> spool_in(std::span<dispatch_request> requests,
                                  bool send_now,
                                  std::span<submit_refusal> refusals);

    /// Sends a spooled notification; `then(ec, result)` runs after the spool and the table have its
    /// final result (not for a refusal at once, which the spool keeps).
    void send_handoff(hub_slot& slot, spool::handoff&& h, notification&& n, then_handler then = {});

    boost::system::error_code submit_in_memory(dispatch_request& request, submit_refusal* refusal);

    /// The final result of a spooled notification, to the table, the health, the spool.
    void finish_spooled(hub_slot* slot,
                        spool::handoff&& h,
                        const boost::system::error_code& ec,
                        const send_result& r,
                        bool scheduled = false);
    void record_dead_letter(const spool::handoff& h, const result_record& r);

    /// A spooled notification a stop or a reload cut short: kept for the next start if nhpushd is
    /// stopping, else handed to the hub in force now.
    void keep_or_resend(spool::handoff&& h, const send_result& r);
    /// async_submit's hand-over to the library. A refusal completes inline: it forgets the claim
    /// (before the caller's handler can run) and marks the caller's at_once_outcome.
    template <class Handler>
    void send(hub_slot& slot, notification n, std::string id, Handler handler) {
        const auto cancel = cancellations_.open(*slot.hub, id);
        if (cancel.cancelled) {
            // DELETE came between the claim and this hand-over: cancelled, never sent.
            slot.cancelled_before_hand_over.fetch_add(1, std::memory_order_relaxed);
            results_.confirm(id);
            send_result r;
            r.error = make_error_code(errc::cancelled);
            r.error_detail = "cancelled while queued; never sent";
            finish(slot, id, r.error, r);
            auto ex = boost::asio::get_associated_executor(handler);
            boost::asio::dispatch(ex, [h = std::move(handler), r = std::move(r)]() mutable {
                std::move(h)(r.error, std::move(r), false);
            });
            return;
        }
        const bool scheduled = n.schedule_at.has_value();
        slot.hub->async_send_prepared(
            std::move(n),
            send_options{.cancel_key = cancel.key},
            [this, &slot, id = std::move(id), h = std::move(handler), key = cancel.key, scheduled](
                boost::system::error_code ec, send_result r) mutable {
                const bool at_once = refusing();
                if (at_once) {
                    cancellations_.close(key);
                    results_.forget(id);
                    detail::current_at_once->completed = true;
                } else {
                    finish(slot, id, ec, r, scheduled);
                    cancellations_.close(key);  // see close_after_final
                }
                auto ex = boost::asio::get_associated_executor(h);
                boost::asio::dispatch(ex, [h = std::move(h), ec, r = std::move(r), at_once]() mutable {
                    std::move(h)(ec, std::move(r), at_once);
                });
            });
        cancellations_.arm(cancel);
    }

    void finish(hub_slot& slot,
                const std::string& id,
                const boost::system::error_code& ec,
                const send_result& r,
                bool scheduled = false);
    static bool refusing() noexcept;

    recent_results& results_;
    unsent_log& unsent_;
    spool::spool* spool_;
    spool::dead_letters* dead_letters_;
    send_cancellations cancellations_;
    std::atomic<std::uint64_t> kept_for_next_start_{0};
    std::atomic<std::uint64_t> recovered_{0};
};

}  // namespace nhpush::hubs

template <>
struct boost::system::is_error_code_enum<nhpush::hubs::dispatch_errc> : std::true_type {};
