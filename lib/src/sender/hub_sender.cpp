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

#include <boost/asio/associated_cancellation_slot.hpp>

#include <future>
#include <stdexcept>

namespace nhpush::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono;

namespace {

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
    // Connection limits and the rate are split evenly over the threads; the first shards take
    // the remainder. A shard whose maximum is 0 would strand its queue, so there are at most
    // max_connections shards.
    const std::size_t n = std::min(pool.size(), config_.max_connections);
    const auto share = [n](std::size_t total, std::size_t i) { return total / n + (i < total % n ? 1 : 0); };
    for (std::size_t i = 0; i < n; ++i) {
        shards_.push_back(
            std::make_unique<shard>(*this,
                                    pool.context(i),
                                    shard_limits{.min_connections = share(config_.min_connections, i),
                                                 .max_connections = share(config_.max_connections, i),
                                                 .rate = config_.rate_limit / static_cast<double>(n)}));
    }
}

void hub_sender::start() {
    // Held by the post: a hub destroyed at once (before its threads ran this) is then still whole.
    for (auto& s : shards_) {
        asio::post(s->context(), [s = s.get(), keep_alive = shared_from_this()] { s->start(); });
    }
}

void hub_sender::submit(work_item&& item,
                        bool validate,
                        std::optional<system_clock::time_point> deadline,
                        asio::cancellation_slot cancel_slot) {
    item.enqueued_at = steady::now();
    item.deadline =
        deadline
            ? item.enqueued_at + std::chrono::duration_cast<steady::duration>(*deadline - system_clock::now())
            : item.enqueued_at + config_.notification_deadline;
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
    if (cancel_slot.is_connected() && item.kind == work_kind::send) {
        item.cancel = &cancel_slot.template emplace<queued_cancellation>(weak_from_this());
    }
    pick_shard().hand_over(std::move(item));
}

void hub_sender::drop_cancelled() {
    // The notification may be in any shard's queue (or moving between two: take_incoming checks too).
    for (auto& s : shards_) {
        asio::post(s->context(), [s = s.get(), keep_alive = shared_from_this()] { s->drop_cancelled(); });
    }
}

bool hub_sender::cancel_queued(std::uint64_t key) {
    if (key == 0) {
        return false;
    }
    // Every shard's queue at once, locked in a fixed order: an item that work stealing moves from
    // one shard to another is in one of them whenever both locks are free.
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(shards_.size());
    for (auto& s : shards_) {
        locks.emplace_back(s->queue_mutex());
    }
    for (auto& s : shards_) {
        if (s->mark_cancelled(key)) {
            asio::post(s->context(), [s = s.get(), keep_alive = shared_from_this()] { s->drop_cancelled(); });
            return true;
        }
    }
    return false;
}

namespace {
// Set by queued_cancellation while cancel_queued_send() emits on this thread.
thread_local bool stopped_a_queued_send = false;
}  // namespace

void queued_cancellation::operator()(asio::cancellation_type type) {
    if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none ||
        !advance(phase::queued, phase::cancelled)) {
        return;
    }
    stopped_a_queued_send = true;
    if (auto sender = sender_.lock()) {
        sender->drop_cancelled();
    }
}

shard& hub_sender::pick_shard() noexcept {
    // The less loaded of two shards ("power of two choices"): a shard whose connections are slow
    // or down stops getting new work while the others have room.
    const auto turn = next_shard_.fetch_add(1, std::memory_order_relaxed);
    auto& first = *shards_[turn % shards_.size()];
    auto& second = *shards_[(turn + 1) % shards_.size()];
    return second.outstanding() < first.outstanding() ? second : first;
}

shard* hub_sender::busiest_shard() noexcept {
    shard* busiest = nullptr;
    for (auto& s : shards_) {
        if (busiest == nullptr || s->ready_count() > busiest->ready_count()) {
            busiest = s.get();
        }
    }
    return shards_.size() > 1 ? busiest : nullptr;
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
        asio::post(s->context(), [s = s.get(), keep_alive = shared_from_this()] { s->close(); });
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
                              validation v,
                              const send_options& options,
                              boost::asio::cancellation_slot cancel_slot) {
    detail::work_item item;
    item.n = std::move(n);
    item.completion = detail::handler_slot(std::move(handler));
    if (options.attempts_before > 0) {
        item.result().attempts = options.attempts_before;  // the retry rule counts from there
    }
    item.cancel_key = options.cancel_key;
    sender_->submit(std::move(item), v == validation::needed, options.deadline, cancel_slot);
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

bool notification_hub::cancel_queued(std::uint64_t key) {
    return sender_->cancel_queued(key);
}

bool cancel_queued_send(boost::asio::cancellation_signal& signal) {
    detail::stopped_a_queued_send = false;
    signal.emit(boost::asio::cancellation_type::terminal);
    return std::exchange(detail::stopped_a_queued_send, false);
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
