#pragma once
// A progress bar on stderr while a run lasts, redrawn four times a second; only on a terminal, so
// scripts and --json output stay clean.

#include "load_plan.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

namespace nhpush::bench {

class progress_meter {
public:
    /// `done` is called from the meter's thread; it must be thread-safe (an atomic load).
    progress_meter(bool wanted, std::uint64_t total, std::function<std::uint64_t()> done) {
        if (!wanted || isatty(STDERR_FILENO) == 0) {
            return;
        }
        thread_ = std::jthread([total, done = std::move(done)](std::stop_token stop) {
            const auto start = std::chrono::steady_clock::now();
            while (!stop.stop_requested()) {
                std::this_thread::sleep_for(std::chrono::milliseconds{250});
                const auto seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                std::fprintf(stderr, "\r%s ", progress_line(done(), total, seconds).c_str());
            }
            std::fprintf(stderr, "\r\033[K");  // clear the line for the report
        });
    }

    ~progress_meter() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
    }

    progress_meter(const progress_meter&) = delete;
    progress_meter& operator=(const progress_meter&) = delete;

private:
    std::jthread thread_;
};

}  // namespace nhpush::bench
