#pragma once
// One accepted notification (or query) on its way through the sender, until its final result.

#include "nhpush/notification_hub.hpp"

#include <boost/asio/any_completion_handler.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace nhpush::detail {

using steady = std::chrono::steady_clock;

/// What a queued entry asks of the hub.
enum class work_kind { send, cancel_scheduled, outcome_details };

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

/// One accepted notification (or query) until its final result.
struct work_item {
    work_kind kind = work_kind::send;
    notification n;
    std::string id;  // for queries
    handler_slot completion;
    steady::time_point enqueued_at;
    steady::time_point deadline;
    int free_resends = 0;                         // resent without an attempt: the hub had not processed it
    std::unique_ptr<send_result> partial_result;  // see result()

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
              send_result result);

}  // namespace nhpush::detail
