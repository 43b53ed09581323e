#pragma once
/** @file The asynchronous Notification Hubs client: pooled TLS connections, a bounded queue, retries. */

#include "nhpush/error.hpp"
#include "nhpush/logger.hpp"
#include "nhpush/notification.hpp"
#include "nhpush/request.hpp"
#include "nhpush/response.hpp"
#include "nhpush/retry.hpp"
#include "nhpush/sas_token.hpp"
#include "nhpush/sender_stats.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace nhpush {

class worker_pool;

/** @brief Time limits of each network step; each is reported as its own errc when exceeded. */
struct timeouts_config {
    std::chrono::milliseconds resolve{5'000};
    std::chrono::milliseconds connect{5'000};
    std::chrono::milliseconds handshake{5'000};
    std::chrono::milliseconds write{10'000};
    std::chrono::milliseconds read{30'000};  ///< from the end of the write to the whole response
};

/** @brief Which HTTP version nhpush speaks to the hub. */
enum class hub_protocol {
    automatic,  ///< offer h2 and http/1.1 by ALPN and use what the hub picks
    h2,         ///< HTTP/2 only: a hub that does not pick h2 is a failed connect
    http1       ///< HTTP/1.1 only: one request at a time per connection
};

/** @brief Everything about how one hub is sent to. */
struct hub_client_config {
    hub_protocol protocol = hub_protocol::automatic;
    /// Connections kept open even when idle (0 to max_connections), spread over the pool's threads.
    std::size_t min_connections = 1;
    /// Connections at most (1–1024). Between the two, connections open as the work outstanding
    /// needs them (in flight ≈ rate × hub latency) and close after idle_timeout with nothing to do.
    std::size_t max_connections = 64;
    /// Concurrent requests per HTTP/2 connection at most (1–1000); the hub's
    /// SETTINGS_MAX_CONCURRENT_STREAMS lowers it. An HTTP/1.1 connection carries one at a time.
    std::size_t max_streams = 100;
    /// A connection above min_connections closes after this long with nothing to do.
    std::chrono::seconds idle_timeout{60};
    /// An HTTP/2 connection with nothing in flight sends a PING this often; no answer within
    /// timeouts.read and it is replaced. 0 = never.
    std::chrono::seconds ping_interval{30};
    /// Notifications queued or in flight at most; beyond it async_send fails with errc::queue_full.
    std::size_t queue_capacity = 100'000;
    /// Notifications a second at most, 0 for no limit.
    double rate_limit = 0;
    timeouts_config timeouts;
    retry_config retry;
    /// Reconnection back-off after a failed connect (base doubles up to the cap, with jitter).
    retry_config reconnect{0, std::chrono::milliseconds{100}, std::chrono::milliseconds{10'000}};
    /// A connection is replaced after this long, so DNS changes of the hub are picked up; 0 = never.
    std::chrono::seconds connection_max_age{300};
    /// A notification not sent this long after async_send fails with errc::deadline_expired.
    std::chrono::seconds notification_deadline{1800};
    /// PEM file of CAs to trust instead of the system store (e.g. nhpush-hubsim's certificate).
    std::string ca_file;
    std::string api_version = "2020-06";
    sas_token_config sas;
    /// Largest response body read from the hub.
    std::size_t max_response_bytes = 1 << 20;
    /// Called with every request and the hub's answer, for debugging (`nhpush direct --debug`).
    /// The request carries the SAS token: redact it before showing it. Runs on the pool's threads.
    std::function<void(const hub_request&, const hub_response_message&)> on_exchange;
};

/** @brief The final result of one notification. */
struct send_result {
    boost::system::error_code error;                ///< empty when sent; else why it was not
    unsigned http_status = 0;                       ///< the hub's last answer, 0 if none came
    bool unexpected_status = false;                 ///< sent, but the hub answered a 2xx other than 201
    int attempts = 0;                               ///< requests that reached the hub
    std::string notification_id;                    ///< from Location
    std::string tracking_id;                        ///< the hub's TrackingId
    std::string error_code;                         ///< the hub's <Code>, on failure
    std::string error_detail;                       ///< the hub's <Detail>, or what went wrong on our side
    std::optional<test_send_outcome> test_outcome;  ///< for test sends
    std::string body;                               ///< the response body of telemetry requests
    std::chrono::nanoseconds latency{0};            ///< from async_send to the final answer
};

/** @brief How one notification is sent, beyond the hub's configuration. */
struct send_options {
    /// When it fails with errc::deadline_expired if not sent; unset: notification_deadline after
    /// async_send. A notification resumed after a restart keeps the deadline it was accepted with.
    std::optional<std::chrono::system_clock::time_point> deadline;
    /// Attempts a previous run already made (a notification resumed after a restart): they count
    /// against `max_attempts` and in the result's `attempts`. It gets at least one attempt more.
    int attempts_before = 0;
    /// Not 0: notification_hub::cancel_queued(cancel_key) may cancel it while it is queued. The
    /// caller picks keys so that no two sends queued at once share one (e.g. a hash of its own id).
    /// 0: not cancellable by key. Costs a queued notification nothing.
    std::uint64_t cancel_key = 0;
};

/** @brief The completion signature of every asynchronous operation of notification_hub. */
using send_signature = void(boost::system::error_code, send_result);

namespace detail {
class hub_sender;
}

/**
 * @brief A client for one hub: mirrors the Python sample's and the .NET SDK's send methods.
 *
 * Thread-safety: every member function may be called from any thread concurrently. Completion
 * handlers run on their associated executor, or on one of the pool's threads when they have none.
 * Destroy the hub before the pool; the destructor stops the hub (as stop(0s)) and must not run on
 * one of the pool's threads.
 */
class notification_hub;

/**
 * @brief Emits cancellation_type::terminal on `signal`, whose slot is bound to the completion
 * handler of a notification_hub send, and says whether that stopped it.
 * @returns true if the notification was still queued: it is never sent and completes soon with
 * errc::cancelled. false if it is on the wire (it completes as it would have), already completed,
 * refused at submission, or the slot holds no send.
 * As with any Asio cancellation signal, do not emit concurrently with the send's completion
 * handler (serialise the two, e.g. with a mutex), and keep `signal` alive until that handler ran.
 */
bool cancel_queued_send(boost::asio::cancellation_signal& signal);

class notification_hub {
public:
    /// @throws std::invalid_argument for a bad connection string, hub name or config (names the field).
    notification_hub(worker_pool& pool,
                     std::string_view connection_string,
                     std::string_view hub_name,
                     hub_client_config config = {},
                     logger log = {});
    ~notification_hub();
    notification_hub(const notification_hub&) = delete;
    notification_hub& operator=(const notification_hub&) = delete;

    /**
     * @brief Validates, queues and sends `n`; completes once with the final result.
     *
     * Fails at once with errc::invalid_notification (error_detail says why), errc::queue_full or
     * errc::shutting_down. Completes exactly once even if a step of sending throws (then with
     * errc::send_path_failed). Accepts any Asio completion token (callback, use_awaitable, use_future,
     * deferred).
     */
    template <class CompletionToken>
    auto async_send(notification n, CompletionToken&& token) {
        return async_send(std::move(n), send_options{}, std::forward<CompletionToken>(token));
    }

    /** @brief As async_send, with `options` (a deadline, a cancel key). */
    template <class CompletionToken>
    auto async_send(notification n, send_options options, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, send_signature>(
            [this](auto handler, notification n, send_options options) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                submit(
                    std::move(n), erase_send_handler(std::move(handler)), validation::needed, options, slot);
            },
            token,
            std::move(n),
            options);
    }

    /**
     * @brief As async_send, for a notification that prepare_notification() already accepted (as
     * the daemon's submission parser does): it is not validated a second time.
     * @pre prepare_notification(n, …) returned no error.
     */
    template <class CompletionToken>
    auto async_send_prepared(notification n, CompletionToken&& token) {
        return async_send_prepared(std::move(n), send_options{}, std::forward<CompletionToken>(token));
    }

    /** @brief As async_send_prepared, with `options` (e.g. the deadline it was first accepted with). */
    template <class CompletionToken>
    auto async_send_prepared(notification n, send_options options, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, send_signature>(
            [this](auto handler, notification n, send_options options) {
                auto slot = boost::asio::get_associated_cancellation_slot(handler);
                submit(std::move(n), erase_send_handler(std::move(handler)), validation::done, options, slot);
            },
            token,
            std::move(n),
            options);
    }

    // Cancellation: a send whose completion handler has a bound cancellation slot
    // (asio::bind_cancellation_slot) may be cancelled with cancellation_type::terminal while the
    // notification is queued here (first, or waiting for a retry): it is then never sent (again)
    // and completes once, soon, with errc::cancelled. A request on the wire is not cancelled: it
    // cannot be recalled. See cancel_queued_send(). A send given a send_options::cancel_key can be
    // cancelled the same way by that key, with no slot: see cancel_queued().

    /**
     * @brief Cancels the send whose send_options::cancel_key is `key` if it is still queued here
     * (first, or waiting for a retry): it is never sent (again) and completes once, soon, with
     * errc::cancelled.
     * @returns true if it was queued; false if no send queued here has that key: on the wire,
     * completed, not handed over yet, or cancelled already (or `key` is 0).
     *
     * Meant for rare cancellations: it looks through the whole queue (linear in its length, about
     * a millisecond per 100,000 queued) with every worker's queue locked meanwhile. In exchange a
     * cancellable send costs nothing while it waits. Safe concurrently with the send's completion.
     */
    bool cancel_queued(std::uint64_t key);

    /** @brief Sends and waits: for simple programs, never from the pool's threads. */
    send_result send(notification n);

    /// @name Convenience sends, as in the Python sample (`tags` empty = broadcast)
    /// @{
    template <class T>
    auto send_apple_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::apple, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    template <class T>
    auto send_fcmv1_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::fcmv1, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    /// Legacy FCM ("gcm"): deprecated by Google; prefer send_fcmv1_notification.
    template <class T>
    auto send_google_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::gcm, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    /// WNS: X-WNS-Type is inferred from the XML root as the sample does.
    template <class T>
    auto send_windows_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::windows, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    /// MPNS: deprecated by Microsoft.
    template <class T>
    auto send_mpns_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::windowsphone, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    template <class T>
    auto send_adm_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::adm, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    template <class T>
    auto send_baidu_notification(std::string payload, std::string tags, T&& token) {
        return async_send(make(notification_format::baidu, std::move(payload), std::move(tags)),
                          std::forward<T>(token));
    }
    template <class T>
    auto send_template_notification(std::string properties, std::string tags, T&& token) {
        return async_send(make(notification_format::template_, std::move(properties), std::move(tags)),
                          std::forward<T>(token));
    }
    template <class T>
    auto send_direct_notification(notification n, std::string device_handle, T&& token) {
        n.device_handle = std::move(device_handle);
        return async_send(std::move(n), std::forward<T>(token));
    }
    template <class T>
    auto send_direct_batch(notification n, std::vector<std::string> device_handles, T&& token) {
        n.device_handles = std::move(device_handles);
        return async_send(std::move(n), std::forward<T>(token));
    }
    template <class T>
    auto schedule_notification(notification n, std::chrono::system_clock::time_point at, T&& token) {
        n.schedule_at = at;
        return async_send(std::move(n), std::forward<T>(token));
    }
    /// @}

    /** @brief `DELETE /hub/schedulednotifications/{id}`. */
    template <class CompletionToken>
    auto cancel_scheduled_notification(std::string id, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, send_signature>(
            [this](auto handler, std::string id) {
                submit_query(query_kind::cancel_scheduled,
                             std::move(id),
                             boost::asio::any_completion_handler<send_signature>(std::move(handler)));
            },
            token,
            std::move(id));
    }

    /** @brief `GET /hub/messages/{id}`: the `<NotificationDetails>` XML lands in send_result::body. */
    template <class CompletionToken>
    auto get_notification_outcome_details(std::string id, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, send_signature>(
            [this](auto handler, std::string id) {
                submit_query(query_kind::outcome_details,
                             std::move(id),
                             boost::asio::any_completion_handler<send_signature>(std::move(handler)));
            },
            token,
            std::move(id));
    }

    /**
     * @brief Stops taking work, lets queued and in-flight notifications finish for up to `drain`,
     * then interrupts every connection and fails what is left: errc::outcome_unknown for a request
     * on the wire (the hub may have it), errc::shutting_down for one never sent. Returns shortly
     * after `drain` whatever the hub does, once every notification has its result. Idempotent.
     * Not from the pool's threads.
     */
    void stop(std::chrono::milliseconds drain);

    /** @brief The counters, the queue depth and the age of the oldest queued notification. */
    sender_stats_snapshot stats() const;

    /** @brief The hub's name. */
    const std::string& hub_name() const noexcept;

private:
    enum class query_kind { cancel_scheduled, outcome_details };
    enum class validation { needed, done };

    static notification make(notification_format f, std::string payload, std::string tags) {
        notification n;
        n.format = f;
        n.payload = std::move(payload);
        n.tags = std::move(tags);
        return n;
    }

    /// A send's handler, type-erased without its cancellation slot: the sender installs its handler
    /// in that slot itself. (any_completion_handler would put a forwarding cancellation state in
    /// between: some 80 bytes more per queued notification.)
    template <class Handler>
    static boost::asio::any_completion_handler<send_signature> erase_send_handler(Handler handler) {
        return boost::asio::any_completion_handler<send_signature>(without_slot(std::move(handler)));
    }
    template <class Handler>
    static auto without_slot(Handler h) {
        return boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(), std::move(h));
    }
    // A slot binder (bind_cancellation_slot's token) is unwrapped, not nested: Boost 1.81 cannot
    // bind a slot over a slot binder.
    template <class Inner, class Slot>
    static auto without_slot(boost::asio::cancellation_slot_binder<Inner, Slot> h) {
        return boost::asio::cancellation_slot_binder<Inner, boost::asio::cancellation_slot>(
            boost::asio::cancellation_slot(), std::move(h.get()));
    }

    void submit(notification n,
                boost::asio::any_completion_handler<send_signature> handler,
                validation v,
                const send_options& options = {},
                boost::asio::cancellation_slot cancel_slot = {});
    void submit_query(query_kind kind,
                      std::string id,
                      boost::asio::any_completion_handler<send_signature> handler);

    std::shared_ptr<detail::hub_sender> sender_;
};

}  // namespace nhpush
