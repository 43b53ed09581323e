#include "hubs/recent_results.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <condition_variable>
#include <functional>

namespace nhpush::hubs {
namespace {

// Capacities below this use one stripe, so small tables forget in exact order.
constexpr std::size_t striping_threshold = 4096;
constexpr std::size_t stripe_count = 16;

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

std::string_view to_string(notification_state state) noexcept {
    switch (state) {
        case notification_state::queued:
            return "queued";
        case notification_state::sent:
            return "sent";
        case notification_state::failed:
            return "failed";
    }
    return "queued";
}

std::string_view reason_name(const boost::system::error_code& ec) {
    if (!ec) {
        return {};
    }
    if (ec.category() != nhpush_category()) {
        return "network_error";
    }
    switch (static_cast<errc>(ec.value())) {
        case errc::resolve_timeout:
            return "resolve_timeout";
        case errc::connect_timeout:
            return "connect_timeout";
        case errc::handshake_timeout:
            return "handshake_timeout";
        case errc::write_timeout:
            return "write_timeout";
        case errc::read_timeout:
            return "read_timeout";
        case errc::connection_closed:
            return "connection_closed";
        case errc::queue_full:
            return "queue_full";
        case errc::deadline_expired:
            return "deadline_expired";
        case errc::shutting_down:
            return "shutting_down";
        case errc::hub_rejected:
            return "hub_rejected";
        case errc::retries_exhausted:
            return "retries_exhausted";
        case errc::invalid_notification:
            return "invalid_notification";
        case errc::tls_verify_failed:
            return "tls_verify_failed";
        case errc::outcome_unknown:
            return "outcome_unknown";
        case errc::send_path_failed:
            return "send_path_failed";
        case errc::protocol_error:
            return "protocol_error";
        case errc::cancelled:
            return "cancelled";
    }
    return "network_error";
}

result_record result_record::finished(std::string_view hub,
                                      const boost::system::error_code& ec,
                                      const send_result& result) {
    result_record r;
    r.hub = hub;
    r.state = ec ? notification_state::failed : notification_state::sent;
    r.reason = reason_name(ec);
    r.http_status = result.http_status;
    r.unexpected_status = result.unexpected_status;
    r.attempts = result.attempts;
    r.notification_id = result.notification_id;
    r.tracking_id = result.tracking_id;
    r.error_code = result.error_code;
    r.error_detail = result.error_detail;
    return r;
}

struct recent_results::stripe {
    // A claim (pending) or a finished result. Queued notifications are not here: see `queued`.
    struct entry {
        std::string hub;
        std::unique_ptr<result_record> finished;  // null while queued
        std::uint64_t sequence = 0;  // tells a reused id's new entry from the one the order refers to
        bool pending = false;        // claimed, not yet confirmed or forgotten
    };

    mutable std::mutex mutex;
    std::condition_variable settled;  // a pending claim was confirmed or forgotten
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> entries;
    // Queued (confirmed, not finished) notifications: the 64-bit hash of the id and the hub's index,
    // about 20 bytes each, so a spool holding a million costs tens of megabytes, not hundreds. Two
    // ids with the same hash would be taken for one (a false 409): about 1 in 10^7 with a million
    // queued.
    boost::unordered_flat_map<std::uint64_t, std::uint32_t> queued;
    std::deque<std::pair<std::string, std::uint64_t>> finished_order;  // oldest first
    std::size_t capacity = 0;
    std::uint64_t next_sequence = 0;

    // Forgets the oldest finished entries beyond the capacity. Called with the lock held.
    void trim() {
        while (finished_order.size() > capacity) {
            auto& [id, sequence] = finished_order.front();
            if (auto it = entries.find(id); it != entries.end() && it->second.sequence == sequence) {
                if (it->second.pending) {
                    settled.notify_all();  // finished before its claim was confirmed: free the waiters
                }
                entries.erase(it);
            }
            finished_order.pop_front();
        }
    }
};

recent_results::recent_results(std::size_t capacity) : capacity_(capacity) {
    stripes_.resize(capacity < striping_threshold ? 1 : stripe_count);
    for (auto& s : stripes_) {
        s = std::make_unique<stripe>();
        s->capacity = stripe_capacity(capacity);
    }
}

recent_results::~recent_results() = default;

std::size_t recent_results::stripe_capacity(std::size_t capacity) const noexcept {
    // Rounded down, so the whole table never holds more than `capacity` finished entries.
    return stripes_.size() == 1 ? capacity : capacity / stripes_.size();
}

void recent_results::set_capacity(std::size_t capacity) {
    capacity_.store(capacity, std::memory_order_relaxed);
    for (auto& s : stripes_) {
        std::lock_guard lock(s->mutex);
        s->capacity = stripe_capacity(capacity);
        if (capacity == 0) {
            s->entries.clear();
            s->queued.clear();
            s->finished_order.clear();
            s->settled.notify_all();
        }
        s->trim();
    }
}

recent_results::stripe& recent_results::stripe_of(std::string_view id) const {
    return *stripes_[stripes_.size() == 1 ? 0 : string_hash{}(id) % stripes_.size()];
}

std::uint32_t recent_results::hub_index(std::string_view hub) {
    std::lock_guard lock(hubs_mutex_);  // taken inside a stripe's lock, never the other way round
    const auto it = std::find(hub_names_.begin(), hub_names_.end(), hub);
    if (it != hub_names_.end()) {
        return static_cast<std::uint32_t>(it - hub_names_.begin());
    }
    hub_names_.emplace_back(hub);
    return static_cast<std::uint32_t>(hub_names_.size() - 1);
}

std::string recent_results::hub_name(std::uint32_t index) const {
    std::lock_guard lock(hubs_mutex_);
    return index < hub_names_.size() ? hub_names_[index] : std::string();
}

std::optional<result_record> recent_results::claim(std::string_view id,
                                                   std::string_view hub,
                                                   bool wait_for_pending) {
    if (capacity_.load(std::memory_order_relaxed) == 0) {
        return std::nullopt;
    }
    auto& s = stripe_of(id);
    std::unique_lock lock(s.mutex);
    for (;;) {
        auto it = s.entries.find(id);
        if (it == s.entries.end()) {
            if (auto q = s.queued.find(string_hash{}(id)); q != s.queued.end()) {
                const auto index = q->second;
                lock.unlock();
                return result_record{.hub = hub_name(index)};
            }
            auto& e = s.entries.try_emplace(std::string(id)).first->second;
            e.hub = hub;
            e.sequence = s.next_sequence++;
            e.pending = true;
            return std::nullopt;
        }
        const auto& e = it->second;
        if (!e.pending || !wait_for_pending) {
            return e.finished ? *e.finished : result_record{.hub = e.hub};
        }
        s.settled.wait(lock);
    }
}

void recent_results::confirm(std::string_view id) {
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(id);
    if (it == s.entries.end() || !it->second.pending) {
        return;
    }
    s.settled.notify_all();
    if (it->second.finished) {
        it->second.pending = false;  // its result came first: it stays as a finished entry
        return;
    }
    // Queued: from now on the compact form holds it (without a moment where neither does).
    s.queued.insert_or_assign(string_hash{}(id), hub_index(it->second.hub));
    s.entries.erase(it);
}

void recent_results::finished(std::string_view id, result_record record) {
    if (capacity_.load(std::memory_order_relaxed) == 0) {
        return;
    }
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    s.queued.erase(string_hash{}(id));
    auto it = s.entries.find(id);
    if (it == s.entries.end()) {
        it = s.entries.try_emplace(std::string(id)).first;
        it->second.sequence = s.next_sequence++;
    }
    it->second.finished = std::make_unique<result_record>(std::move(record));
    s.finished_order.emplace_back(it->first, it->second.sequence);
    s.trim();
}

void recent_results::forget(std::string_view id) {
    auto& s = stripe_of(id);
    std::lock_guard lock(s.mutex);
    s.queued.erase(string_hash{}(id));
    if (auto it = s.entries.find(id); it != s.entries.end()) {
        s.settled.notify_all();
        s.entries.erase(it);
    }
}

std::optional<result_record> recent_results::find(std::string_view id) const {
    auto& s = stripe_of(id);
    std::unique_lock lock(s.mutex);
    if (auto it = s.entries.find(id); it != s.entries.end()) {
        const auto& e = it->second;
        return e.finished ? *e.finished : result_record{.hub = e.hub};
    }
    if (auto q = s.queued.find(string_hash{}(id)); q != s.queued.end()) {
        const auto index = q->second;
        lock.unlock();
        return result_record{.hub = hub_name(index)};
    }
    return std::nullopt;
}

std::size_t recent_results::size() const {
    std::size_t n = 0;
    for (const auto& s : stripes_) {
        std::lock_guard lock(s->mutex);
        n += s->entries.size() + s->queued.size();
    }
    return n;
}

}  // namespace nhpush::hubs
