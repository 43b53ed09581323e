#include "hubs/notification_dispatcher.hpp"

namespace nhpush::hubs {

namespace detail {
thread_local at_once_outcome* current_at_once = nullptr;
}  // namespace detail

namespace {

class dispatch_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nhpushd.dispatch"; }
    std::string message(int value) const override {
        switch (static_cast<dispatch_errc>(value)) {
            case dispatch_errc::duplicate_id:
                return "the id is already queued, in flight or a recent result";
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

boost::system::error_code notification_dispatcher::submit(hub_slot& slot,
                                                          const std::string& id,
                                                          notification n,
                                                          submit_refusal* refusal) {
    // Claimed before async_send: the result may come back on a worker before async_send returns.
    if (auto existing = results_.claim(id, slot.name)) {
        if (refusal != nullptr) {
            refusal->existing = std::move(*existing);
        }
        return dispatch_errc::duplicate_id;
    }
    detail::at_once_outcome outcome;
    try {
        detail::at_once_scope scope(&outcome);
        slot.hub->async_send_prepared(std::move(n),
                                      [this, &slot, id](boost::system::error_code ec, send_result r) mutable {
                                          if (auto* at_once = detail::current_at_once) {
                                              *at_once = {true, ec, std::move(r)};
                                              return;
                                          }
                                          finish(slot, id, ec, r);
                                      });
    } catch (...) {
        results_.forget(id);  // never leave a claim pending: others of this id wait for it
        throw;
    }
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
                                     const send_result& r) {
    slot.health.record(ec, r);
    results_.finished(id, result_record::finished(slot.name, ec, r));
    if (const auto kind = unsent_kind_of(ec)) {
        unsent_.add(*kind, slot.name, id);
    }
}

}  // namespace nhpush::hubs
