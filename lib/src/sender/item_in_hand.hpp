#pragma once
// The owner of a notification while a connection works on it: the one place that guarantees a
// completion, however the work ends.

#include "sender/shard.hpp"

#include <string_view>

namespace nhpush::detail {

/// Where a connection is with the item it holds. Names the step in error details, and says
/// whether the hub may already have the request.
enum class send_step {
    waiting,      ///< for the rate limit or a hub-wide pause
    building,     ///< the request (token, headers, body)
    on_the_wire,  ///< written or being written; the answer not yet read
    hook,         ///< hub_client_config::on_exchange
    classifying,  ///< the answer
    deciding      ///< what the answer leads to: finish, retry
};

/// "building the request", …: completes "… failed: what".
std::string_view describe(send_step s) noexcept;

/**
 * Owns one work item while a connection works on it, so that it is completed exactly once
 * whatever happens. finish() completes it; release() hands it on (to the queue, to a retry); an
 * item still held when the owner is destroyed (an exception unwound the connection's step, or its
 * coroutine was destroyed) completes through shard::finish, so stats and queue_depth stay right:
 * - with errc::outcome_unknown if the sender is stopping and the request was on the wire,
 * - with errc::shutting_down if the sender is stopping otherwise,
 * - with errc::send_path_failed otherwise (fail_unexpected() says what threw).
 * Not thread-safe: lives on its shard's thread.
 */
class item_in_hand {
public:
    item_in_hand(shard& s, work_item&& item) noexcept : shard_(s), item_(std::move(item)) {}
    ~item_in_hand() {
        if (held_) {
            drop();
        }
    }
    item_in_hand(const item_in_hand&) = delete;
    item_in_hand& operator=(const item_in_hand&) = delete;

    work_item& operator*() noexcept { return item_; }
    work_item* operator->() noexcept { return &item_; }
    send_result& result() { return item_.result(); }

    void step(send_step s) noexcept { step_ = s; }
    send_step step() const noexcept { return step_; }

    /// Completes the item with `ec` (empty: sent).
    void finish(boost::system::error_code ec) {
        held_ = false;
        shard_.finish(item_, ec);
    }
    /// Hands the item on; this owner no longer completes it.
    work_item release() noexcept {
        held_ = false;
        return std::move(item_);
    }
    /// Completes the item with send_path_failed: "<step> failed: <what>"; nothing if it is no
    /// longer held.
    void fail_unexpected(std::string_view what);

private:
    /// The fate of an item nobody finished or released.
    void drop() noexcept;

    shard& shard_;
    work_item item_;
    bool held_ = true;
    send_step step_ = send_step::waiting;
};

}  // namespace nhpush::detail
