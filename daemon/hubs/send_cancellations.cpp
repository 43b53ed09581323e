#include "hubs/send_cancellations.hpp"

#include <nhpush/notification_hub.hpp>

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

namespace nhpush::hubs {

namespace {
constexpr std::size_t stripe_count = 16;
constexpr std::size_t shrink_above = 1024;  // buckets a stripe's empty key set keeps
}  // namespace

struct send_cancellations::stripe {
    // Opened, async_send not returned yet: one a thread that is handing over, at most.
    struct opening {
        std::uint64_t key = 0;
        std::uint32_t turn = 0;
        notification_hub* hub = nullptr;
    };
    // The keys a hub holds, armed. A handful of hubs; an entry whose set is empty is never asked,
    // so its hub may be gone (a reload replaced it) until the entry is reused.
    struct hub_keys {
        notification_hub* hub = nullptr;
        boost::unordered_flat_set<std::uint64_t> keys;
    };

    std::mutex mutex;
    std::condition_variable handed_over;  // an opening was armed or closed
    std::vector<opening> openings;
    std::vector<hub_keys> in_library;
    std::unordered_set<std::string> before_handover;  // cancelled before open(): few
    std::uint32_t next_turn = 0;

    opening* opening_of(std::uint64_t key) {
        const auto it =
            std::find_if(openings.begin(), openings.end(), [&](const auto& o) { return o.key == key; });
        return it != openings.end() ? &*it : nullptr;
    }

    // The hub that holds `key` armed, or null.
    notification_hub* holder_of(std::uint64_t key) const {
        for (const auto& h : in_library) {
            if (h.keys.contains(key)) {
                return h.hub;
            }
        }
        return nullptr;
    }

    boost::unordered_flat_set<std::uint64_t>& keys_of(notification_hub& hub) {
        auto it =
            std::find_if(in_library.begin(), in_library.end(), [&](const auto& h) { return h.hub == &hub; });
        if (it == in_library.end()) {
            // An empty entry is taken over (its hub may be gone): the list stays as long as the hubs.
            it = std::find_if(
                in_library.begin(), in_library.end(), [](const auto& h) { return h.keys.empty(); });
            if (it == in_library.end()) {
                it = in_library.emplace(in_library.end());
            }
            it->hub = &hub;
        }
        return it->keys;
    }

    bool take_before_handover(std::string_view id) {
        if (before_handover.empty()) {
            return false;  // the usual case: no string made
        }
        return before_handover.erase(std::string(id)) != 0;
    }
};

send_cancellations::send_cancellations() {
    for (std::size_t i = 0; i < stripe_count; ++i) {
        stripes_.push_back(std::make_unique<stripe>());
    }
}

send_cancellations::~send_cancellations() = default;

std::uint64_t send_cancellations::key_of(std::string_view id) noexcept {
    // The recent-results table's hash of a queued id; 0 means "no key" to the library.
    const std::uint64_t h = std::hash<std::string_view>{}(id);
    return h != 0 ? h : 1;
}

send_cancellations::stripe& send_cancellations::stripe_of(std::uint64_t key) const {
    return *stripes_[key % stripes_.size()];
}

send_cancellations::ticket send_cancellations::open(notification_hub& hub, std::string_view id) {
    const auto key = key_of(id);
    auto& s = stripe_of(key);
    std::lock_guard lock(s.mutex);
    if (s.take_before_handover(id)) {
        return {.cancelled = true};
    }
    if (s.opening_of(key) != nullptr || s.holder_of(key) != nullptr) {
        return {};  // another send of this key is in the library's hands: it keeps the key
    }
    const auto turn = s.next_turn++;
    s.openings.push_back({.key = key, .turn = turn, .hub = &hub});
    return {.key = key, .turn = turn};
}

void send_cancellations::arm(const ticket& t) {
    if (t.key == 0) {
        return;
    }
    auto& s = stripe_of(t.key);
    std::lock_guard lock(s.mutex);
    auto* o = s.opening_of(t.key);
    if (o == nullptr || o->turn != t.turn) {
        return;  // it completed already (inside async_send, or on a worker before it returned)
    }
    const auto opened = *o;
    std::swap(*o, s.openings.back());
    s.openings.pop_back();
    s.keys_of(*opened.hub).insert(opened.key);
    s.handed_over.notify_all();
}

void send_cancellations::close(std::uint64_t key) {
    if (key == 0) {
        return;
    }
    auto& s = stripe_of(key);
    std::lock_guard lock(s.mutex);
    if (auto* o = s.opening_of(key)) {
        std::swap(*o, s.openings.back());  // it completed before arm()
        s.openings.pop_back();
        s.handed_over.notify_all();
        return;
    }
    for (auto& h : s.in_library) {
        if (h.keys.erase(key) != 0) {
            if (h.keys.empty() && h.keys.bucket_count() > shrink_above) {
                h.keys.rehash(0);  // a burst drained: give its table back (a flat set never shrinks)
            }
            return;  // a key is open once at most, whichever the hub
        }
    }
}

send_cancellations::outcome send_cancellations::cancel(std::string_view id) {
    const auto key = key_of(id);
    auto& s = stripe_of(key);
    std::unique_lock lock(s.mutex);
    // Being handed over: wait until the library holds it (or it completed). Only then can it tell
    // a queued notification, which it cancels, from one on the wire, which it cannot. The hand-over
    // is a few microseconds of another thread's synchronous code, never I/O.
    s.handed_over.wait(lock, [&] { return s.opening_of(key) == nullptr; });
    // Under the lock close() takes: the hub still holds the notification (queued, on the wire, or
    // completing), so it is alive.
    if (auto* hub = s.holder_of(key)) {
        return hub->cancel_queued(key) ? outcome::cancelled : outcome::on_the_wire;
    }
    s.before_handover.emplace(id);
    return outcome::cancelled_at_hand_over;
}

void send_cancellations::withdraw(std::string_view id) {
    auto& s = stripe_of(key_of(id));
    std::lock_guard lock(s.mutex);
    s.before_handover.erase(std::string(id));
}

std::size_t send_cancellations::size() const {
    std::size_t n = 0;
    for (const auto& s : stripes_) {
        std::lock_guard lock(s->mutex);
        n += s->openings.size();
        for (const auto& h : s->in_library) {
            n += h.keys.size();
        }
    }
    return n;
}

}  // namespace nhpush::hubs
