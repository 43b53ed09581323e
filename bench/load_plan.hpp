#pragma once
// What a benchmark run sends and when: sample payloads, submission bodies, the fixed-rate schedule.
// Pure functions, tested without sockets (tests/unit/bench).

#include <nhpush/notification.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace nhpush::bench {

/// What every mode sends, and how much of it.
struct load_options {
    std::uint64_t count = 100'000;         ///< notifications in all
    std::chrono::seconds time_limit{120};  ///< stop submitting after this long
    double rate = 0;                       ///< notifications a second (open loop); 0: closed loop
    notification_format format = notification_format::apple;
    std::size_t payload_bytes = 200;
    std::string tags;      ///< a tag expression; empty: broadcast
    bool progress = true;  ///< a progress bar on stderr when it is a terminal
};

/// A valid payload of `format`, `bytes` long (or as short as the format allows).
std::string sample_payload(notification_format format, std::size_t bytes);

/// The notification a run sends, validated as the hub would see it.
notification sample_notification(const load_options& o);

/// A submission object for nhpushd's API (one line, no newline): JSON payloads are embedded as
/// objects, as applications send them; XML payloads as strings.
std::string submission_json(std::string_view hub, const load_options& o);

/// `POST /v1/notifications` with `lines` copies of `submission`: one JSON object when `lines` is 1,
/// else an NDJSON batch. `wait` asks for the outcome (single notifications only).
std::string submission_request(std::string_view submission, std::size_t lines, bool wait);

/// The fixed-rate (open loop) schedule: notification `index` is due at start + index / rate.
/// Latency is measured from the due time, so a sender that falls behind is not flattered by it.
class fixed_rate_schedule {
public:
    using clock = std::chrono::steady_clock;

    fixed_rate_schedule(clock::time_point start, double per_second)
        : start_(start), per_second_(per_second) {}

    clock::time_point due(std::uint64_t index) const {
        return start_ + std::chrono::duration_cast<clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(index) / per_second_));
    }

private:
    clock::time_point start_;
    double per_second_;
};

/// One line of the progress bar: `[#####.....]  50%  5000/10000  1234/s`, `width` cells of bar.
std::string progress_line(std::uint64_t done, std::uint64_t total, double seconds, std::size_t width = 30);

}  // namespace nhpush::bench
