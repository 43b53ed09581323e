#include "sender/send_decision.hpp"

namespace nhpush::detail {

namespace {

send_decision finish(errc e) {
    return {.what = send_decision::action::finish, .error = make_error_code(e), .attempt = true};
}

// After a counted attempt that failed retriably: again after `delay`, unless attempts or time ran out.
send_decision retry_or_fail(int attempts, std::chrono::milliseconds delay, const send_context& c) {
    if (attempts >= c.retry.max_attempts) {
        return finish(errc::retries_exhausted);
    }
    if (c.now + delay >= c.deadline) {
        return finish(errc::deadline_expired);
    }
    return {.what = send_decision::action::retry_later, .delay = delay, .attempt = true};
}

send_decision after_answer(const hub_response& answer, const send_context& c) {
    const int attempts = c.attempts_before + 1;
    const auto plan = plan_retry(c.retry, attempts, answer.throttled, answer.retry_after, c.jitter);
    send_decision d;
    switch (answer.kind) {
        case response_kind::success:
            d = {.what = send_decision::action::finish, .attempt = true};
            break;
        case response_kind::permanent:
            d = finish(errc::hub_rejected);
            break;
        case response_kind::retriable:
            d = retry_or_fail(attempts, plan.delay, c);
            break;
    }
    d.hub_pause = plan.hub_pause;
    return d;
}

}  // namespace

send_decision decide_after(request_end end, const hub_response* answer, const send_context& c) {
    switch (end) {
        case request_end::answered:
            return after_answer(*answer, c);
        case request_end::above_goaway:
            if (c.now >= c.deadline) {
                return {.what = send_decision::action::finish,
                        .error = make_error_code(errc::deadline_expired)};
            }
            return {.what = send_decision::action::resend_now};
        case request_end::not_processed:
            if (c.free_resends_before >= max_free_resends) {
                break;  // the hub keeps refusing: from now on it costs attempts, with back-off
            }
            if (c.now >= c.deadline) {
                return {.what = send_decision::action::finish,
                        .error = make_error_code(errc::deadline_expired)};
            }
            return {.what = send_decision::action::resend_now};
        case request_end::failed:
        case request_end::connect_failed:
            break;
    }
    const int attempts = c.attempts_before + 1;
    return retry_or_fail(attempts, plan_retry(c.retry, attempts, false, std::nullopt, c.jitter).delay, c);
}

}  // namespace nhpush::detail
