#include "sender/hub_sender.hpp"

#include "sender/hub_connection.hpp"

#include "nhpush/hub_settings.hpp"

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <stdexcept>

namespace nhpush::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono;

namespace {

// Runs the handler on its associated executor (inline when it has none). A lambda rather than
// asio::append: Boost 1.81 re-wraps an lvalue any_completion_handler inside append without end.
void complete(asio::any_completion_handler<send_signature> handler, error_code ec, send_result result) {
    auto ex = asio::get_associated_executor(handler);
    asio::dispatch(ex, [h = std::move(handler), ec, r = std::move(result)]() mutable {
        std::move(h)(ec, std::move(r));
    });
}

asio::ssl::context make_tls_context(const std::string& ca_file) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    error_code ec;
    if (ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
    } else {
        ctx.load_verify_file(ca_file, ec);
    }
    if (ec) {
        throw std::invalid_argument(fmt::format(
            "ca_file '{}' cannot be loaded: {}", ca_file.empty() ? "(system store)" : ca_file, ec.message()));
    }
    return ctx;
}

void validate(const hub_client_config& c) {
    require_valid_hub_client_config(c);
}

}  // namespace

// ---- shard ----

shard::shard(hub_sender& owner, asio::io_context& ioc, std::size_t connections, double rate)
    : owner_(owner)
    , ioc_(ioc)
    , retry_timer_(ioc)
    , sweep_timer_(ioc)
    , bucket_(rate, std::max(1.0, rate / 10)) {
    for (std::size_t i = 0; i < connections; ++i) {
        connections_.push_back(std::make_unique<hub_connection>(*this));
    }
}

shard::~shard() = default;

void shard::start() {
    for (auto& c : connections_) {
        spawn(*c);
    }
    asio::co_spawn(ioc_, sweep_deadlines(), asio::detached);
}

void shard::spawn(hub_connection& c) {
    asio::co_spawn(ioc_, c.run(), [this, &c, keep_alive = owner_.shared_from_this()](std::exception_ptr e) {
        if (e) {
            std::string what = "an exception of unknown type";
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                what = ex.what();
            } catch (...) {
            }
            keep_alive->log().log(
                log_level::error, "hub {}: connection ended: {}", keep_alive->endpoint().hub, what);
            if (!closing_) {
                spawn(c);
                return;
            }
        }
        // Counted here, not at the end of run(), so that a coroutine ended by an exception counts.
        keep_alive->connection_exited();
    });
}

void shard::update_oldest() {
    const auto oldest = ready_.empty() ? steady::time_point{} : ready_.front().enqueued_at;
    oldest_enqueued_.store(oldest.time_since_epoch().count(), std::memory_order_relaxed);
}

void shard::wake_one() {
    if (!idle_.empty()) {
        auto* c = idle_.back();
        idle_.pop_back();
        c->wake();
    }
}

void shard::push(work_item item) {
    if (closing_) {
        finish(item, make_error_code(errc::shutting_down));
        return;
    }
    ready_.push_back(std::move(item));
    if (ready_.size() == 1) {
        update_oldest();
    }
    wake_one();
}

void shard::push_front(work_item item) {
    if (closing_) {
        // Handed back after close() emptied the queue (an answer that raced the stop): nobody
        // would take it any more.
        return not_sent_at_stop(item);
    }
    ready_.push_front(std::move(item));
    update_oldest();
    wake_one();
}

std::optional<work_item> shard::try_take() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    work_item item = std::move(ready_.front());
    ready_.pop_front();
    update_oldest();
    return item;
}

asio::awaitable<std::optional<work_item>> shard::take(hub_connection& c) {
    while (ready_.empty() && !closing_) {
        idle_.push_back(&c);
        co_await c.sleep_idle();
        std::erase(idle_, &c);
    }
    co_return closing_ ? std::nullopt : try_take();
}

void shard::retry_later(work_item item, steady::duration delay) {
    if (closing_) {
        return not_sent_at_stop(item);
    }
    delayed_.emplace(steady::now() + delay, std::move(item));
    arm_retry_timer();
}

void shard::arm_retry_timer() {
    if (delayed_.empty()) {
        return;
    }
    retry_timer_.expires_at(delayed_.begin()->first);
    retry_timer_.async_wait([this](error_code ec) {
        if (!ec) {
            move_due_retries();
        }
    });
}

void shard::move_due_retries() {
    const auto now = steady::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
        auto node = delayed_.extract(delayed_.begin());
        push_front(std::move(node.mapped()));
    }
    arm_retry_timer();
}

asio::awaitable<void> shard::sweep_deadlines() {
    const auto keep_alive = owner_.shared_from_this();
    while (!closing_) {
        sweep_timer_.expires_after(seconds{1});
        if (auto [ec] = co_await sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            ec || closing_) {
            break;
        }
        const auto now = steady::now();
        const auto expired = [now](const work_item& i) { return i.deadline <= now; };
        for (auto it = ready_.begin(); it != ready_.end();) {
            if (expired(*it)) {
                finish(*it, make_error_code(errc::deadline_expired));
                it = ready_.erase(it);
            } else {
                ++it;
            }
        }
        for (auto it = delayed_.begin(); it != delayed_.end();) {
            if (expired(it->second)) {
                finish(it->second, make_error_code(errc::deadline_expired));
                it = delayed_.erase(it);
            } else {
                ++it;
            }
        }
        update_oldest();
    }
}

void shard::finish(work_item& item, error_code ec) {
    auto& stats = owner_.stats();
    auto& r = item.result();
    r.error = ec;
    r.latency = steady::now() - item.enqueued_at;
    if (!ec) {
        sender_stats::bump(r.unexpected_status ? stats.sent_unexpected_status : stats.sent);
        stats.record_latency(r.latency);
    } else if (ec == errc::hub_rejected) {
        sender_stats::bump(stats.failed_rejected);
        if (r.http_status == 401 || r.http_status == 403) {
            sender_stats::bump(stats.failed_auth);
        }
    } else if (ec == errc::deadline_expired) {
        sender_stats::bump(stats.failed_deadline);
    } else if (ec == errc::shutting_down) {
        sender_stats::bump(stats.failed_shutdown);
    } else if (ec == errc::outcome_unknown) {
        sender_stats::bump(stats.outcome_unknown);
    } else if (ec == errc::send_path_failed) {
        sender_stats::bump(stats.failed_send_path);
    } else {
        sender_stats::bump(stats.failed_retries_exhausted);
    }
    owner_.item_left(stats.queue_depth.fetch_sub(1));
    complete(std::move(item.completion.handler), ec, std::move(r));
}

void shard::not_sent_at_stop(work_item& item) {
    item.result().error_detail = "the sender stopped before this notification was sent";
    finish(item, make_error_code(errc::shutting_down));
}

void shard::fail_all_ready(error_code ec, const std::string& detail) {
    while (auto item = try_take()) {
        item->result().error_detail = detail;
        finish(*item, ec);
    }
}

void shard::close() {
    closing_ = true;
    fail_all_ready(make_error_code(errc::shutting_down),
                   "the sender stopped before this notification was sent");
    for (auto& [when, item] : delayed_) {
        item.result().error_detail = "the sender stopped before this notification was retried";
        finish(item, make_error_code(errc::shutting_down));
    }
    delayed_.clear();
    retry_timer_.cancel();
    sweep_timer_.cancel();
    for (auto& c : connections_) {
        c->interrupt();
    }
}

// ---- hub_sender ----

hub_sender::hub_sender(worker_pool& pool,
                       const connection_string& cs,
                       std::string_view hub,
                       hub_client_config config,
                       logger log)
    : config_((validate(config), std::move(config)))
    , log_(std::move(log))
    , endpoint_(make_hub_endpoint(cs, hub, config_.api_version))
    , tokens_(cs.key_name, cs.key, config_.sas)
    , tls_(make_tls_context(config_.ca_file)) {
    const std::size_t n = std::min(pool.size(), config_.max_connections);
    for (std::size_t i = 0; i < n; ++i) {
        // Connections and the rate limit are split evenly; the first shards take the remainder.
        const std::size_t share = config_.max_connections / n + (i < config_.max_connections % n ? 1 : 0);
        shards_.push_back(std::make_unique<shard>(
            *this, pool.context(i), share, config_.rate_limit / static_cast<double>(n)));
    }
}

void hub_sender::start() {
    running_connections_ = static_cast<int>(config_.max_connections);
    for (auto& s : shards_) {
        asio::post(s->context(), [s = s.get()] { s->start(); });
    }
}

void hub_sender::submit(work_item item, bool validate) {
    item.enqueued_at = steady::now();
    item.deadline = item.enqueued_at + config_.notification_deadline;
    const auto reject = [&](errc e) {
        const auto ec = make_error_code(e);
        item.result().error = ec;
        complete(std::move(item.completion.handler), ec, std::move(item.result()));
    };
    if (!accepting_.load(std::memory_order_acquire)) {
        return reject(errc::shutting_down);
    }
    if (validate && item.kind == work_kind::send) {
        if (auto problem = prepare_notification(item.n, system_clock::now())) {
            item.result().error_code = problem->field;
            item.result().error_detail = problem->message;
            return reject(errc::invalid_notification);
        }
    }
    // Reserve a place first so a full queue is reported at once, on the caller's thread.
    if (stats_.queue_depth.fetch_add(1, std::memory_order_relaxed) >= config_.queue_capacity) {
        stats_.queue_depth.fetch_sub(1, std::memory_order_relaxed);
        sender_stats::bump(stats_.rejected_queue_full);
        return reject(errc::queue_full);
    }
    sender_stats::bump(stats_.submitted);
    auto& target = *shards_[next_shard_.fetch_add(1, std::memory_order_relaxed) % shards_.size()];
    asio::post(target.context(),
               [&target, item = std::move(item)]() mutable { target.push(std::move(item)); });
}

void hub_sender::pause_until(steady::time_point until) {
    auto current = paused_until_.load(std::memory_order_relaxed);
    const auto wanted = until.time_since_epoch().count();
    while (current < wanted) {
        if (paused_until_.compare_exchange_weak(current, wanted, std::memory_order_relaxed)) {
            if (current < steady::now().time_since_epoch().count()) {
                sender_stats::bump(stats_.throttle_pauses);
                log_.log(log_level::warning,
                         "hub {}: throttled, pausing {} ms",
                         endpoint_.hub,
                         duration_cast<milliseconds>(until - steady::now()).count());
            }
            return;
        }
    }
}

void hub_sender::connection_exited() {
    if (running_connections_.fetch_sub(1) == 1) {
        wake_stopper();
    }
}

void hub_sender::wake_stopper() {
    // Taking the mutex orders this after stop()'s check of its condition: no lost wake-up.
    { std::lock_guard lock(stopper_mutex_); }
    stopper_.notify_all();
}

void hub_sender::stop(milliseconds drain) {
    std::lock_guard once(stop_mutex_);
    if (stopped_) {
        return;
    }
    stopped_ = true;
    accepting_.store(false);
    // Sequentially consistent with finish()'s decrement: either it sees stopping_ and wakes us,
    // or we see its decrement.
    stopping_.store(true);
    const auto drained = [this] { return stats_.queue_depth.load() == 0; };
    std::unique_lock lock(stopper_mutex_);
    stopper_.wait_until(lock, steady::now() + drain, drained);
    if (const auto left = stats_.queue_depth.load(); left > 0) {
        log_.log(log_level::warning, "hub {}: stopping with {} notifications not sent", endpoint_.hub, left);
    }
    // Every connection is interrupted in whatever it waits for; what is queued fails at once.
    for (auto& s : shards_) {
        asio::post(s->context(), [s = s.get()] { s->close(); });
    }
    stopper_.wait(lock, [&] { return drained() && running_connections_.load() == 0; });
}

sender_stats_snapshot hub_sender::snapshot() const {
    auto s = stats_.snapshot();
    s.tokens_signed = tokens_.signed_count();
    const auto now = steady::now();
    for (const auto& sh : shards_) {
        const auto oldest = sh->oldest_enqueued();
        if (oldest != steady::time_point{}) {
            s.oldest_queued_age_seconds =
                std::max(s.oldest_queued_age_seconds, duration<double>(now - oldest).count());
        }
    }
    return s;
}

}  // namespace nhpush::detail

namespace nhpush {

notification_hub::notification_hub(worker_pool& pool,
                                   std::string_view connection_string,
                                   std::string_view hub_name,
                                   hub_client_config config,
                                   logger log)
    : sender_(std::make_shared<detail::hub_sender>(
          pool, parse_connection_string(connection_string), hub_name, std::move(config), std::move(log))) {
    sender_->start();
}

notification_hub::~notification_hub() {
    sender_->stop(std::chrono::milliseconds{0});
}

void notification_hub::submit(notification n,
                              boost::asio::any_completion_handler<send_signature> handler,
                              validation v) {
    detail::work_item item;
    item.n = std::move(n);
    item.completion = detail::handler_slot(std::move(handler));
    sender_->submit(std::move(item), v == validation::needed);
}

void notification_hub::submit_query(query_kind kind,
                                    std::string id,
                                    boost::asio::any_completion_handler<send_signature> handler) {
    detail::work_item item;
    item.kind = kind == query_kind::cancel_scheduled ? detail::work_kind::cancel_scheduled
                                                     : detail::work_kind::outcome_details;
    item.id = std::move(id);
    item.completion = detail::handler_slot(std::move(handler));
    sender_->submit(std::move(item));
}

send_result notification_hub::send(notification n) {
    std::promise<send_result> done;
    auto result = done.get_future();
    async_send(std::move(n),
               [&done](boost::system::error_code, send_result r) { done.set_value(std::move(r)); });
    return result.get();
}

void notification_hub::stop(std::chrono::milliseconds drain) {
    sender_->stop(drain);
}

sender_stats_snapshot notification_hub::stats() const {
    return sender_->snapshot();
}

const std::string& notification_hub::hub_name() const noexcept {
    return sender_->endpoint().hub;
}

}  // namespace nhpush
