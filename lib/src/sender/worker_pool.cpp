#include "nhpush/worker_pool.hpp"

#include <algorithm>

namespace nhpush {

worker_pool::worker_pool(std::size_t threads) {
    if (threads == 0) {
        threads = std::max(1u, std::thread::hardware_concurrency());
    }
    for (std::size_t i = 0; i < threads; ++i) {
        // Concurrency hint 1: each context is run by exactly one thread.
        contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
        guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
    }
    for (auto& ctx : contexts_) {
        threads_.emplace_back([&ctx] { ctx->run(); });
    }
}

worker_pool::~worker_pool() {
    guards_.clear();
    for (auto& ctx : contexts_) {
        ctx->stop();
    }
    for (auto& t : threads_) {
        t.join();
    }
}

bool worker_pool::running_in_pool() const noexcept {
    return std::any_of(threads_.begin(), threads_.end(), [](const std::thread& t) {
        return t.get_id() == std::this_thread::get_id();
    });
}

}  // namespace nhpush
