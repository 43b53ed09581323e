#include "sources/redis_stream_source.hpp"

#include "sources/redis_connection.hpp"
#include "sources/stream_logic.hpp"
#include "submission/submission.hpp"

#include <nhpush/error.hpp>
#include <nhpush/retry.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <unistd.h>

#include <deque>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace nhpush::sources {
namespace asio = boost::asio;
using namespace std::chrono;

namespace {

// XREADGROUP's BLOCK: long when nothing is in flight (a quiet stream costs one command per period),
// short while results are coming (they are written back between reads, on the same connection).
constexpr milliseconds quiet_block{2'000};
constexpr milliseconds busy_block{50};
// How often a full queue is looked at again when no result wakes the loop earlier.
constexpr milliseconds room_poll{20};
const retry_config reconnect_backoff{0, milliseconds{100}, milliseconds{5'000}};

/// For rediss://: TLS 1.2 or later, the server's certificate verified against ca_file (or the system
/// store), and the client certificate of cert_file/key_file if any; nullopt for redis://.
std::optional<asio::ssl::context> make_tls_context(std::string_view name,
                                                   const config::source_config& source,
                                                   const config::redis_url& url) {
    if (!url.tls) {
        return std::nullopt;
    }
    std::optional<asio::ssl::context> ctx(std::in_place, asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_verify_mode(asio::ssl::verify_peer);
    config::load_source_tls_files(name, source, ctx->native_handle());
    return ctx;
}

std::string trim(std::string s) {
    constexpr std::string_view ws = " \t\r\n";
    s.erase(0, s.find_first_not_of(ws) == std::string::npos ? s.size() : s.find_first_not_of(ws));
    s.erase(s.find_last_not_of(ws) + 1);
    return s;
}

}  // namespace

std::string resolve_password(std::string_view name,
                             const config::source_config& source,
                             const config::environment& env) {
    const auto key = [&](std::string_view k) { return fmt::format("sources.{}.{}", name, k); };
    if (!source.password_file.empty()) {
        return trim(config::read_private_file(key("password_file"), source.password_file));
    }
    if (!source.password_env.empty()) {
        auto value = env(source.password_env);
        if (!value || trim(*value).empty()) {
            throw config::config_error(fmt::format(
                "{}: environment variable {} is not set or empty", key("password_env"), source.password_env));
        }
        return trim(std::move(*value));
    }
    if (!source.password_credential.empty()) {
        const auto directory = env("CREDENTIALS_DIRECTORY");
        if (!directory || directory->empty()) {
            throw config::config_error(
                fmt::format("{}: $CREDENTIALS_DIRECTORY is not set; run nhpushd under systemd with "
                            "LoadCredential={}:/path/to/file",
                            key("password_credential"),
                            source.password_credential));
        }
        return trim(config::read_private_file(key("password_credential"),
                                              fmt::format("{}/{}", *directory, source.password_credential)));
    }
    return {};
}

std::string default_consumer_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        host[0] = '\0';
    }
    return fmt::format("{}-{}", host[0] != '\0' ? host : "nhpushd", ::getpid());
}

/// The source's state and its one coroutine; everything runs on `strand_`.
class redis_stream_source : public std::enable_shared_from_this<redis_stream_source> {
public:
    redis_stream_source(asio::io_context& context,
                        std::string name,
                        config::source_config config,
                        std::string password,
                        source_services services,
                        std::shared_ptr<metrics::source_counters> counters)
        : strand_(asio::make_strand(context))
        , name_(std::move(name))
        , config_(std::move(config))
        , url_(*config::parse_redis_url(config_.url))
        , tls_(make_tls_context(name_, config_, url_))
        , password_(std::move(password))
        , services_(services)
        , counters_(std::move(counters))
        , connection_(strand_, tls_ ? &*tls_ : nullptr)
        , wake_timer_(strand_)
        , jitter_(std::random_device{}()) {
        if (config_.consumer.empty()) {
            config_.consumer = default_consumer_name();
        }
        keys_ = {config_.stream,
                 config_.group,
                 config_.dead_stream.empty() ? config_.stream + ":dead" : config_.dead_stream,
                 config_.results_stream,
                 config_.consumer};
    }

    std::future<void> start() {
        auto ended = std::make_shared<std::promise<void>>();
        auto future = ended->get_future();
        asio::co_spawn(strand_, run(), [self = shared_from_this(), ended](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    self->services_.log.log(
                        log_level::error, "source {}: stopped by an error: {}", self->name_, x.what());
                }
            }
            self->connection_.close();
            ended->set_value();
        });
        return future;
    }

    void stop_reading() {
        asio::post(strand_, [self = shared_from_this()] {
            self->reading_ = false;
            if (self->in_blocking_read_) {
                // Entries Redis hands over in the cancelled read stay pending in this consumer: not lost.
                self->closed_by_stop_ = true;
                self->connection_.close();
            }
            self->wake();
        });
    }

    void finish(steady_clock::time_point deadline) {
        asio::post(strand_, [self = shared_from_this(), deadline] {
            self->finishing_ = true;
            self->finish_by_ = deadline;
            self->wake();
        });
    }

    void abandon() {
        asio::post(strand_, [self = shared_from_this()] {
            self->abandoned_ = true;
            self->connection_.close();
            self->wake();
        });
    }

private:
    struct held_entry {
        std::string text;  ///< the notification JSON, for the dead stream
    };

    bool ended() const {
        if (abandoned_) {
            return true;
        }
        return finishing_ && (done_.empty() || steady_clock::now() >= finish_by_) && held_.empty();
    }

    asio::awaitable<void> run() {
        int failures = 0;
        while (!ended()) {
            try {
                co_await connection_.connect(
                    url_.host, url_.port, password_, url_.db, config_.command_timeout);
                co_await create_group();
                failures = 0;
                counters_->set_problem({});
                counters_->connected.store(true, std::memory_order_relaxed);
                services_.log.log(log_level::info,
                                  "source {}: reading stream {} at {}:{}{} as consumer {} of group {}",
                                  name_,
                                  config_.stream,
                                  url_.host,
                                  url_.port,
                                  url_.tls ? " over TLS" : "",
                                  config_.consumer,
                                  config_.group);
                co_await serve();
            } catch (const redis_io_error& e) {
                in_blocking_read_ = false;
                counters_->connected.store(false, std::memory_order_relaxed);
                counters_->set_problem(e.what());
                if (closed_by_stop_) {
                    closed_by_stop_ = false;  // our own cancel of a blocked read: reconnect to write back
                    continue;
                }
                counters_->reconnects.fetch_add(1, std::memory_order_relaxed);
                log_connection_problem(e.what());
                ++failures;
            }
            if (!ended()) {
                co_await wait_event(backoff_delay(reconnect_backoff, failures, std::nullopt, jitter()));
            }
        }
        counters_->connected.store(false, std::memory_order_relaxed);
        counters_->set_problem("stopped");
    }

    asio::awaitable<void> create_group() {
        // Built before co_await: GCC 12 rejects an initializer list inside a co_await expression.
        command_args create{"XGROUP", "CREATE", config_.stream, config_.group, "0", "MKSTREAM"};
        auto r = co_await connection_.command(std::move(create), config_.command_timeout);
        if (r->type == REDIS_REPLY_ERROR && !describe(r.get()).starts_with("BUSYGROUP")) {
            throw redis_io_error(
                fmt::format("XGROUP CREATE {} {}: {}", config_.stream, config_.group, describe(r.get())));
        }
        own_pending_cursor_ = "0";  // this consumer's pending entries first, after every (re)connect
    }

    /// Reads and writes back until the connection fails or the source has ended.
    asio::awaitable<void> serve() {
        for (;;) {
            co_await write_back();
            if (ended()) {
                co_return;
            }
            if (!reading_) {
                retry_.clear();  // never queued: they stay pending in Redis
                co_await wait_event(finishing_ ? milliseconds{100} : milliseconds{1000});
                continue;
            }
            const auto room = room_for_reading();
            resubmit_retries(room);
            if (room <= retry_.size()) {
                co_await wait_event(room_poll);
                continue;
            }
            const auto count = room - retry_.size();
            if (steady_clock::now() >= next_claim_) {
                co_await claim(count);
            } else {
                co_await read(count);
            }
        }
    }

    /// The room in the fullest hub's queue (and spool window): an entry may name any hub. So what
    /// this daemon holds pending in Redis never exceeds the queue's capacity.
    std::size_t room_for_reading() {
        const auto live = services_.registry.current();
        std::size_t room = config_.read_batch;
        if (const auto* spool = services_.dispatcher.spool()) {
            for (const auto& f : spool->figures()) {
                // Outstanding beyond the window waits on disk: read nothing then.
                room =
                    std::min(room, read_count(services_.spool_window, f.outstanding, 0, config_.read_batch));
            }
        }
        // What this source holds unacknowledged counts too: a result the hub has given but the
        // source not yet written back has left the queue but is still pending in Redis.
        const auto outstanding = held_.size() + done_.size();
        for (const auto& slot : live->hubs) {
            const auto depth = std::max<std::size_t>(slot->hub->stats().queue_depth, outstanding);
            room =
                std::min(room, read_count(slot->config.client.queue_capacity, depth, 0, config_.read_batch));
        }
        return room;
    }

    asio::awaitable<void> read(std::size_t count) {
        command_args cmd{
            "XREADGROUP", "GROUP", config_.group, config_.consumer, "COUNT", std::to_string(count)};
        const bool own_pending = !own_pending_cursor_.empty();
        auto timeout = config_.command_timeout;
        if (!own_pending) {
            const auto block = held_.empty() && done_.empty() ? quiet_block : busy_block;
            cmd.insert(cmd.end(), {"BLOCK", std::to_string(block.count())});
            timeout += block;
        }
        cmd.insert(cmd.end(), {"STREAMS", config_.stream, own_pending ? own_pending_cursor_ : ">"});
        in_blocking_read_ = !own_pending;
        auto reply = co_await connection_.command(std::move(cmd), timeout);
        in_blocking_read_ = false;
        auto parsed = parse_read_reply(reply.get());
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            throw redis_io_error(fmt::format("XREADGROUP on {}: {}", config_.stream, *problem));
        }
        auto& entries = std::get<std::vector<stream_entry>>(parsed);
        if (own_pending) {
            own_pending_cursor_ = entries.empty() ? std::string() : entries.back().id;
        }
        counters_->read.fetch_add(take(std::move(entries)), std::memory_order_relaxed);
    }

    asio::awaitable<void> claim(std::size_t count) {
        command_args autoclaim{"XAUTOCLAIM",
                               config_.stream,
                               config_.group,
                               config_.consumer,
                               std::to_string(config_.claim_idle.count()),
                               claim_cursor_,
                               "COUNT",
                               std::to_string(count)};
        auto reply = co_await connection_.command(std::move(autoclaim), config_.command_timeout);
        auto parsed = parse_claim_reply(reply.get());
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            throw redis_io_error(fmt::format("XAUTOCLAIM on {}: {}", config_.stream, *problem));
        }
        auto& batch = std::get<claim_batch>(parsed);
        claim_cursor_ = batch.next_cursor;
        if (claim_cursor_ == "0-0") {
            next_claim_ = steady_clock::now() + config_.claim_idle / 2;  // a whole pass done
        }
        if (const auto taken = take(std::move(batch.entries)); taken > 0) {
            counters_->claimed.fetch_add(taken, std::memory_order_relaxed);
            services_.log.log(log_level::info,
                              "source {}: claimed {} entr{} idle for more than {} ms",
                              name_,
                              taken,
                              taken == 1 ? "y" : "ies",
                              config_.claim_idle.count());
        }
    }

    /// Entries read or claimed: each is submitted once, however often Redis hands it over (its own
    /// pending entries after a reconnect, its own idle ones to XAUTOCLAIM). @returns how many were new.
    std::size_t take(std::vector<stream_entry> entries) {
        std::size_t taken = 0;
        for (auto& e : entries) {
            if (known_.insert(e.id).second) {
                ++taken;
                submit(std::move(e));
            }
        }
        spool_parsed();
        return taken;
    }

    void submit(stream_entry e) {
        if (!e.notification) {
            finish_entry(
                {.entry_id = e.id,
                 .fate = entry_fate::dead,
                 .error = fmt::format("the entry has no field '{}' (or was deleted)", notification_field)});
            return;
        }
        refresh_parser();
        std::string body = *e.notification;  // parsed in place
        auto parsed = parser_->parse(body, system_clock::now());
        if (auto* error = std::get_if<api::api_error>(&parsed)) {
            finish_entry({.entry_id = e.id,
                          .fate = entry_fate::dead,
                          .error = describe_api_error(*error),
                          .notification = std::move(*e.notification)});
            return;
        }
        auto& s = std::get<api::submission>(parsed);
        auto slot = find_slot(s.hub);
        auto id = notification_id(s.client_id, e.id);
        held_[e.id] = held_entry{std::move(*e.notification)};
        if (services_.dispatcher.spool() != nullptr) {
            to_spool_.push_back({std::move(e.id), std::move(id), std::move(slot), std::move(s)});
            return;  // spooled with the rest of its read, by spool_parsed()
        }
        services_.dispatcher.async_submit(
            *slot,
            id,
            std::move(s.notification),
            std::string(),  // without a spool the text is not kept
            asio::bind_executor(strand_,
                                [self = shared_from_this(), slot, entry_id = std::move(e.id), id](
                                    boost::system::error_code ec, send_result r, bool at_once) mutable {
                                    self->on_result(std::move(entry_id), std::move(id), ec, r, at_once);
                                }));
    }

    /// With a spool, as the socket does: an entry is acknowledged once it is in the spool (durable
    /// by its fsync mode); from then on the spool sends it, after a restart too. The entries of one
    /// read are spooled together: one write per hub, as an NDJSON request's lines.
    void spool_parsed() {
        if (to_spool_.empty()) {
            return;
        }
        auto parsed = std::exchange(to_spool_, {});
        std::vector<hubs::dispatch_request> requests;
        requests.reserve(parsed.size());
        for (auto& p : parsed) {
            requests.push_back({*p.slot, p.id, std::move(p.s.notification), p.s.text});
        }
        std::vector<hubs::submit_refusal> refusals(parsed.size());
        std::uint64_t ticket = 0;
        const auto errors = services_.dispatcher.submit_all(requests, refusals, &ticket);
        const bool waits = services_.dispatcher.spool()->waits_for_sync() && ticket != 0;
        for (std::size_t i = 0; i < parsed.size(); ++i) {
            auto& p = parsed[i];
            if (const auto& ec = errors[i]) {
                if (ec == hubs::dispatch_errc::spool_unavailable) {
                    refusals[i].result.error_detail = refusals[i].spool_error;
                }
                on_result(std::move(p.entry_id), std::move(p.id), ec, refusals[i].result, true);
            } else if (waits) {
                awaiting_sync_.emplace_back(std::move(p.entry_id), std::move(p.id));
            } else {
                held_.erase(p.entry_id);
                finish_entry({p.entry_id, p.id, entry_fate::spooled, 0, {}, {}});
            }
        }
        last_ticket_ = std::max(last_ticket_, ticket);
        wait_for_sync();
    }

    /// One wait at a time, for the newest ticket: a sync covers every append before it, so the
    /// entries spooled meanwhile are acknowledged together.
    void wait_for_sync() {
        if (sync_wait_outstanding_ || awaiting_sync_.empty()) {
            return;
        }
        sync_wait_outstanding_ = true;
        services_.dispatcher.spool()->async_wait_durable(
            last_ticket_,
            asio::bind_executor(
                strand_,
                [self = shared_from_this(), batch = std::exchange(awaiting_sync_, {})](
                    boost::system::error_code ec) mutable { self->on_spooled(std::move(batch), ec); }));
    }

    void on_spooled(std::vector<std::pair<std::string, std::string>> batch, boost::system::error_code ec) {
        sync_wait_outstanding_ = false;
        for (auto& [entry_id, id] : batch) {
            held_.erase(entry_id);
            if (ec) {
                known_.erase(entry_id);  // not durable: left pending, claimed again later (maybe sent twice)
            } else {
                finish_entry({entry_id, id, entry_fate::spooled, 0, {}, {}});
            }
        }
        wait_for_sync();
        wake();
    }

    void on_result(std::string entry_id,
                   std::string id,
                   boost::system::error_code ec,
                   const send_result& r,
                   bool at_once) {
        auto node = held_.extract(entry_id);
        auto text = node.empty() ? std::string() : std::move(node.mapped().text);
        switch (fate_of(ec, at_once)) {
            case entry_fate::ack:
            case entry_fate::spooled:
                finish_entry({entry_id, id, entry_fate::ack, r.http_status, {}, {}});
                break;
            case entry_fate::duplicate:
                finish_entry({entry_id, id, entry_fate::duplicate, 0, failure_reason(ec, r), {}});
                break;
            case entry_fate::dead:
                finish_entry(
                    {entry_id, id, entry_fate::dead, r.http_status, failure_reason(ec, r), std::move(text)});
                break;
            case entry_fate::retry:
                retry_.push_back({std::move(entry_id), std::move(text)});
                break;
            case entry_fate::leave_pending:
                known_.erase(entry_id);
                break;
        }
        wake();
    }

    void finish_entry(finished_entry f) { done_.push_back(std::move(f)); }

    void resubmit_retries(std::size_t room) {
        const auto n = std::min(room, retry_.size());
        for (std::size_t i = 0; i < n; ++i) {
            auto e = std::move(retry_.front());
            retry_.pop_front();
            submit(std::move(e));
        }
        spool_parsed();
    }

    asio::awaitable<void> write_back() {
        if (done_.empty()) {
            co_return;
        }
        // Results that arrive while Redis answers go to the next batch.
        auto batch = std::exchange(done_, {});
        std::vector<reply_ptr> replies;
        try {
            replies =
                co_await connection_.pipeline(write_back_commands(keys_, batch), config_.command_timeout);
        } catch (const redis_io_error&) {
            done_.insert(
                done_.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
            throw;  // written back after the reconnect (a dead copy may then be written twice)
        }
        for (const auto& r : replies) {
            if (r->type == REDIS_REPLY_ERROR) {
                services_.log.log(
                    log_level::warning, "source {}: writing back to Redis: {}", name_, describe(r.get()));
            }
        }
        std::uint64_t dead = 0;
        for (const auto& d : batch) {
            dead += d.fate == entry_fate::dead;
            known_.erase(d.entry_id);
            if (d.fate == entry_fate::dead) {
                log_dead(d);
            }
        }
        counters_->dead.fetch_add(dead, std::memory_order_relaxed);
        counters_->acked.fetch_add(batch.size(), std::memory_order_relaxed);
    }

    void log_dead(const finished_entry& d) {
        std::uint64_t suppressed = 0;
        if (dead_warnings_.allow(steady_clock::now(), suppressed)) {
            services_.log.log(log_level::warning,
                              "source {}: entry {} copied to {} and acknowledged: {}{}",
                              name_,
                              d.entry_id,
                              keys_.dead_stream,
                              d.error,
                              log::suppressed_note(suppressed));
        }
    }

    void log_connection_problem(const std::string& what) {
        std::uint64_t suppressed = 0;
        if (connection_warnings_.allow(steady_clock::now(), suppressed)) {
            services_.log.log(log_level::warning,
                              "source {}: {}; reading paused, unacknowledged entries stay pending in Redis{}",
                              name_,
                              what,
                              log::suppressed_note(suppressed));
        }
    }

    static std::string describe_api_error(const api::api_error& e) {
        return e.field.empty() ? fmt::format("{}: {}", api::to_string(e.code), e.message)
                               : fmt::format("{}: {} ({})", api::to_string(e.code), e.message, e.field);
    }

    void refresh_parser() {
        const auto generation = services_.registry.generation();
        if (!parser_ || generation != parser_generation_) {
            live_ = services_.registry.current();
            parser_.emplace(live_->hub_names);
            parser_->keep_text(services_.dispatcher.spool() != nullptr);  // the spool keeps the JSON
            parser_generation_ = generation;
        }
    }

    std::shared_ptr<hubs::hub_slot> find_slot(std::string_view hub) const {
        for (const auto& h : live_->hubs) {
            if (h->name == hub) {
                return h;
            }
        }
        return nullptr;  // the parser accepts only the names of live_'s hubs
    }

    asio::awaitable<void> wait_event(milliseconds at_most) {
        if (woken_) {
            woken_ = false;
            co_return;
        }
        wake_timer_.expires_after(at_most);
        co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        woken_ = false;
    }

    void wake() {
        woken_ = true;
        wake_timer_.cancel();
    }

    double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(jitter_); }

    asio::strand<asio::io_context::executor_type> strand_;
    std::string name_;
    config::source_config config_;
    config::redis_url url_;
    std::optional<asio::ssl::context> tls_;  ///< for rediss://, made once: the files are read at start only
    std::string password_;                   ///< a secret: never logged
    source_services services_;
    std::shared_ptr<metrics::source_counters> counters_;
    write_back_keys keys_;
    redis_connection connection_;
    asio::steady_timer wake_timer_;
    std::minstd_rand jitter_;

    std::shared_ptr<const hubs::live_config> live_;
    std::optional<api::submission_parser> parser_;
    std::uint64_t parser_generation_ = 0;

    std::unordered_set<std::string>
        known_;  ///< entries held, waiting for a retry, or finished, not yet written back
    std::unordered_map<std::string, held_entry> held_;
    std::deque<stream_entry> retry_;
    std::vector<finished_entry> done_;
    /// An entry parsed for the spool, until spool_parsed() writes it with the rest of its read.
    struct parsed_entry {
        std::string entry_id;
        std::string id;
        std::shared_ptr<hubs::hub_slot> slot;
        api::submission s;
    };
    std::vector<parsed_entry> to_spool_;
    std::vector<std::pair<std::string, std::string>> awaiting_sync_;  ///< spooled: entry id, notification id
    std::uint64_t last_ticket_ = 0;
    bool sync_wait_outstanding_ = false;

    std::string own_pending_cursor_;  ///< empty once this consumer's own pending entries are read
    std::string claim_cursor_ = "0-0";
    steady_clock::time_point next_claim_{};
    bool reading_ = true;
    bool in_blocking_read_ = false;
    bool closed_by_stop_ = false;
    bool finishing_ = false;
    bool abandoned_ = false;
    bool woken_ = false;
    steady_clock::time_point finish_by_{};
    log::log_throttle dead_warnings_;
    log::log_throttle connection_warnings_;
};

redis_stream_runner::redis_stream_runner(asio::io_context& context,
                                         std::string name,
                                         config::source_config config,
                                         std::string password,
                                         source_services services,
                                         std::shared_ptr<metrics::source_counters> counters)
    : source_(std::make_shared<redis_stream_source>(
          context, std::move(name), std::move(config), std::move(password), services, std::move(counters))) {}

redis_stream_runner::~redis_stream_runner() {
    if (ended_.valid()) {
        source_->abandon();
        ended_.wait_for(seconds{5});
    }
}

void redis_stream_runner::start() {
    ended_ = source_->start();
}

void redis_stream_runner::stop_reading() {
    source_->stop_reading();
}

void redis_stream_runner::finish(milliseconds within) {
    if (!ended_.valid()) {
        return;
    }
    source_->finish(steady_clock::now() + within);
    if (ended_.wait_for(within + milliseconds{500}) != std::future_status::ready) {
        source_->abandon();
        ended_.wait_for(seconds{5});
    }
    ended_ = {};
}

}  // namespace nhpush::sources
