#include "hubs/notification_dispatcher.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nhpush::hubs {

namespace detail {
thread_local at_once_outcome* current_at_once = nullptr;
}  // namespace detail

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::system_clock;

std::int64_t unix_ms(system_clock::time_point t) {
    return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// What a spooled notification's completion keeps of its handoff while the library holds it: no
// submission (it is on disk) and no hub (its slot's name). The completion sits in the handler the
// library invokes, so it is in cache when the result comes (a 50 ms-old heap block of its own was
// not), and it is cheap to move, which the library does several times: the id (a UUID, past the
// short-string buffer) moves as a pointer, the rest are integers.
struct in_flight {
    std::string id;
    std::int64_t accepted_at_ms = 0;
    std::int64_t deadline_ms = 0;
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    std::uint32_t attempts = 0;

    explicit in_flight(spool::handoff&& h)
        : id(std::move(h.record.id))
        , accepted_at_ms(h.record.accepted_at_ms)
        , deadline_ms(h.record.deadline_ms)
        , segment(h.segment)
        , offset(h.offset)
        , attempts(h.attempts) {}

    /// The handoff again, for the spool.
    spool::handoff back(std::string_view hub) && {
        return {.record = {.id = std::move(id),
                           .hub = std::string(hub),
                           .accepted_at_ms = accepted_at_ms,
                           .deadline_ms = deadline_ms},
                .segment = segment,
                .offset = offset,
                .attempts = attempts};
    }
};

spool::final_fields final_of(const spool::handoff& h, const result_record& r) {
    return {.id = h.record.id,
            .hub = h.record.hub,
            .segment = h.segment,
            .sent = r.state == notification_state::sent,
            .reason = r.reason,
            .http_status = r.http_status,
            .attempts = static_cast<std::uint32_t>(r.attempts),
            .notification_id = r.notification_id,
            .tracking_id = r.tracking_id,
            .error_code = r.error_code,
            .error_detail = r.error_detail};
}

class dispatch_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nhpushd.dispatch"; }
    std::string message(int value) const override {
        switch (static_cast<dispatch_errc>(value)) {
            case dispatch_errc::duplicate_id:
                return "the id is already queued, in flight or a recent result";
            case dispatch_errc::spool_unavailable:
                return "the spool cannot be written";
        }
        return "unknown dispatch error";
    }
};

}  // namespace

const boost::system::error_category& dispatch_category() noexcept {
    static const dispatch_category_impl category;
    return category;
}

bool notification_dispatcher::refusing() noexcept {
    return detail::current_at_once != nullptr;
}

boost::system::error_code notification_dispatcher::submit(dispatch_request request,
                                                          submit_refusal* refusal,
                                                          std::uint64_t* ticket) {
    submit_refusal ignored;
    return submit_all(std::span(&request, 1), std::span(refusal != nullptr ? refusal : &ignored, 1), ticket)
        .front();
}

std::vector<boost::system::error_code> notification_dispatcher::submit_all(
    std::span<dispatch_request> requests, std::span<submit_refusal> refusals, std::uint64_t* ticket) {
    std::vector<boost::system::error_code> out(requests.size());
    if (spool_ == nullptr) {
        for (std::size_t i = 0; i < requests.size(); ++i) {
            out[i] = submit_in_memory(requests[i], &refusals[i]);
        }
        return out;
    }
    auto spooled = spool_in(requests, false, refusals);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        out[i] = spooled[i].error;
        if (spooled[i].error) {
            continue;
        }
        if (ticket != nullptr) {
            *ticket = spooled[i].admission.ticket;
        }
        if (spooled[i].admission.send_now) {
            send_handoff(requests[i].slot, std::move(spooled[i].handoff), std::move(requests[i].n));
        }
    }
    return out;
}

std::vector<notification_dispatcher::spooled> notification_dispatcher::spool_in(
    std::span<dispatch_request> requests, bool send_now, std::span<submit_refusal> refusals) {
    std::vector<spooled> out(requests.size());
    std::vector<spool::intake> intakes;
    std::vector<std::size_t> claimed;
    intakes.reserve(requests.size());
    claimed.reserve(requests.size());
    const auto now = system_clock::now();
    for (std::size_t i = 0; i < requests.size(); ++i) {
        auto& r = requests[i];
        // Only the first claim may wait for another's pending claim of its id: waiting while
        // holding claims could deadlock with a session that waits for one of ours.
        if (auto existing = results_.claim(r.id, r.slot.name, claimed.empty())) {
            refusals[i].existing = std::move(*existing);
            out[i].error = dispatch_errc::duplicate_id;
            continue;
        }
        // The handoff keeps no copy of the submission: it is on disk, for a dead letter. (Its
        // fields are set one by one: no temporary record to move from and destroy.)
        auto& record = out[i].handoff.record;
        record.id = r.id;
        record.hub = r.slot.name;
        record.accepted_at_ms = unix_ms(now);
        record.deadline_ms = unix_ms(now + r.slot.config.client.notification_deadline);
        claimed.push_back(i);
        auto fields = spool::fields_of(record);
        fields.submission = r.text;  // framed from the request, where it is
        intakes.push_back(
            {.record = fields, .send_now = send_now, .capacity = r.slot.config.client.queue_capacity});
    }
    auto admitted = spool_->accept(intakes);
    for (std::size_t k = 0; k < claimed.size(); ++k) {
        const auto i = claimed[k];
        auto& s = out[i];
        s.admission = std::move(admitted[k]);
        if (s.admission.accepted()) {
            s.handoff.segment = s.admission.segment;
            s.handoff.offset = s.admission.offset;
            results_.confirm(requests[i].id);
            continue;
        }
        results_.forget(requests[i].id);
        if (s.admission.full()) {
            // queue_capacity bounds what waits on disk as it bounds the queue in memory.
            refusals[i].result.error = make_error_code(errc::queue_full);
            s.error = errc::queue_full;
        } else {
            refusals[i].spool_error = s.admission.problem;
            s.error = dispatch_errc::spool_unavailable;
        }
    }
    return out;
}

void notification_dispatcher::send_handoff(hub_slot& slot,
                                           spool::handoff&& h,
                                           notification&& n,
                                           then_handler then) {
    const auto deadline = system_clock::time_point(milliseconds(h.record.deadline_ms));
    const auto cancel = cancellations_.open(*slot.hub, h.record.id);
    if (cancel.cancelled) {
        // Cancelled while it waited in the spool: never handed to the library.
        slot.cancelled_before_hand_over.fetch_add(1, std::memory_order_relaxed);
        send_result r;
        r.error = make_error_code(errc::cancelled);
        r.error_detail = "cancelled while queued; never sent";
        finish_spooled(&slot, std::move(h), r.error, r);
        if (then) {
            std::move(then)(r.error, std::move(r), false);
        }
        return;
    }
    const bool scheduled = n.schedule_at.has_value();
    const send_options options{
        .deadline = deadline, .attempts_before = static_cast<int>(h.attempts), .cancel_key = cancel.key};
    detail::at_once_outcome outcome;
    detail::at_once_scope scope(&outcome);
    // The completion keeps what the final record needs of the accepted one. Its cancel key lets
    // DELETE /v1/notifications/{id} stop it while it is queued in the library.
    slot.hub->async_send_prepared(
        std::move(n),
        options,
        [this, &slot, kept = in_flight(std::move(h)), then = std::move(then), key = cancel.key, scheduled](
            boost::system::error_code ec, send_result r) mutable {
            auto h = std::move(kept).back(slot.name);
            if (auto* at_once = detail::current_at_once) {
                // Refused before it was queued: it stays in the spool, for later or the next start.
                cancellations_.close(key);
                at_once->completed = true;
                if (ec == errc::queue_full) {
                    spool_->hand_back(std::move(h), false);
                } else {
                    keep_or_resend(std::move(h), r);
                }
                if (then) {
                    std::move(then)(ec, std::move(r), true);
                }
                return;
            }
            if (unsent_kind_of(ec)) {
                cancellations_.close(key);  // before it may be handed over again under its id
                finish_spooled(&slot, std::move(h), ec, r, scheduled);
            } else {
                finish_spooled(&slot, std::move(h), ec, r, scheduled);
                cancellations_.close(key);  // see close_after_final
            }
            if (then) {
                std::move(then)(ec, std::move(r), false);
            }
        });
    cancellations_.arm(cancel);
}

void notification_dispatcher::send_spooled(hub_slot* slot,
                                           spool::handoff&& h,
                                           std::optional<notification> n,
                                           std::string problem) {
    if (slot != nullptr && n) {
        return send_handoff(*slot, std::move(h), std::move(*n));
    }
    send_result r;
    r.error = make_error_code(errc::invalid_notification);
    r.error_detail =
        slot == nullptr
            ? fmt::format("hub {} is no longer configured ([hubs.{}])", h.record.hub, h.record.hub)
            : std::move(problem);
    finish_spooled(slot, std::move(h), r.error, r);
}

void notification_dispatcher::keep_or_resend(spool::handoff&& h, const send_result& r) {
    // The attempts it made go with it, to the hub now in force or to the next start: max_attempts
    // holds across both. (r.attempts counts those it brought; a refusal at once made none.)
    h.attempts = std::max(h.attempts, static_cast<std::uint32_t>(std::max(r.attempts, 0)));
    if (!spool_->stopping()) {
        // A hub a reload replaced stopped with it: the hub now in force sends it.
        spool_->hand_back(std::move(h), true);
        return;
    }
    // nhpushd is stopping: it stays in the spool and is sent after the next start.
    kept_for_next_start_.fetch_add(1, std::memory_order_relaxed);
    spool_->kept(h);
}

void notification_dispatcher::finish_spooled(hub_slot* slot,
                                             spool::handoff&& h,
                                             const boost::system::error_code& ec,
                                             const send_result& r,
                                             bool scheduled) {
    if (unsent_kind_of(ec)) {
        keep_or_resend(std::move(h), r);  // a stop or a reload cut it short
        return;
    }
    if (slot != nullptr) {
        slot->health.record(ec, r);
    }
    auto record = result_record::finished(h.record.hub, ec, r);
    record.scheduled = scheduled;
    if (dead_letters_ != nullptr && spool::fails_for_good(ec)) {
        record_dead_letter(h, record);  // before its final record: that may delete its segment
    }
    spool_->finished(final_of(h, record));
    results_.finished(h.record.id, std::move(record));
}

void notification_dispatcher::record_dead_letter(const spool::handoff& h, const result_record& r) {
    dead_letters_->append({.id = h.record.id,
                           .hub = h.record.hub,
                           .submission = spool_->submission_of(h).value_or(std::string()),
                           .reason = r.reason,
                           .http_status = r.http_status,
                           .error_code = r.error_code,
                           .error_detail = r.error_detail,
                           .attempts = r.attempts,
                           .accepted_at = system_clock::time_point(milliseconds(h.record.accepted_at_ms)),
                           .failed_at = system_clock::now()});
}

boost::system::error_code notification_dispatcher::submit_in_memory(dispatch_request& request,
                                                                    submit_refusal* refusal) {
    auto& slot = request.slot;
    const auto& id = request.id;
    auto& n = request.n;
    // Claimed before async_send: the result may come back on a worker before async_send returns.
    if (auto existing = results_.claim(id, slot.name)) {
        if (refusal != nullptr) {
            refusal->existing = std::move(*existing);
        }
        return dispatch_errc::duplicate_id;
    }
    detail::at_once_outcome outcome;
    const auto cancel = cancellations_.open(*slot.hub, id);
    if (cancel.cancelled) {
        // DELETE came between the claim and this hand-over: accepted, and cancelled at once.
        slot.cancelled_before_hand_over.fetch_add(1, std::memory_order_relaxed);
        results_.confirm(id);
        send_result r;
        r.error_detail = "cancelled while queued; never sent";
        finish(slot, id, make_error_code(errc::cancelled), r);
        return {};
    }
    const bool scheduled = n.schedule_at.has_value();
    try {
        detail::at_once_scope scope(&outcome);
        slot.hub->async_send_prepared(std::move(n),
                                      send_options{.cancel_key = cancel.key},
                                      [this, &slot, id, key = cancel.key, scheduled](
                                          boost::system::error_code ec, send_result r) mutable {
                                          if (auto* at_once = detail::current_at_once) {
                                              cancellations_.close(key);
                                              *at_once = {true, ec, std::move(r)};
                                              return;
                                          }
                                          finish(slot, id, ec, r, scheduled);
                                          cancellations_.close(key);  // see close_after_final
                                      });
    } catch (...) {
        cancellations_.close(cancel.key);
        results_.forget(id);  // never leave a claim pending: others of this id wait for it
        throw;
    }
    cancellations_.arm(cancel);
    if (!outcome.completed) {
        results_.confirm(id);
        return {};
    }
    results_.forget(id);  // our own claim: nothing else could have taken the id since
    if (refusal != nullptr) {
        refusal->result = std::move(outcome.result);
    }
    return outcome.ec;
}

void notification_dispatcher::finish(hub_slot& slot,
                                     const std::string& id,
                                     const boost::system::error_code& ec,
                                     const send_result& r,
                                     bool scheduled) {
    slot.health.record(ec, r);
    auto record = result_record::finished(slot.name, ec, r);
    record.scheduled = scheduled;
    results_.finished(id, std::move(record));
    if (const auto kind = unsent_kind_of(ec)) {
        unsent_.add(*kind, slot.name, id);
    }
}

}  // namespace nhpush::hubs
