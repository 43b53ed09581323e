#include "hubs/send_cancellations.hpp"

#include <nhpush/notification_hub.hpp>

#include <functional>

namespace nhpush::hubs {

namespace {
constexpr std::size_t stripe_count = 16;
}  // namespace

send_cancellations::send_cancellations() {
    for (std::size_t i = 0; i < stripe_count; ++i) {
        stripes_.push_back(std::make_unique<stripe>());
    }
}

send_cancellations::~send_cancellations() = default;

send_cancellations::stripe& send_cancellations::stripe_of(std::string_view id) {
    return *stripes_[std::hash<std::string_view>{}(id) % stripes_.size()];
}

send_cancellations::ticket send_cancellations::open(std::string_view id) {
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    const std::string key(id);
    if (s.before_handover.erase(key) != 0) {
        return {nullptr, true};
    }
    auto [it, inserted] = s.entries.try_emplace(key);
    return {inserted ? &it->second.signal : nullptr, false};
}

void send_cancellations::arm(std::string_view id, const boost::asio::cancellation_signal* signal) {
    if (signal == nullptr) {
        return;
    }
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    if (auto it = s.entries.find(std::string(id)); it != s.entries.end() && &it->second.signal == signal) {
        it->second.armed = true;
        if (it->second.cancel_when_armed) {
            cancel_queued_send(it->second.signal);  // asked for during the hand-over
        }
    }
}

void send_cancellations::close(std::string_view id, const boost::asio::cancellation_signal* signal) {
    if (signal == nullptr) {
        return;
    }
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    if (auto it = s.entries.find(std::string(id)); it != s.entries.end() && &it->second.signal == signal) {
        s.entries.erase(it);
    }
}

send_cancellations::outcome send_cancellations::cancel(std::string_view id) {
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(std::string(id));
    if (it == s.entries.end()) {
        s.before_handover.emplace(id);
        return outcome::cancelled_at_hand_over;
    }
    if (!it->second.armed) {
        it->second.cancel_when_armed = true;
        return outcome::cancelled;
    }
    return cancel_queued_send(it->second.signal) ? outcome::cancelled : outcome::on_the_wire;
}

void send_cancellations::withdraw(std::string_view id) {
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    s.before_handover.erase(std::string(id));
}

std::size_t send_cancellations::size() const {
    std::size_t n = 0;
    for (const auto& s : stripes_) {
        std::lock_guard lock(s->mutex);
        n += s->entries.size();
    }
    return n;
}

}  // namespace nhpush::hubs
