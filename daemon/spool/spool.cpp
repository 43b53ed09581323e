#include "spool/spool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <system_error>
#include <unordered_map>
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

// A thread keeps its framing buffer between batches up to this size.
constexpr std::size_t kept_frame_bytes = 1 << 20;

// Milliseconds of CLOCK_MONOTONIC_COARSE: read without the TSC, at the kernel tick's resolution
// (1 to 10 ms), enough to tell when final records waited flush_delay. Every final reads it.
std::int64_t coarse_now_ms() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
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
    std::unordered_set<std::string> finished_ids;                     // recovered finals the cursor skips
    std::unordered_set<std::string> handed_ahead;                     // sent before the cursor reached them
    std::unordered_map<std::string, std::uint32_t> resumed_attempts;  // recovered: made before a stop
    std::vector<handoff> handed_back;  // refused by a full queue: sent again first
    std::string unwritten;             // final (and attempts) records not written yet (framed)
    // Their notifications still hold their places in the window: at most memory_window are ever
    // handed over without a final record on disk, the bound on what a crash sends twice.
    std::size_t finals_unwritten = 0;

    /// Final records as the senders report them, not yet taken into the book-keeping. They have a
    /// lock of their own because an append holds `mutex` across its write(2): a sender that
    /// reports a result never waits for the disk.
    struct final_inbox {
        std::mutex mutex;
        std::string framed;
        std::int64_t first_at_ms = 0;  // coarse_now_ms() when the first of them came
        std::size_t count = 0;
        std::vector<std::uint64_t> segments;  // of each final's accepted record
    };
    final_inbox inbox;

    /// Takes the finals reported since the last call into the book-keeping. Under `mutex`.
    void take_finals() {
        {
            std::lock_guard lock(inbox.mutex);
            if (inbox.count == 0) {
                return;
            }
            if (unwritten.empty()) {
                unwritten.swap(inbox.framed);  // the buffers trade places: neither allocates again
            } else {
                unwritten += inbox.framed;
            }
            inbox.framed.clear();
            outstanding -= std::min(outstanding, inbox.count);
            finals_unwritten += inbox.count;
            inbox.count = 0;
            finished_segments.swap(inbox.segments);
        }
        auto it = counts.end();
        for (const auto segment : finished_segments) {
            if (it == counts.end() || it->first != segment) {
                it = counts.try_emplace(segment).first;
            }
            ++it->second.finished;
        }
        finished_segments.clear();
        drop_finished_prefix();
    }
    std::vector<std::uint64_t> finished_segments;  // take_finals' scratch

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
    , commit_(
          config_.fsync,
          config_.fsync_interval,
          flush_delay,
          flush_period,
          [this] { write_finals(); },
          [this] { return files_to_sync(); }) {
    std::error_code ec;
    fs::create_directories(fs::path(config_.dir) / "hubs", ec);
    if (ec) {
        throw std::system_error(ec,
                                fmt::format("cannot create {}", (fs::path(config_.dir) / "hubs").string()));
    }
}

spool::~spool() = default;

std::vector<std::shared_ptr<segment_file>> spool::files_to_sync() {
    std::vector<std::shared_ptr<segment_file>> files;
    for (const auto& [name, h] : hubs()) {
        std::lock_guard lock(h->mutex);
        h->log.files_to_sync(files);
    }
    return files;
}

spool::hub_log* spool::find_hub(std::string_view hub) const noexcept {
    for (const auto& [name, log] : hubs()) {
        if (name == hub) {
            return log;
        }
    }
    return nullptr;
}

spool::hub_log& spool::log_of(std::string_view hub) {
    if (auto* found = find_hub(hub)) {
        return *found;
    }
    std::lock_guard lock(hubs_mutex_);
    if (auto* found = find_hub(hub)) {
        return *found;  // made by another thread meanwhile
    }
    auto h = std::make_unique<hub_log>(fs::path(config_.dir) / "hubs" / directory_name(hub), config_);
    h->log.recover(fs::path(config_.dir) / "damaged" / directory_name(hub), [](record&&, std::uint64_t) {});
    h->cursor = h->log.end();
    return add_hub(std::string(hub), std::move(h));
}

spool::hub_log& spool::add_hub(std::string name, std::unique_ptr<hub_log> log) {
    auto map = std::make_unique<hub_map>(hubs());
    const auto at = std::ranges::lower_bound(*map, name, std::less<>{}, &hub_map::value_type::first);
    map->emplace(at, std::move(name), log.get());
    logs_.push_back(std::move(log));
    hub_maps_.push_back(std::move(map));
    hubs_.store(hub_maps_.back().get(), std::memory_order_release);
    return *logs_.back();
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
                                        } else if (auto* f = std::get_if<final_record>(&r)) {
                                            ++h->counts[f->segment].finished;
                                            h->finished_ids.insert(f->id);
                                            ++summary.finished;
                                            on_final(*f);
                                        } else {
                                            auto& a = std::get<attempts_record>(r);
                                            auto& kept = h->resumed_attempts[a.id];
                                            kept = std::max(kept, a.attempts);
                                        }
                                    });
        summary.notes.insert(summary.notes.end(), notes.begin(), notes.end());
        // A second pass reports the unfinished ones in order, without holding them all in memory.
        // Finals of notifications whose segments are gone are dropped from the set the cursor skips.
        h->cursor = {h->log.first_segment(), 0};
        std::unordered_set<std::string> to_skip;
        std::unordered_map<std::string, std::uint32_t> to_resume;
        auto next = h->log.read(h->cursor);
        for (; next; next = h->log.read(next->next)) {
            auto* a = std::get_if<accepted_record>(&next->value);
            if (a == nullptr) {
                continue;
            }
            if (h->finished_ids.contains(a->id)) {
                to_skip.insert(a->id);
            } else {
                ++summary.unfinished;
                ++h->outstanding;
                if (auto it = h->resumed_attempts.find(a->id); it != h->resumed_attempts.end()) {
                    to_resume.insert(*it);
                }
                on_unfinished(*a);
            }
        }
        h->finished_ids = std::move(to_skip);
        h->resumed_attempts = std::move(to_resume);
        std::lock_guard lock(hubs_mutex_);
        add_hub(hub_name(dir_name), std::move(h));
    }
    return summary;
}

std::vector<spool::hub_log*> spool::all_logs() const {
    std::vector<hub_log*> logs;
    for (const auto& [name, h] : hubs()) {
        logs.push_back(h);
    }
    return logs;
}

void spool::start(send_function send) {
    send_ = std::move(send);
    for (auto* h : all_logs()) {
        std::unique_lock lock(h->mutex);
        auto batch = pump(*h);
        lock.unlock();
        deliver(std::move(batch));
    }
}

admission spool::accept(const accepted_record& r, bool send_now, std::size_t capacity) {
    const intake one{fields_of(r), send_now, capacity};
    return std::move(accept(std::span(&one, 1)).front());
}

std::vector<admission> spool::accept(std::span<const intake> batch) {
    std::vector<admission> out(batch.size());
    std::vector<bool> taken(batch.size(), false);
    std::vector<std::size_t> which;
    // One write per hub: the batch's notifications of each hub, in their order.
    for (std::size_t first = 0; first < batch.size(); ++first) {
        if (taken[first]) {
            continue;
        }
        which.clear();
        for (std::size_t i = first; i < batch.size(); ++i) {
            if (!taken[i] && batch[i].record.hub == batch[first].record.hub) {
                which.push_back(i);
                taken[i] = true;
            }
        }
        accept_into(log_of(batch[first].record.hub), batch, which, out);
    }
    return out;
}

void spool::accept_into(hub_log& h,
                        std::span<const intake> batch,
                        std::span<const std::size_t> which,
                        std::vector<admission>& out) {
    // Framed outside the lock, into one buffer: record k is frames[ends[k-1], ends[k]). The buffer
    // is the thread's own, kept between batches: a batch's frames (tens of KiB) are past the
    // allocator's thread cache, and a fresh buffer each time cost page faults.
    thread_local std::string frames;
    frames.clear();
    if (frames.capacity() > kept_frame_bytes) {
        frames.shrink_to_fit();  // a batch of large notifications: not kept
    }
    std::size_t bytes = 0;
    for (const auto i : which) {
        const auto& r = batch[i].record;
        bytes += frame_header_bytes + r.id.size() + r.hub.size() + r.submission.size() + 32;
    }
    frames.reserve(bytes);
    std::vector<std::size_t> ends(which.size());
    for (std::size_t k = 0; k < which.size(); ++k) {
        encode(batch[which[k]].record, frames);
        ends[k] = frames.size();
    }
    const auto frame_of = [&](std::size_t k) {
        const auto begin = k == 0 ? 0 : ends[k - 1];
        return std::string_view(frames).substr(begin, ends[k] - begin);
    };
    std::unique_lock lock(h.mutex);
    h.take_finals();  // written with these: one write instead of two
    const auto finals_bytes = h.unwritten.size();
    std::vector<std::size_t> admitted;  // indexes into `which`
    for (std::size_t k = 0; k < which.size(); ++k) {
        if (h.outstanding + admitted.size() >= batch[which[k]].capacity) {
            out[which[k]].outcome = admission::verdict::full;
        } else {
            admitted.push_back(k);
        }
    }
    if (admitted.empty()) {
        return;
    }
    std::string_view to_write = frames;  // the usual case: every one admitted
    std::string some;
    if (admitted.size() < which.size()) {
        for (const auto k : admitted) {
            some += frame_of(k);
        }
        to_write = some;
    }
    position at;
    try {
        at = write_unwritten(h, to_write);
    } catch (const std::system_error& e) {
        lock.unlock();
        set_problem(e.what());
        for (const auto k : admitted) {
            out[which[k]] = {.outcome = admission::verdict::unwritable, .problem = e.what()};
        }
        return;
    }
    const auto ticket = commit_.note_append();
    position record_at{at.segment, at.offset + finals_bytes};
    h.counts[at.segment].accepted += admitted.size();  // one write: one segment
    h.outstanding += admitted.size();
    for (const auto k : admitted) {
        const auto& in = batch[which[k]];
        auto& a = out[which[k]];
        a.segment = at.segment;
        a.offset = record_at.offset;
        a.ticket = ticket;
        const position next{record_at.segment, record_at.offset + frame_of(k).size()};
        if (h.cursor == record_at && h.handed_back.empty() && h.in_window < config_.memory_window &&
            !stopped_) {
            // Nothing waits before it and the window has room: sent now, never read back.
            a.send_now = true;
            h.cursor = next;
            ++h.in_window;
        } else if (in.send_now) {
            // A waiting client: sent at once, and skipped when the cursor reaches it.
            a.send_now = true;
            h.handed_ahead.insert(std::string(in.record.id));
            ++h.in_window;
        }
        record_at = next;
    }
    auto freed = pump(h);  // the finals written freed places for what waits on disk
    lock.unlock();
    accepted_written();
    deliver(std::move(freed));
}

position spool::write_unwritten(hub_log& h, std::string_view accepted) {
    const bool cursor_at_end = h.cursor >= h.log.end();
    const std::string_view parts[] = {h.unwritten, accepted};
    const auto at = h.log.append(parts);
    const auto finals_bytes = h.unwritten.size();
    h.unwritten.clear();
    h.in_window -= std::min(h.in_window, h.finals_unwritten);
    h.finals_unwritten = 0;
    if (cursor_at_end) {
        // The cursor moves past the final records: they are never read back to be skipped.
        h.cursor = {at.segment, at.offset + finals_bytes};
    }
    return at;
}

void spool::finished(const final_fields& r) {
    auto& h = log_of(r.hub);
    const auto now_ms = coarse_now_ms();
    bool first_waiting = false;
    bool past_flush_bytes = false;
    bool overdue = false;
    {
        std::lock_guard lock(h.inbox.mutex);
        first_waiting = h.inbox.framed.empty();
        if (first_waiting) {
            h.inbox.first_at_ms = now_ms;
        }
        encode(r, h.inbox.framed);  // a small record: framed in place, no buffer of its own
        ++h.inbox.count;
        h.inbox.segments.push_back(r.segment);
        past_flush_bytes = h.inbox.framed.size() >= flush_bytes;
        overdue = now_ms - h.inbox.first_at_ms >= flush_delay.count();
    }
    if (past_flush_bytes) {
        write_finals(h);
    } else if (overdue) {
        // Results keep coming and no append carried them: this sender writes them, unless a write
        // is in progress (which never makes a sender wait).
        if (std::unique_lock lock(h.mutex, std::try_to_lock); lock.owns_lock()) {
            write_finals(h, std::move(lock));
        }
    } else if (first_waiting) {
        commit_.request_flush();
    }
}

void spool::kept(const handoff& h) {
    auto& log = log_of(h.record.hub);
    std::string framed;
    if (h.attempts > 0) {
        encode(attempts_record{.id = h.record.id, .hub = h.record.hub, .attempts = h.attempts}, framed);
    }
    std::lock_guard lock(log.mutex);
    log.in_window -= log.in_window > 0 ? 1 : 0;
    log.unwritten += framed;  // written by stop(), with the finals of the drain
}

void spool::write_finals() {
    for (auto* h : all_logs()) {
        write_finals(*h);
    }
}

void spool::write_finals(hub_log& h) {
    write_finals(h, std::unique_lock(h.mutex));
}

void spool::write_finals(hub_log& h, std::unique_lock<std::mutex> lock) {
    h.take_finals();
    if (h.unwritten.empty()) {
        return;
    }
    try {
        write_unwritten(h);
    } catch (const std::system_error& e) {
        // Kept for the next write. Lost with the process, they are sent again after a restart:
        // duplicates, never a loss. The problem stays: a small final record may fit where a
        // submission does not, and only a submission written says the spool takes them again.
        lock.unlock();
        set_problem(e.what());
        return;
    }
    auto freed = pump(h);
    lock.unlock();
    deliver(std::move(freed));
}

void spool::accepted_written() {
    if (has_problem_.load(std::memory_order_relaxed)) {
        set_problem({});  // written again: the disk is back
    }
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
            auto back = std::move(h.handed_back.back());
            h.handed_back.pop_back();
            if (back.record.submission.empty()) {
                // Handed over by accept() without it: the send function parses it again.
                back.record.submission = read_submission(h, back).value_or(std::string());
            }
            out.push_back(std::move(back));
            ++h.in_window;
            continue;
        }
        auto next = h.log.read(h.cursor);
        if (!next) {
            h.cursor = h.log.end();
            break;
        }
        h.cursor = next->next;
        auto* a = std::get_if<accepted_record>(&next->value);
        if (a == nullptr || h.finished_ids.erase(a->id) > 0 || h.handed_ahead.erase(a->id) > 0) {
            continue;
        }
        handoff resumed{std::move(*a), next->at.segment, next->at.offset};
        if (auto it = h.resumed_attempts.find(resumed.record.id); it != h.resumed_attempts.end()) {
            resumed.attempts = it->second;
            h.resumed_attempts.erase(it);
        }
        out.push_back(std::move(resumed));
        ++h.in_window;
    }
    return out;
}

std::optional<std::string> spool::read_submission(hub_log& log, const handoff& h) {
    try {
        auto stored = log.log.read({h.segment, h.offset});
        auto* a = stored ? std::get_if<accepted_record>(&stored->value) : nullptr;
        if (a != nullptr && a->id == h.record.id) {
            return std::move(a->submission);
        }
    } catch (const std::exception&) {
        // Unreadable: the caller goes on without it.
    }
    return std::nullopt;
}

std::optional<std::string> spool::submission_of(const handoff& h) {
    if (!h.record.submission.empty()) {
        return h.record.submission;
    }
    auto& log = log_of(h.record.hub);
    std::lock_guard lock(log.mutex);
    return read_submission(log, h);
}

void spool::deliver(std::vector<handoff> batch) {
    for (auto& h : batch) {
        send_(std::move(h));
    }
}

void spool::stop() {
    stopped_ = true;
    write_finals();
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
    for (const auto& [name, h] : hubs()) {
        std::lock_guard lock(h->mutex);
        std::size_t reported = 0;  // finals the senders reported that take_finals() has not counted
        {
            std::lock_guard inbox_lock(h->inbox.mutex);
            reported = h->inbox.count;
        }
        out.push_back({name,
                       h->in_window,
                       h->outstanding - std::min(h->outstanding, reported),
                       h->log.bytes(),
                       static_cast<std::size_t>(h->log.active_segment() - h->log.first_segment() + 1)});
    }
    return out;
}

}  // namespace nhpush::spool
