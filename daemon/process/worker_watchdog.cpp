#include "process/worker_watchdog.hpp"

#include "process/systemd.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nhpush::process {

namespace asio = boost::asio;
using namespace std::chrono;

worker_watchdog::worker_watchdog(const asio::any_io_executor& control,
                                 worker_pool& pool,
                                 microseconds period,
                                 const log::daemon_log& log)
    : timer_(control)
    , pool_(pool)
    , interval_(period / 2)
    , log_(log)
    , answered_(std::make_shared<std::vector<std::atomic<std::uint64_t>>>(pool.size())) {}

bool worker_watchdog::every_worker_answered() const {
    for (const auto& a : *answered_) {
        if (a.load(std::memory_order_acquire) != round_) {
            return false;
        }
    }
    return true;
}

void worker_watchdog::probe() {
    ++round_;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
        asio::post(pool_.context(i), [answered = answered_, i, round = round_] {
            (*answered)[i].store(round, std::memory_order_release);
        });
    }
}

asio::awaitable<void> worker_watchdog::run() {
    log_.log(log_level::info,
             "systemd watchdog: pinging every {} ms",
             duration_cast<milliseconds>(interval_).count());
    for (;;) {
        timer_.expires_after(interval_);
        auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        if (every_worker_answered()) {
            systemd::notify("WATCHDOG=1");
        } else if (std::uint64_t suppressed = 0; warnings_.allow(steady_clock::now(), suppressed)) {
            log_.log(
                log_level::error,
                "a worker thread has not run its event loop for {} ms; not pinging the systemd watchdog{}",
                duration_cast<milliseconds>(interval_).count(),
                log::suppressed_note(suppressed));
        }
        probe();
    }
}

}  // namespace nhpush::process
