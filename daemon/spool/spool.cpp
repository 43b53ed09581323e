#include "spool/spool.hpp"

#include <fmt/format.h>

#include <cctype>
#include <system_error>
#include <unordered_set>

namespace nhpush::spool {
namespace fs = std::filesystem;
namespace {

// A hub's NAME as a directory name: bytes other than [A-Za-z0-9_-] as %XX, so any TOML key is safe.
std::string directory_name(std::string_view hub) {
    std::string out;
    for (const unsigned char c : hub) {
        if (std::isalnum(c) || c == '_' || c == '-') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::string hub_name(std::string_view directory) {
    std::string out;
    for (std::size_t i = 0; i < directory.size(); ++i) {
        if (directory[i] == '%' && i + 2 < directory.size()) {
            out.push_back(static_cast<char>(std::stoi(std::string(directory.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(directory[i]);
        }
    }
    return out;
}

}  // namespace

/// One hub's log and the book-keeping of what is handed to the sender. Guarded by `mutex`.
struct spool::hub_log {
    struct segment_count {
        std::size_t accepted = 0;
        std::size_t finished = 0;
    };

    hub_log(fs::path dir, const spool_config& config)
        : log(std::move(dir), config.segment_bytes, config.fsync != fsync_mode::never) {}

    std::mutex mutex;
    segment_log log;
    position cursor;  // the next record to hand over; log.end() when every record was
    std::size_t in_window = 0;
    std::size_t outstanding = 0;  // accepted, without a final record
    std::map<std::uint64_t, segment_count> counts;
    std::unordered_set<std::string> finished_ids;  // recovered finals the cursor skips
    std::unordered_set<std::string> handed_ahead;  // sent before the cursor reached them
    std::vector<handoff> handed_back;              // refused by a full queue: sent again first

    bool caught_up() const noexcept { return cursor >= log.end() && handed_back.empty(); }

    /// Deletes the segments at the front whose notifications are all final and that the cursor passed.
    void drop_finished_prefix() {
        auto first = log.first_segment();
        while (first < log.active_segment() && first < cursor.segment) {
            auto it = counts.find(first);
            if (it != counts.end() && it->second.finished < it->second.accepted) {
                break;
            }
            if (it != counts.end()) {
                counts.erase(it);
            }
            ++first;
        }
        log.drop_before(first);
    }
};

spool::spool(spool_config config)
    : config_(std::move(config))
    , commit_(config_.fsync, config_.fsync_interval, [this] { return active_files(); }) {
    std::error_code ec;
    fs::create_directories(fs::path(config_.dir) / "hubs", ec);
    if (ec) {
        throw std::system_error(ec,
                                fmt::format("cannot create {}", (fs::path(config_.dir) / "hubs").string()));
    }
}

spool::~spool() = default;

std::vector<std::shared_ptr<segment_file>> spool::active_files() const {
    std::vector<std::shared_ptr<segment_file>> files;
    std::lock_guard hubs_lock(hubs_mutex_);
    for (const auto& [name, h] : hubs_) {
        std::lock_guard lock(h->mutex);
        if (auto f = h->log.active_file()) {
            files.push_back(std::move(f));
        }
    }
    return files;
}

spool::hub_log& spool::log_of(std::string_view hub) {
    std::lock_guard lock(hubs_mutex_);
    if (auto it = hubs_.find(hub); it != hubs_.end()) {
        return *it->second;
    }
    auto h = std::make_unique<hub_log>(fs::path(config_.dir) / "hubs" / directory_name(hub), config_);
    h->log.recover(fs::path(config_.dir) / "damaged" / directory_name(hub), [](record&&, std::uint64_t) {});
    h->cursor = h->log.end();
    return *hubs_.emplace(std::string(hub), std::move(h)).first->second;
}

recovery_summary spool::recover(const std::function<void(const final_record&)>& on_final,
                                const std::function<void(const accepted_record&)>& on_unfinished) {
    recovery_summary summary;
    for (const auto& entry : fs::directory_iterator(fs::path(config_.dir) / "hubs")) {
        if (!entry.is_directory()) {
            continue;
        }
        const auto dir_name = entry.path().filename().string();
        auto h = std::make_unique<hub_log>(entry.path(), config_);
        auto notes = h->log.recover(fs::path(config_.dir) / "damaged" / dir_name,
                                    [&](record&& r, std::uint64_t segment) {
                                        if (std::holds_alternative<accepted_record>(r)) {
                                            ++h->counts[segment].accepted;
                                        } else {
                                            auto& f = std::get<final_record>(r);
                                            ++h->counts[f.segment].finished;
                                            h->finished_ids.insert(f.id);
                                            ++summary.finished;
                                            on_final(f);
                                        }
                                    });
        summary.notes.insert(summary.notes.end(), notes.begin(), notes.end());
        // A second pass reports the unfinished ones in order, without holding them all in memory.
        // Finals of notifications whose segments are gone are dropped from the set the cursor skips.
        h->cursor = {h->log.first_segment(), 0};
        std::unordered_set<std::string> to_skip;
        auto next = h->log.read(h->cursor);
        for (; next; next = h->log.read(next->second)) {
            auto* a = std::get_if<accepted_record>(&next->first);
            if (a == nullptr) {
                continue;
            }
            if (h->finished_ids.contains(a->id)) {
                to_skip.insert(a->id);
            } else {
                ++summary.unfinished;
                ++h->outstanding;
                on_unfinished(*a);
            }
        }
        h->finished_ids = std::move(to_skip);
        std::lock_guard lock(hubs_mutex_);
        hubs_.emplace(hub_name(dir_name), std::move(h));
    }
    return summary;
}

void spool::start(send_function send) {
    send_ = std::move(send);
    std::vector<hub_log*> logs;
    {
        std::lock_guard lock(hubs_mutex_);
        for (auto& [name, h] : hubs_) {
            logs.push_back(h.get());
        }
    }
    for (auto* h : logs) {
        std::unique_lock lock(h->mutex);
        auto batch = pump(*h);
        lock.unlock();
        deliver(std::move(batch));
    }
}

admission spool::accept(const accepted_record& r, bool send_now, std::size_t capacity) {
    std::string framed;
    encode(r, framed);
    auto& h = log_of(r.hub);
    admission a;
    {
        std::lock_guard lock(h.mutex);
        if (h.outstanding >= capacity) {
            a.full = true;
            return a;
        }
        const bool caught_up = h.caught_up();
        position at;
        try {
            at = h.log.append(framed);
        } catch (const std::system_error& e) {
            set_problem(e.what());
            throw;
        }
        a.segment = at.segment;
        ++h.counts[at.segment].accepted;
        ++h.outstanding;
        if (caught_up && h.in_window < config_.memory_window && !stopped_) {
            a.send_now = true;
            h.cursor = h.log.end();
            ++h.in_window;
        } else if (send_now) {
            // A waiting client: sent at once, and skipped when the cursor reaches it.
            a.send_now = true;
            h.handed_ahead.insert(r.id);
            ++h.in_window;
        }
        a.ticket = commit_.note_append();
    }
    if (has_problem_.load(std::memory_order_relaxed)) {
        set_problem({});  // written again: the disk is back
    }
    return a;
}

void spool::finished(const final_record& r, bool recorded) {
    auto& h = log_of(r.hub);
    std::string framed;
    if (recorded) {
        encode(r, framed);
    }
    std::unique_lock lock(h.mutex);
    h.in_window -= h.in_window > 0 ? 1 : 0;
    if (!recorded) {
        return;  // a stop cut it short: it stays unfinished, for the next start
    }
    h.outstanding -= h.outstanding > 0 ? 1 : 0;
    try {
        h.log.append(framed);
        ++h.counts[r.segment].finished;
        h.drop_finished_prefix();
    } catch (const std::system_error& e) {
        // Without its final record it is sent again after a restart: a duplicate, never a loss.
        set_problem(e.what());
    }
    auto batch = pump(h);
    lock.unlock();
    deliver(std::move(batch));
}

void spool::hand_back(handoff&& h, bool resend_now) {
    auto& log = log_of(h.record.hub);
    std::unique_lock lock(log.mutex);
    log.in_window -= log.in_window > 0 ? 1 : 0;
    log.handed_back.push_back(std::move(h));
    if (!resend_now) {
        return;
    }
    auto batch = pump(log);
    lock.unlock();
    deliver(std::move(batch));
}

std::vector<handoff> spool::pump(hub_log& h) {
    std::vector<handoff> out;
    if (stopped_ || !send_) {
        return out;
    }
    while (h.in_window < config_.memory_window) {
        if (!h.handed_back.empty()) {
            out.push_back(std::move(h.handed_back.back()));
            h.handed_back.pop_back();
            ++h.in_window;
            continue;
        }
        auto next = h.log.read(h.cursor);
        if (!next) {
            h.cursor = h.log.end();
            break;
        }
        h.cursor = next->second;
        auto* a = std::get_if<accepted_record>(&next->first);
        if (a == nullptr || h.finished_ids.erase(a->id) > 0 || h.handed_ahead.erase(a->id) > 0) {
            continue;
        }
        out.push_back({std::move(*a), next->second.segment});
        ++h.in_window;
    }
    return out;
}

void spool::deliver(std::vector<handoff> batch) {
    for (auto& h : batch) {
        send_(std::move(h));
    }
}

void spool::stop() {
    stopped_ = true;
    try {
        commit_.sync_now();
    } catch (const std::system_error& e) {
        set_problem(e.what());
    }
}

void spool::set_problem(std::string problem) {
    std::lock_guard lock(problem_mutex_);
    has_problem_.store(!problem.empty(), std::memory_order_relaxed);
    problem_ = std::move(problem);
}

std::string spool::problem() const {
    std::lock_guard lock(problem_mutex_);
    return problem_;
}

std::vector<spool::hub_figures> spool::figures() const {
    std::vector<hub_figures> out;
    std::lock_guard hubs_lock(hubs_mutex_);
    for (const auto& [name, h] : hubs_) {
        std::lock_guard lock(h->mutex);
        out.push_back({name,
                       h->in_window,
                       h->outstanding,
                       h->log.bytes(),
                       static_cast<std::size_t>(h->log.active_segment() - h->log.first_segment() + 1)});
    }
    return out;
}

}  // namespace nhpush::spool
