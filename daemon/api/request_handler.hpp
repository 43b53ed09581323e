#pragma once
/** @file The submission API's handlers: a parsed HTTP request in, an answer out, no sockets. */

#include "api/router.hpp"
#include "hubs/hub_registry.hpp"
#include "hubs/notification_dispatcher.hpp"
#include "hubs/notification_ids.hpp"
#include "hubs/recent_results.hpp"
#include "log/daemon_log.hpp"
#include "metrics/daemon_metrics.hpp"
#include "spool/dead_letters.hpp"
#include "submission/submission.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nhpush::api {

class batch_answer;

/** @brief The Content-Type of the API's JSON answers. */
inline constexpr std::string_view json_content_type = "application/json";

/**
 * @brief What the handlers share with each other, for the daemon's whole life. Every member is
 * thread-safe.
 */
struct api_services {
    hubs::hub_registry& registry;
    hubs::recent_results& results;
    hubs::notification_dispatcher& dispatcher;
    hubs::id_generator& ids;
    metrics::daemon_counters& counters;
    const log::daemon_log& log;
    const std::atomic<bool>& stopping;  ///< set once SIGTERM arrives: no new work is taken
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    log::log_throttle session_errors{};           ///< sessions ended by an unexpected exception
    log::log_throttle spool_errors{};             ///< "the spool cannot be written", at most every 10 s
    spool::dead_letters* dead_letters = nullptr;  ///< null without `[spool] dir`
};

/** @brief A request as the handlers see it. `body` may be parsed in place (overwritten). */
struct request_view {
    method verb = method::get;
    std::string_view target;
    std::string_view content_type;
    std::string& body;
};

/** @brief An answer: status, body and the few headers the API sets. */
struct response_data {
    unsigned status = 200;
    std::string_view content_type = json_content_type;
    std::string body;
    unsigned retry_after = 0;  ///< seconds; 0: no Retry-After header
    std::string_view allow;    ///< the Allow header of a 405; empty: none
};

/** @brief A `?wait=true` submission: the session submits it, awaits the result, then calls finish_wait. */
struct pending_wait {
    std::shared_ptr<hubs::hub_slot> slot;
    std::string id;
    notification n;
    std::string text;  ///< the object as submitted, for the spool
};

/** @brief An answer to send once the spool has synced what it accepted (`fsync = "always"`). */
struct pending_sync {
    std::uint64_t ticket = 0;
    response_data answer;
};

/**
 * @brief A question for the hub about a notification it accepted (cancel a scheduled send, or its
 * outcome details): the session awaits it, then calls finish_hub_query.
 */
struct pending_hub_query {
    enum class kind { cancel_scheduled, outcome_details };
    kind what = kind::outcome_details;
    std::shared_ptr<hubs::hub_slot> slot;
    std::string id;              ///< ours
    hubs::result_record record;  ///< its state when asked (its notification_id is the hub's)
};

/** @brief The report behind /v1/stats and /metrics, taken now. */
metrics::daemon_report take_report(api_services& services);

/** @brief The verdict of /healthz, taken now. */
hubs::health_report take_health(api_services& services);

/**
 * @brief Answers the requests of one client connection.
 *
 * Keeps the connection's submission parser (it reuses its memory) and the configuration in force,
 * which it refreshes when a reload has published a new one. Thread-safety: none; one per session.
 */
class request_handler {
public:
    explicit request_handler(api_services& services);

    /** @brief What the session does with a request: answer, await a result, a sync or the hub. */
    using outcome = std::variant<response_data, pending_wait, pending_sync, pending_hub_query>;

    /** @brief The answer, or a wait-mode submission, a spool sync or a hub query for the session to await. */
    outcome handle(request_view request);

    /** @brief The answer when the spool's sync failed after accepting (rare: the disk failed). */
    response_data sync_failed(const boost::system::error_code& ec);

    /** @brief The answer to a wait-mode submission, from dispatcher::async_submit's completion. */
    response_data finish_wait(const pending_wait& wait,
                              const boost::system::error_code& ec,
                              const send_result& result,
                              bool at_once);

    /** @brief The answer to a hub query, from the library's completion. */
    response_data finish_hub_query(const pending_hub_query& query,
                                   const boost::system::error_code& ec,
                                   const send_result& result);

    /** @brief The configuration in force, refreshed if a reload published a new one. */
    const hubs::live_config& current_config() { return refresh(); }

    /** @brief The answer to a request that failed as `error` (and counts it). */
    response_data error_response(const api_error& error, std::string_view allow = {});

private:
    const hubs::live_config& refresh();
    outcome submit(request_view request, bool wait);
    outcome submit_one(std::string& body, bool wait);
    outcome submit_batch(std::string& body);
    /// Submits a group of an NDJSON batch's lines at once (one spool write) and answers each.
    void submit_group(batch_answer& answer,
                      std::vector<std::pair<std::size_t, submission>>& group,
                      std::uint64_t& ticket);
    static constexpr std::size_t lines_per_group = 128;
    /// `answer` now, or after the spool's sync of `ticket` when the spool syncs before answering.
    outcome after_sync(std::uint64_t ticket, response_data answer);
    response_data spool_unavailable(const std::string& why);
    response_data duplicate(std::string_view id, const hubs::result_record& existing);
    response_data refused(hubs::hub_slot& slot,
                          const boost::system::error_code& ec,
                          const send_result& result);
    api_error refusal_error(hubs::hub_slot& slot,
                            const boost::system::error_code& ec,
                            const send_result& result);
    response_data status(std::string_view id);
    outcome cancel(const std::string& id);
    outcome details(const std::string& id);
    std::shared_ptr<hubs::hub_slot> slot_named(std::string_view name) const;
    response_data unknown_notification(std::string_view id);
    response_data list_dead_letters(std::size_t limit, std::string_view after);
    response_data purge_dead_letters();
    outcome requeue_dead_letter(const std::string& id);
    response_data spool_off();
    response_data stats();
    response_data metrics();
    response_data health();

    api_services& services_;
    std::shared_ptr<const hubs::live_config> live_;
    std::uint64_t generation_ = 0;
    std::optional<submission_parser> parser_;
};

}  // namespace nhpush::api
