#include "hubs/hub_registry.hpp"

#include "config/connection_string_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace nhpush::hubs {

using namespace std::chrono;

namespace {
// How long after a reload a replaced hub is given before an empty queue counts as drained.
constexpr milliseconds retire_grace{1000};
}  // namespace

hub_client_config to_client_config(const config::hub_config& h) {
    return h.client;  // read key by key through nhpush::hub_settings(): nothing left to map
}

connection_strings resolve_connection_strings(const config::nhpushd_config& config) {
    connection_strings strings;
    for (const auto& [name, hub] : config.hubs) {
        strings.emplace(name, config::resolve_connection_string(name, hub));
    }
    return strings;
}

hub_slot* live_config::find(std::string_view name) const noexcept {
    for (const auto& slot : hubs) {
        if (slot->name == name) {
            return slot.get();
        }
    }
    return nullptr;
}

reload_plan plan_reload(const std::map<std::string, hub_identity, std::less<>>& running,
                        const config::daemon_config& running_daemon,
                        const std::map<std::string, hub_identity, std::less<>>& next,
                        const config::daemon_config& next_daemon) {
    reload_plan plan;
    for (const auto& [name, identity] : next) {
        const auto it = running.find(name);
        if (it == running.end()) {
            plan.added.push_back(name);
        } else if (it->second == identity) {
            plan.kept.push_back(name);
        } else {
            plan.rebuilt.push_back(name);
        }
    }
    for (const auto& [name, identity] : running) {
        if (!next.contains(name)) {
            plan.removed.push_back(name);
        }
    }
    if (next_daemon.socket != running_daemon.socket) {
        plan.restart_required.push_back("daemon.socket");
    }
    if (next_daemon.socket_mode != running_daemon.socket_mode) {
        plan.restart_required.push_back("daemon.socket_mode");
    }
    if (next_daemon.threads != running_daemon.threads) {
        plan.restart_required.push_back("daemon.threads");
    }
    return plan;
}

void accumulate(sender_stats_snapshot& into, const sender_stats_snapshot& s) {
    into.submitted += s.submitted;
    into.rejected_queue_full += s.rejected_queue_full;
    into.sent += s.sent;
    into.sent_unexpected_status += s.sent_unexpected_status;
    into.failed_rejected += s.failed_rejected;
    into.failed_retries_exhausted += s.failed_retries_exhausted;
    into.failed_deadline += s.failed_deadline;
    into.failed_shutdown += s.failed_shutdown;
    into.outcome_unknown += s.outcome_unknown;
    into.failed_send_path += s.failed_send_path;
    into.cancelled += s.cancelled;
    into.failed_auth += s.failed_auth;
    into.retries += s.retries;
    into.resent_after_close += s.resent_after_close;
    into.throttle_pauses += s.throttle_pauses;
    into.connections_opened += s.connections_opened;
    into.connections_failed += s.connections_failed;
    into.connections_recycled += s.connections_recycled;
    into.connections_closed_idle += s.connections_closed_idle;
    into.connections_h2 += s.connections_h2;
    into.connections_open += s.connections_open;
    into.goaways_received += s.goaways_received;
    into.streams_reset += s.streams_reset;
    into.requests_on_reused_connections += s.requests_on_reused_connections;
    into.tokens_signed += s.tokens_signed;
    into.queue_depth += s.queue_depth;
    into.oldest_queued_age_seconds = std::max(into.oldest_queued_age_seconds, s.oldest_queued_age_seconds);
    for (std::size_t i = 0; i < into.latency_buckets.size(); ++i) {
        into.latency_buckets[i] += s.latency_buckets[i];
    }
    into.latency_sum_seconds += s.latency_sum_seconds;
    into.latency_count += s.latency_count;
}

// ---- hub_registry ----

hub_registry::hub_registry(worker_pool& pool, const log::daemon_log& log) : pool_(pool), log_(log) {
    retirer_ = std::thread([this] { retire_loop(); });
}

hub_registry::~hub_registry() {
    stop(milliseconds{0});
}

std::shared_ptr<hub_slot> hub_registry::build(const std::string& name,
                                              const config::hub_config& hub,
                                              const std::string& connection_string,
                                              log_level level) {
    auto slot = std::make_shared<hub_slot>();
    slot->name = name;
    slot->config = hub;
    slot->connection_string = connection_string;
    slot->level = level;
    auto library_log = log_.library_logger();
    library_log.level = level;
    try {
        slot->hub = std::make_unique<notification_hub>(
            pool_, connection_string, hub.hub, to_client_config(hub), std::move(library_log));
    } catch (const std::exception& e) {
        // The library's messages name the problem but not the key; they never hold the key itself.
        throw config::config_error(fmt::format("hubs.{}: {}", name, e.what()));
    }
    return slot;
}

void hub_registry::publish(config::daemon_config daemon, std::vector<std::shared_ptr<hub_slot>> hubs) {
    std::sort(hubs.begin(), hubs.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
    auto live = std::make_shared<live_config>();
    live->daemon = std::move(daemon);
    for (const auto& slot : hubs) {
        live->hub_names.push_back(slot->name);
    }
    live->hubs = std::move(hubs);
    std::lock_guard lock(mutex_);
    live->generation = generation_.load(std::memory_order_relaxed) + 1;
    current_ = std::move(live);
    generation_.store(current_->generation, std::memory_order_release);
}

void hub_registry::start(const config::nhpushd_config& config, const connection_strings& strings) {
    std::vector<std::shared_ptr<hub_slot>> hubs;
    for (const auto& [name, hub] : config.hubs) {
        hubs.push_back(build(name, hub, strings.at(name), config.daemon.log_level));
        log_.log(log_level::info,
                 "hub {}: sending to hub '{}' over {} to {} connections, queue capacity {}",
                 name,
                 hub.hub,
                 hub.client.min_connections,
                 hub.client.max_connections,
                 hub.client.queue_capacity);
    }
    publish(config.daemon, std::move(hubs));
}

reload_plan hub_registry::reload(const config::nhpushd_config& config, const connection_strings& strings) {
    const auto running = current();
    std::map<std::string, hub_identity, std::less<>> before, after;
    for (const auto& slot : running->hubs) {
        before.emplace(slot->name, hub_identity{slot->config, slot->connection_string, slot->level});
    }
    for (const auto& [name, hub] : config.hubs) {
        after.emplace(name, hub_identity{hub, strings.at(name), config.daemon.log_level});
    }
    auto plan = plan_reload(before, running->daemon, after, config.daemon);

    const auto running_slot = [&](const std::string& name) {
        return *std::find_if(
            running->hubs.begin(), running->hubs.end(), [&](const auto& slot) { return slot->name == name; });
    };
    // Build everything new first: a hub that cannot be built leaves the running configuration intact.
    std::vector<std::shared_ptr<hub_slot>> hubs;
    for (const auto& name : plan.kept) {
        hubs.push_back(running_slot(name));
    }
    std::vector<std::shared_ptr<hub_slot>> built;
    try {
        for (const auto* names : {&plan.rebuilt, &plan.added}) {
            for (const auto& name : *names) {
                built.push_back(
                    build(name, config.hubs.find(name)->second, strings.at(name), config.daemon.log_level));
            }
        }
    } catch (...) {
        for (auto& slot : built) {
            slot->hub->stop(milliseconds{0});
        }
        throw;
    }
    hubs.insert(hubs.end(), built.begin(), built.end());

    auto daemon = config.daemon;
    // These apply at the next start only; the published table keeps what is in force.
    daemon.socket = running->daemon.socket;
    daemon.socket_mode = running->daemon.socket_mode;
    daemon.threads = running->daemon.threads;
    publish(std::move(daemon), std::move(hubs));

    for (const auto* names : {&plan.rebuilt, &plan.removed}) {
        for (const auto& name : *names) {
            retire(running_slot(name));
        }
    }
    return plan;
}

std::shared_ptr<const live_config> hub_registry::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

sender_stats_snapshot hub_slot::stats() const {
    auto s = hub->stats();
    s.cancelled += cancelled_before_hand_over.load(std::memory_order_relaxed);
    return s;
}

std::vector<hub_totals> hub_registry::totals() const {
    std::lock_guard lock(mutex_);
    std::vector<hub_totals> out;
    if (!current_) {
        return out;
    }
    for (const auto& slot : current_->hubs) {
        hub_totals t{slot, slot->stats()};
        if (auto it = retired_totals_.find(slot->name); it != retired_totals_.end()) {
            accumulate(t.stats, it->second);
        }
        for (const auto& r : retiring_) {
            if (r.slot->name == slot->name) {
                accumulate(t.stats, r.slot->stats());
            }
        }
        out.push_back(std::move(t));
    }
    return out;
}

void hub_registry::retire(std::shared_ptr<hub_slot> slot) {
    log_.log(log_level::info,
             "hub {}: replaced; the previous configuration finishes its {} queued notifications",
             slot->name,
             slot->hub->stats().queue_depth);
    const auto now = steady_clock::now();
    const auto drain_until = now + slot->config.client.notification_deadline;
    {
        std::lock_guard lock(mutex_);
        retiring_.push_back({std::move(slot), now, drain_until});
    }
    retire_wake_.notify_all();
}

void hub_registry::fold_stopped(const hub_slot& slot) {
    // Called with mutex_ held. A stopped hub's gauges are zero; its counters join the totals.
    auto& total = retired_totals_[slot.name];
    auto final_stats = slot.stats();
    final_stats.queue_depth = 0;
    final_stats.connections_open = 0;
    final_stats.oldest_queued_age_seconds = 0;
    accumulate(total, final_stats);
}

void hub_registry::retire_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (retiring_.empty() && !stopping_) {
            retire_wake_.wait(lock, [&] { return !retiring_.empty() || stopping_; });
        }
        // Polling the queue depth keeps the send path free of any hook for this rare case.
        retire_wake_.wait_for(lock, milliseconds{20});
        const bool stopping = stopping_;
        const auto now = steady_clock::now();
        for (std::size_t i = 0; i < retiring_.size();) {
            auto& r = retiring_[i];
            // The grace lets a request that took the previous configuration just before the reload
            // finish submitting to it before "drained" is believed.
            const bool drained = now >= r.retired_at + retire_grace && r.slot->hub->stats().queue_depth == 0;
            if (!drained && !stopping && now < r.drain_until) {
                ++i;
                continue;
            }
            auto slot = r.slot;
            const auto drain = stopping ? duration_cast<milliseconds>(std::max(
                                              stop_drain_until_ - now, steady_clock::duration::zero()))
                                        : milliseconds{0};
            // stop() blocks until every notification has its result: do it without the lock.
            lock.unlock();
            slot->hub->stop(drain);
            lock.lock();
            fold_stopped(*slot);
            retiring_.erase(std::find_if(
                retiring_.begin(), retiring_.end(), [&](const retiring_hub& x) { return x.slot == slot; }));
            log_.log(log_level::info, "hub {}: the replaced configuration has stopped", slot->name);
        }
        if (stopping && retiring_.empty()) {
            return;
        }
    }
}

void hub_registry::stop(milliseconds drain) {
    std::shared_ptr<const live_config> live;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        stop_drain_until_ = steady_clock::now() + drain;
        live = current_;
    }
    retire_wake_.notify_all();
    // Hubs drain side by side, so the whole stop takes at most `drain` plus the final cancellation.
    std::vector<std::thread> stoppers;
    if (live) {
        for (const auto& slot : live->hubs) {
            stoppers.emplace_back([slot, drain] { slot->hub->stop(drain); });
        }
    }
    for (auto& t : stoppers) {
        t.join();
    }
    if (retirer_.joinable()) {
        retirer_.join();
    }
}

}  // namespace nhpush::hubs
