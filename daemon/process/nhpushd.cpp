#include "process/nhpushd.hpp"

#include "api/request_handler.hpp"
#include "api/spool_feed.hpp"
#include "cli/args.hpp"
#include "config/config.hpp"
#include "hubs/hub_registry.hpp"
#include "hubs/notification_dispatcher.hpp"
#include "hubs/notification_ids.hpp"
#include "hubs/recent_results.hpp"
#include "hubs/unsent_log.hpp"
#include "log/daemon_log.hpp"
#include "metrics/daemon_metrics.hpp"
#include "process/command_line.hpp"
#include "process/config_check.hpp"
#include "process/core_dumps.hpp"
#include "process/systemd.hpp"
#include "process/worker_watchdog.hpp"
#include "server/http_session.hpp"
#include "server/unix_listener.hpp"
#include "sources/redis_stream_source.hpp"

#include <nhpush/worker_pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <ostream>

namespace nhpush::process {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

// After the drain, how long client connections get to receive their last answers.
constexpr seconds close_clients_within{3};
// Ids of unsent notifications per log line.
constexpr std::size_t ids_per_line = 20;

/// Everything of a running daemon, in the order it is built (and the reverse of its teardown).
class daemon_process {
public:
    daemon_process(std::filesystem::path file,
                   config::nhpushd_config config,
                   const hubs::connection_strings& strings,
                   std::map<std::string, std::string> source_passwords)
        : file_(std::move(file))
        , log_(config.daemon.log_level)
        , results_(config.daemon.recent_results)
        , spool_(open_spool(config.spool))
        , dead_letters_(open_dead_letters(config.spool, log_))
        , dispatcher_(results_, unsent_, spool_.get(), dead_letters_.get())
        , pool_(std::make_unique<worker_pool>(config.daemon.threads))
        , registry_(std::make_unique<hubs::hub_registry>(*pool_, log_))
        , services_{*registry_, results_, dispatcher_, ids_, counters_, log_, stopping_}
        , sources_config_(config.sources) {
        services_.dead_letters = dead_letters_.get();
        log_config_warnings(config);
        registry_->start(config, strings);
        if (spool_) {
            recover_spool(config.spool);
        }
        listener_ = std::make_unique<server::unix_listener>(
            pool_->context(0), config.daemon, systemd::activated_socket(), log_);
        for (const auto& [name, source] : config.sources) {
            sources_.push_back(std::make_unique<sources::redis_stream_runner>(
                pool_->context(sources_.size() % pool_->size()),
                name,
                source,
                std::move(source_passwords[name]),
                sources::source_services{*registry_, dispatcher_, log_, config.spool.memory_window},
                counters_.sources.add(name, source.stream)));
        }
    }

    const log::daemon_log& log() const { return log_; }

    /// Serves until SIGTERM or SIGINT.
    void serve() {
        asio::io_context control(1);
        // Before READY=1, so that a SIGTERM right after it is handled, not fatal.
        asio::signal_set signals(control, SIGTERM, SIGINT, SIGHUP);
        std::unique_ptr<worker_watchdog> watchdog;
        if (auto period = systemd::watchdog_period()) {
            watchdog = std::make_unique<worker_watchdog>(control.get_executor(), *pool_, *period, log_);
            asio::co_spawn(control, watchdog->run(), asio::detached);
        }
        asio::co_spawn(control, handle_signals(signals), [&](std::exception_ptr) {
            if (watchdog) {
                watchdog->cancel();
            }
        });

        if (spool_) {
            // What a previous run left goes to the hubs before anything new is taken.
            spool_->start(api::make_spool_feed(*registry_, dispatcher_));
        }
        listener_->start(*pool_, services_, tracker_);
        for (auto& source : sources_) {
            source->start();
        }
        const auto hub_count = registry_->current()->hubs.size();
        log_.log(log_level::info,
                 "nhpushd {} ready: listening on {}, {} hub(s), {} worker thread(s)",
                 NHPUSH_VERSION,
                 listener_->description(),
                 hub_count,
                 pool_->size());
        systemd::notify(
            fmt::format("READY=1\nSTATUS=listening on {}, {} hub(s)", listener_->description(), hub_count));
        control.run();
    }

    /// Stops taking work, drains, reports what was not sent, and closes everything in order.
    void stop() {
        systemd::notify("STOPPING=1\nSTATUS=draining");
        stopping_.store(true);
        listener_->stop();
        for (auto& source : sources_) {
            source->stop_reading();  // entries not read stay in Redis for the other daemons
        }
        // A copy of the deadline only: holding the live hubs here would keep their timers and sockets
        // alive past pool_.reset(), to be destroyed after their io_contexts (ASan found it).
        const auto drain = registry_->current()->daemon.drain_deadline;
        std::uint64_t queued = 0;
        for (const auto& t : registry_->totals()) {
            queued += t.stats.queue_depth;
        }
        log_.log(log_level::info,
                 "stopping: no longer accepting; draining {} queued notification(s) within {} s",
                 queued,
                 drain.count());
        if (spool_) {
            spool_->stop();  // nothing more is read back from disk; what is queued drains
        }
        registry_->stop(duration_cast<milliseconds>(drain));
        for (auto& source : sources_) {
            source->finish(close_clients_within);  // acknowledge what finished while draining
        }
        sources_.clear();
        if (spool_) {
            spool_->stop();  // and the final records of the drain are synced
            if (const auto kept = dispatcher_.kept_for_next_start()) {
                log_.log(log_level::info,
                         "{} notification(s) not sent before the drain deadline stay in the spool ({}): "
                         "they are sent after the next start",
                         kept,
                         spool_dir_);
            }
        }
        report_unsent();
        tracker_.close_all();
        if (!tracker_.wait_until_empty(steady_clock::now() + close_clients_within)) {
            // A client that does not read its answer: cut it off, so no session outlives the hubs.
            log_.log(log_level::warning,
                     "closing {} client connection(s) that did not take their answers",
                     tracker_.size());
            tracker_.abort_all();
            tracker_.wait_until_empty(steady_clock::now() + close_clients_within);
        }
        listener_.reset();
        registry_.reset();
        pool_.reset();
        log_.log(log_level::info, "stopped");
    }

private:
    static std::unique_ptr<spool::spool> open_spool(const spool::spool_config& config) {
        return config.dir.empty() ? nullptr : std::make_unique<spool::spool>(config);
    }

    static std::unique_ptr<spool::dead_letters> open_dead_letters(const spool::spool_config& config,
                                                                  const log::daemon_log& log) {
        return config.dir.empty()
                   ? nullptr
                   : std::make_unique<spool::dead_letters>(config.dir, config.dead_letter_max_bytes, log);
    }

    /// Reads what a previous run left: finals become recent results, the rest is queued again.
    void recover_spool(const spool::spool_config& config) {
        spool_dir_ = config.dir;
        const auto summary = spool_->recover(
            [this](const spool::final_record& f) {
                results_.finished(f.id,
                                  hubs::result_record{.hub = f.hub,
                                                      .state = f.sent ? hubs::notification_state::sent
                                                                      : hubs::notification_state::failed,
                                                      .reason = f.reason,
                                                      .http_status = f.http_status,
                                                      .attempts = static_cast<int>(f.attempts),
                                                      .notification_id = f.notification_id,
                                                      .tracking_id = f.tracking_id,
                                                      .error_code = f.error_code,
                                                      .error_detail = f.error_detail});
            },
            [this](const spool::accepted_record& a) {
                if (!results_.claim(a.id, a.hub)) {
                    results_.confirm(a.id);
                }
            });
        dispatcher_.count_recovered(summary.unfinished);
        for (const auto& note : summary.notes) {
            log_.log(note.damage ? log_level::error : log_level::warning, "spool: {}", note.text);
        }
        log_.log(log_level::info,
                 "spool {}: {} unfinished notification(s) queued again, {} final result(s) read{}",
                 config.dir,
                 summary.unfinished,
                 summary.finished,
                 summary.unfinished > 0 ? "; those that were on the wire when nhpushd stopped may be "
                                          "delivered twice"
                                        : "");
    }

    asio::awaitable<void> handle_signals(asio::signal_set& signals) {
        for (;;) {
            auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_return;
            }
            if (signal == SIGHUP) {
                reload();
                continue;
            }
            log_.log(log_level::info, "received {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
            co_return;
        }
    }

    void reload() {
        systemd::notify("RELOADING=1\nSTATUS=reloading");
        log_.log(log_level::info, "SIGHUP: reloading {}", file_.string());
        try {
            auto next = config::load_config(file_);
            log_config_warnings(next);
            auto strings = hubs::resolve_connection_strings(next);
            const auto plan = registry_->reload(next, strings);
            if (next.sources != sources_config_) {
                log_.log(log_level::warning, "[sources] changed; the change takes effect at the next start");
            }
            log_.set_level(next.daemon.log_level);
            results_.set_capacity(next.daemon.recent_results);
            log_plan(plan);
            counters_.reloads_ok.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& e) {
            counters_.reloads_failed.fetch_add(1, std::memory_order_relaxed);
            log_.log(
                log_level::error, "reload failed, the running configuration stays in force: {}", e.what());
        }
        systemd::notify("READY=1\nSTATUS=serving");
    }

    /// Deprecated keys and the like: the file works, but should be changed.
    void log_config_warnings(const config::nhpushd_config& config) {
        for (const auto& warning : config.warnings) {
            log_.log(log_level::warning, "{}: {}", file_.string(), warning);
        }
    }

    void log_plan(const hubs::reload_plan& plan) {
        const auto names = [](const std::vector<std::string>& v) {
            return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
        };
        log_.log(log_level::info,
                 "reloaded: hubs unchanged: {}; rebuilt: {}; added: {}; removed: {}",
                 names(plan.kept),
                 names(plan.rebuilt),
                 names(plan.added),
                 names(plan.removed));
        for (const auto& key : plan.restart_required) {
            log_.log(log_level::warning, "{} changed; it takes effect at the next start", key);
        }
    }

    void report_unsent() {
        for (const auto& line : hubs::describe_unsent(unsent_.take(), ids_per_line)) {
            log_.log(line.severity == hubs::report_severity::info ? log_level::info : log_level::warning,
                     "{}",
                     line.text);
        }
    }

    std::filesystem::path file_;
    log::daemon_log log_;
    hubs::recent_results results_;
    hubs::unsent_log unsent_;
    std::unique_ptr<spool::spool> spool_;                // before the dispatcher, which writes to it
    std::unique_ptr<spool::dead_letters> dead_letters_;  // likewise
    std::string spool_dir_;
    hubs::notification_dispatcher dispatcher_;
    hubs::id_generator ids_;
    metrics::daemon_counters counters_;
    std::atomic<bool> stopping_{false};
    server::session_tracker tracker_;
    // The sessions and hubs run on the pool; they go before it, and the rest above outlives it.
    std::unique_ptr<worker_pool> pool_;
    std::unique_ptr<hubs::hub_registry> registry_;
    api::api_services services_;
    std::unique_ptr<server::unix_listener> listener_;
    std::map<std::string, config::source_config, std::less<>> sources_config_;  ///< as started: not reloaded
    std::vector<std::unique_ptr<sources::redis_stream_runner>> sources_;
};

int run(const std::filesystem::path& file) {
    // A client that disconnects while we write must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    // A spool file past RLIMIT_FSIZE must fail its write (answered 503 spool_unavailable), not kill us.
    std::signal(SIGXFSZ, SIG_IGN);
    // Before any connection string is read: a core file would hold the SAS keys.
    for (const auto& f : forbid_core_dumps()) {
        log::stderr_sink(log_level::warning, fmt::format("nhpushd: core files are not ruled out: {}", f));
    }
    config::nhpushd_config config;
    hubs::connection_strings strings;
    std::map<std::string, std::string> source_passwords;
    try {
        config = config::load_config(file);
        strings = hubs::resolve_connection_strings(config);
        for (const auto& [name, source] : config.sources) {
            source_passwords[name] = sources::resolve_password(name, source);
        }
    } catch (const config::config_error& e) {
        log::stderr_sink(log_level::error, fmt::format("nhpushd: {}", e.what()));
        return 1;
    }
    std::unique_ptr<daemon_process> daemon;
    try {
        daemon =
            std::make_unique<daemon_process>(file, std::move(config), strings, std::move(source_passwords));
    } catch (const std::exception& e) {
        log::stderr_sink(log_level::error, fmt::format("nhpushd: cannot start: {}", e.what()));
        return 1;
    }
    daemon->serve();
    daemon->stop();
    return 0;
}

}  // namespace

int nhpushd_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    command_line c;
    try {
        c = parse_command_line(args);
    } catch (const cli::usage_error& e) {
        fmt::print(err, "nhpushd: {}\nRun 'nhpushd --help' for usage.\n", e.what());
        return 2;
    }
    switch (c.what) {
        case command_line::action::help:
            fmt::print(out, "{}", help_text());
            return 0;
        case command_line::action::version:
            fmt::print(out, "nhpushd {}\n", NHPUSH_VERSION);
            return 0;
        case command_line::action::check_config:
            return check_config(c.config_file, out, err);
        case command_line::action::run:
            return run(c.config_file);
    }
    return 2;
}

}  // namespace nhpush::process
