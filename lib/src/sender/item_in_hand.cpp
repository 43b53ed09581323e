#include "sender/item_in_hand.hpp"

#include <fmt/format.h>

namespace nhpush::detail {

std::string_view describe(send_step s) noexcept {
    switch (s) {
        case send_step::waiting:
            return "waiting for the rate limit or a hub pause";
        case send_step::building:
            return "building the request";
        case send_step::on_the_wire:
            return "sending the request";
        case send_step::hook:
            return "the on_exchange hook";
        case send_step::classifying:
            return "classifying the answer";
        case send_step::deciding:
            return "handling the answer";
    }
    return "sending";
}

void item_in_hand::fail_unexpected(std::string_view what) {
    if (!held_) {
        return;  // it threw after the item was completed or handed on (a completion handler, say)
    }
    result().error_detail = fmt::format("{} failed: {}", describe(step_), what);
    finish(make_error_code(errc::send_path_failed));
}

void item_in_hand::drop() noexcept {
    held_ = false;
    try {
        auto& r = result();
        if (!shard_.closing()) {
            r.error_detail = fmt::format("{} failed", describe(step_));
            shard_.finish(item_, make_error_code(errc::send_path_failed));
        } else if (step_ == send_step::on_the_wire) {
            r.error_detail =
                "the request was on the wire when the sender stopped; the hub may have accepted it";
            shard_.finish(item_, make_error_code(errc::outcome_unknown));
        } else {
            r.error_detail = "the sender stopped before this notification was sent";
            shard_.finish(item_, make_error_code(errc::shutting_down));
        }
    } catch (...) {
        // Out of memory while completing: nothing more can be done for this item here.
    }
}

}  // namespace nhpush::detail
