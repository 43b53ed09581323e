#include "hubs/notification_dispatcher.hpp"

namespace nhpush::hubs {

namespace detail {
thread_local at_once_outcome* current_at_once = nullptr;
}  // namespace detail

bool notification_dispatcher::refusing() noexcept {
    return detail::current_at_once != nullptr;
}

boost::system::error_code notification_dispatcher::submit(hub_slot& slot,
                                                          const std::string& id,
                                                          notification n,
                                                          send_result* refusal) {
    // Recorded before async_send: the result may come back on a worker before async_send returns.
    results_.queued(id, slot.name);
    detail::at_once_outcome outcome;
    {
        detail::at_once_scope scope(&outcome);
        slot.hub->async_send_prepared(std::move(n),
                                      [this, &slot, id](boost::system::error_code ec, send_result r) mutable {
                                          if (auto* at_once = detail::current_at_once) {
                                              *at_once = {true, ec, std::move(r)};
                                              return;
                                          }
                                          finish(slot, id, ec, r);
                                      });
    }
    if (!outcome.completed) {
        return {};
    }
    results_.forget(id);
    if (refusal != nullptr) {
        *refusal = std::move(outcome.result);
    }
    return outcome.ec;
}

void notification_dispatcher::finish(hub_slot& slot,
                                     const std::string& id,
                                     const boost::system::error_code& ec,
                                     const send_result& r) {
    slot.health.record(ec, r);
    results_.finished(id, result_record::finished(slot.name, ec, r));
    if (const auto kind = unsent_kind_of(ec)) {
        unsent_.add(*kind, slot.name, id);
    }
}

}  // namespace nhpush::hubs
