#include "sender/connection_machine.hpp"

#include "nhpush/error.hpp"

namespace nhpush::detail {

connect_failure_effects effects_of_connect_failure(boost::system::error_code ec, int failures_in_a_row) {
    const bool certificate = ec == errc::tls_verify_failed;
    return {
        .log_warning = failures_in_a_row == 1, .fail_queue = certificate, .charge_one_item = !certificate};
}

connection_action connection_machine::back_off(steady::time_point now, double jitter) {
    status_ = connection_status::backing_off;
    return {connection_action::kind::wait_until,
            now + backoff_delay(reconnect_, failures_, std::nullopt, jitter)};
}

connection_action connection_machine::resume(connection_event e, steady::time_point now, double jitter) {
    using kind = connection_action::kind;
    if (e == connection_event::stop || status_ == connection_status::terminated) {
        status_ = connection_status::terminated;
        return {kind::terminate};
    }
    switch (e) {
        case connection_event::started:
        case connection_event::wait_over:
        case connection_event::closed:
            status_ = connection_status::connecting;
            return {kind::connect};
        case connection_event::connected:
            recovered_ = failures_ > 0;
            failures_ = 0;
            connected_at_ = now;
            status_ = connection_status::serving;
            return {kind::serve};
        case connection_event::connect_failed:
        case connection_event::failed_unexpectedly:
            ++failures_;
            return back_off(now, jitter);
        case connection_event::idle_expired:
        case connection_event::stop:
            break;
    }
    status_ = connection_status::terminated;
    return {kind::terminate};
}

}  // namespace nhpush::detail
