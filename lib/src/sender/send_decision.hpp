#pragma once
// The retry rule of the sender: what becomes of a notification after one request for it ended.
// Pure: the connection (HTTP/1.1 or HTTP/2) reports how the request ended and applies the answer.

#include "nhpush/error.hpp"
#include "nhpush/response.hpp"
#include "nhpush/retry.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>

namespace nhpush::detail {

using steady = std::chrono::steady_clock;

/// How one request for a notification ended, as the connection saw it.
enum class request_end {
    /// The hub answered; the answer is classified.
    answered,
    /// The hub cannot have processed it: HTTP/2 REFUSED_STREAM, a stream above a GOAWAY's last
    /// stream id, or a kept-alive HTTP/1.1 connection closed before any byte of the answer. Sent
    /// again at once without counting an attempt (no duplicate is possible), up to
    /// max_free_resends times; after that each counts as a failed attempt, so that a hub refusing
    /// everything is not sent the notification at full speed until its deadline.
    not_processed,
    /// Above the last stream id of the hub's GOAWAY (or not yet sent when it came): the hub drains
    /// the connection and did not process it. Sent again on another connection at once, never an
    /// attempt and never limited: each GOAWAY ends a connection, so this cannot spin.
    above_goaway,
    /// It failed on the wire (I/O error, stream reset, no answer in time, answer too large): the hub
    /// may or may not have it. Counts an attempt and is retried.
    failed,
    /// A connect failed while it waited first in the queue: it is charged an attempt so that a hub
    /// that cannot be reached surfaces as an error rather than as a silent queue.
    connect_failed,
};

/// What to do with the notification.
struct send_decision {
    enum class action {
        finish,       ///< complete it with `error` (empty: sent)
        resend_now,   ///< put it back at the head of the queue
        retry_later,  ///< queue it again after `delay`
    };
    action what = action::finish;
    boost::system::error_code error;
    std::chrono::milliseconds delay{0};
    /// Above zero: every connection of the hub waits this long (the hub throttled).
    std::chrono::milliseconds hub_pause{0};
    /// The request counts as an attempt.
    bool attempt = false;
};

/// Resends without an attempt a notification gets at most.
inline constexpr int max_free_resends = 3;

/// What the rule needs to know about the notification and the hub.
struct send_context {
    int attempts_before = 0;      ///< attempts made before this request
    int free_resends_before = 0;  ///< not_processed resends before this request
    const retry_config& retry;
    steady::time_point now;
    steady::time_point deadline;  ///< the notification's
    double jitter = 0;            ///< uniform in [0, 1)
};

/// The rule. `answer` is read only when `end` is request_end::answered.
send_decision decide_after(request_end end, const hub_response* answer, const send_context& context);

}  // namespace nhpush::detail
