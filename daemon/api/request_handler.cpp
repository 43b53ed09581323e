#include "api/request_handler.hpp"

#include "api/batch_answer.hpp"
#include "api/result_json.hpp"
#include "metrics/prometheus.hpp"
#include "shared/json_output.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>

namespace nhpush::api {
namespace {

response_data json(unsigned status, std::string body) {
    return response_data{.status = status, .body = std::move(body)};
}

}  // namespace

metrics::daemon_report take_report(api_services& s) {
    metrics::daemon_report r;
    r.version = NHPUSH_VERSION;
    r.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
    r.config_generation = s.registry.generation();
    r.take_counters(s.counters);
    r.recent_results = s.results.size();
    if (const auto* spool = s.dispatcher.spool()) {
        r.spool.emplace();
        r.spool->writable = spool->problem().empty();
        r.spool->kept_for_next_start = s.dispatcher.kept_for_next_start();
        r.spool->recovered = s.dispatcher.recovered();
        for (const auto& h : spool->figures()) {
            r.spool->hubs.push_back(
                {.name = h.hub, .outstanding = h.outstanding, .in_memory = h.in_window, .bytes = h.bytes});
        }
    }
    for (auto& t : s.registry.totals()) {
        const auto sample = hubs::hub_health_sample::of(t.slot->name, t.slot->health);
        r.hubs.push_back({.name = t.slot->name,
                          .hub = t.slot->config.hub,
                          .min_connections = t.slot->config.client.min_connections,
                          .max_connections = t.slot->config.client.max_connections,
                          .queue_capacity = t.slot->config.client.queue_capacity,
                          .rate_limit = t.slot->config.client.rate_limit,
                          .healthy = hubs::evaluate_health(false, {&sample, 1}).healthy,
                          .stats = t.stats});
    }
    r.ready = take_health(s).healthy;
    return r;
}

hubs::health_report take_health(api_services& s) {
    const auto live = s.registry.current();
    std::vector<hubs::hub_health_sample> samples;
    if (live) {
        for (const auto& slot : live->hubs) {
            samples.push_back(hubs::hub_health_sample::of(slot->name, slot->health));
        }
    }
    auto report = hubs::evaluate_health(s.stopping.load(std::memory_order_relaxed), samples);
    report.degraded = s.counters.sources.problems();
    if (const auto* spool = s.dispatcher.spool()) {
        if (auto problem = spool->problem(); !problem.empty()) {
            report.healthy = false;
            report.reasons.push_back(fmt::format(
                "spool: {}; submissions are refused with 503 spool_unavailable until it can be written",
                problem));
        }
    }
    return report;
}

request_handler::request_handler(api_services& services) : services_(services) {
    refresh();
}

const hubs::live_config& request_handler::refresh() {
    if (live_ && services_.registry.generation() == generation_) {
        return *live_;
    }
    auto previous = std::move(live_);
    live_ = services_.registry.current();
    generation_ = live_->generation;
    // The parser keeps its memory across requests; rebuild it only when the hubs' names change.
    if (!parser_ || !previous || previous->hub_names != live_->hub_names) {
        parser_.emplace(live_->hub_names);
        parser_->keep_text(services_.dispatcher.spool() != nullptr);
    }
    return *live_;
}

response_data request_handler::error_response(const api_error& error, std::string_view allow) {
    services_.counters.count_error(error.code);
    auto r = json(http_status_of(error.code), render_error_body(error));
    r.allow = allow;
    return r;
}

request_handler::outcome request_handler::handle(request_view request) {
    refresh();
    auto routed = route_request(request.verb, request.target);
    if (auto* e = std::get_if<route_error>(&routed)) {
        return error_response(e->error, e->allow);
    }
    const auto& r = std::get<route>(routed);
    switch (r.target) {
        case endpoint::submit:
            return submit(request, r.wait);
        case endpoint::notification_status:
            return status(r.id);
        case endpoint::notification_cancel:
            return cancel(r.id);
        case endpoint::notification_details:
            return details(r.id);
        case endpoint::dead_letters_list:
            return list_dead_letters(r.limit, r.after);
        case endpoint::dead_letters_purge:
            return purge_dead_letters();
        case endpoint::dead_letter_requeue:
            return requeue_dead_letter(r.id);
        case endpoint::stats:
            return stats();
        case endpoint::metrics:
            return metrics();
        case endpoint::health:
            return health();
    }
    return error_response({api_errc::not_found, "no such endpoint", ""});
}

request_handler::outcome request_handler::submit(request_view request, bool wait) {
    if (services_.stopping.load(std::memory_order_relaxed)) {
        return error_response(
            {api_errc::shutting_down, "nhpushd is stopping and takes no new notifications", ""});
    }
    auto kind = classify_content_type(request.content_type);
    if (auto* e = std::get_if<api_error>(&kind)) {
        return error_response(*e);
    }
    if (std::get<body_kind>(kind) == body_kind::ndjson) {
        if (wait) {
            return error_response({api_errc::bad_request,
                                   "wait=true applies to single notifications, not to NDJSON batches",
                                   ""});
        }
        return submit_batch(request.body);
    }
    return submit_one(request.body, wait);
}

request_handler::outcome request_handler::submit_one(std::string& body, bool wait) {
    auto parsed = parser_->parse(body, std::chrono::system_clock::now());
    if (auto* e = std::get_if<api_error>(&parsed)) {
        return error_response(*e);
    }
    auto& s = std::get<submission>(parsed);
    auto* slot = live_->find(s.hub);
    auto id = s.client_id.empty() ? services_.ids.next() : std::move(s.client_id);
    if (wait) {
        // The slot is owned by the configuration in force; share it for the duration of the wait.
        auto it = std::find_if(
            live_->hubs.begin(), live_->hubs.end(), [&](const auto& h) { return h.get() == slot; });
        return pending_wait{*it, std::move(id), std::move(s.notification), std::move(s.text)};
    }
    hubs::submit_refusal refusal;
    std::uint64_t ticket = 0;
    if (auto ec =
            services_.dispatcher.submit({*slot, id, std::move(s.notification), s.text}, &refusal, &ticket)) {
        if (ec == hubs::dispatch_errc::duplicate_id) {
            return duplicate(id, refusal.existing);
        }
        if (ec == hubs::dispatch_errc::spool_unavailable) {
            return spool_unavailable(refusal.spool_error);
        }
        return refused(*slot, ec, refusal.result);
    }
    return after_sync(ticket, json(202, render_accepted(id)));
}

request_handler::outcome request_handler::after_sync(std::uint64_t ticket, response_data answer) {
    const auto* spool = services_.dispatcher.spool();
    if (spool != nullptr && spool->waits_for_sync() && ticket != 0) {
        return pending_sync{ticket, std::move(answer)};
    }
    return answer;
}

response_data request_handler::spool_unavailable(const std::string& why) {
    std::uint64_t suppressed = 0;
    if (services_.spool_errors.allow(std::chrono::steady_clock::now(), suppressed)) {
        services_.log.log(log_level::error,
                          "spool: {}; refusing submissions with 503{}",
                          why,
                          log::suppressed_note(suppressed));
    }
    auto r = error_response(
        {api_errc::spool_unavailable,
         fmt::format("the spool cannot be written ({}): nothing was accepted; submit again after Retry-After",
                     why),
         ""});
    r.retry_after = 5;
    return r;
}

response_data request_handler::sync_failed(const boost::system::error_code& ec) {
    return spool_unavailable(
        fmt::format("sync failed: {}; the notifications may still be sent", ec.message()));
}

request_handler::outcome request_handler::submit_batch(std::string& body) {
    batch_answer answer;
    std::uint64_t ticket = 0;  // the last group's: one sync covers the whole batch
    // Lines are submitted in groups (one spool write each): memory does not grow with the body.
    std::vector<std::pair<std::size_t, submission>> group;
    const auto on_line = [&](std::size_t line, std::variant<submission, api_error>& parsed) {
        if (auto* e = std::get_if<api_error>(&parsed)) {
            services_.counters.count_error(e->code);
            answer.reject(line, std::move(*e));
            return;
        }
        group.emplace_back(line, std::move(std::get<submission>(parsed)));
        if (group.size() == lines_per_group) {
            submit_group(answer, group, ticket);
        }
    };
    parser_->parse_ndjson_lines(body, std::chrono::system_clock::now(), on_line);
    submit_group(answer, group, ticket);
    return after_sync(ticket, json(202, answer.finish()));
}

void request_handler::submit_group(batch_answer& answer,
                                   std::vector<std::pair<std::size_t, submission>>& group,
                                   std::uint64_t& ticket) {
    std::vector<hubs::dispatch_request> requests;
    requests.reserve(group.size());
    for (auto& [line, s] : group) {
        auto id = s.client_id.empty() ? services_.ids.next() : std::move(s.client_id);
        requests.push_back({*live_->find(s.hub), std::move(id), std::move(s.notification), s.text});
    }
    std::vector<hubs::submit_refusal> refusals(requests.size());
    const auto errors = services_.dispatcher.submit_all(requests, refusals, &ticket);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto line = group[i].first;
        const auto& ec = errors[i];
        const auto& id = requests[i].id;
        if (!ec) {
            answer.accept(line, id);
            continue;
        }
        auto error =
            ec == hubs::dispatch_errc::duplicate_id
                ? api_error{api_errc::duplicate_id, duplicate_message(id, refusals[i].existing), "id"}
            : ec == hubs::dispatch_errc::spool_unavailable
                ? api_error{api_errc::spool_unavailable,
                            fmt::format("the spool cannot be written ({}): this line was not accepted",
                                        refusals[i].spool_error),
                            ""}
                : refusal_error(requests[i].slot, ec, refusals[i].result);
        services_.counters.count_error(error.code);
        answer.reject(line, std::move(error));
    }
    group.clear();
}

response_data request_handler::duplicate(std::string_view id, const hubs::result_record& existing) {
    services_.counters.count_error(api_errc::duplicate_id);
    return json(http_status_of(api_errc::duplicate_id), render_duplicate(id, existing));
}

api_error request_handler::refusal_error(hubs::hub_slot& slot,
                                         const boost::system::error_code& ec,
                                         const send_result& result) {
    if (ec == errc::queue_full) {
        std::uint64_t suppressed = 0;
        if (slot.queue_full_warnings.allow(std::chrono::steady_clock::now(), suppressed)) {
            services_.log.log(log_level::warning,
                              "hub {}: queue full ({} notifications), refusing submissions with 503{}",
                              slot.name,
                              slot.config.client.queue_capacity,
                              log::suppressed_note(suppressed));
        }
        return {api_errc::queue_full,
                fmt::format("hub {}'s queue is full ({} notifications); submit again after Retry-After",
                            slot.name,
                            slot.config.client.queue_capacity),
                ""};
    }
    if (ec == errc::shutting_down) {
        return {api_errc::shutting_down, fmt::format("hub {} is stopping", slot.name), ""};
    }
    // The parser validates as the library does, so this is rare: say what the library found.
    return {api_errc::invalid_field, result.error_detail, result.error_code};
}

response_data request_handler::refused(hubs::hub_slot& slot,
                                       const boost::system::error_code& ec,
                                       const send_result& result) {
    auto r = error_response(refusal_error(slot, ec, result));
    if (ec == errc::queue_full) {
        r.retry_after = retry_after_seconds(slot.config.client.queue_capacity, slot.config.client.rate_limit);
    } else if (ec == errc::shutting_down) {
        r.retry_after = 1;
    }
    return r;
}

response_data request_handler::finish_wait(const pending_wait& wait,
                                           const boost::system::error_code& ec,
                                           const send_result& result,
                                           bool at_once) {
    if (ec == hubs::dispatch_errc::duplicate_id) {
        // The holder's state now; in a rare race it has been forgotten since the claim was refused.
        if (auto existing = services_.results.find(wait.id)) {
            return duplicate(wait.id, *existing);
        }
        return error_response({api_errc::duplicate_id,
                               fmt::format("id '{}' was taken by another notification", wait.id),
                               "id"});
    }
    if (ec == hubs::dispatch_errc::spool_unavailable) {
        return spool_unavailable(result.error_detail);
    }
    if (at_once) {
        return refused(*wait.slot, ec, result);
    }
    const auto record = hubs::result_record::finished(wait.slot->name, ec, result);
    return json(200, render_result(wait.id, record, result.test_outcome ? &*result.test_outcome : nullptr));
}

response_data request_handler::status(std::string_view id) {
    if (auto record = services_.results.find(id)) {
        return json(200, render_result(id, *record));
    }
    return unknown_notification(id);
}

response_data request_handler::unknown_notification(std::string_view id) {
    return error_response(
        {api_errc::not_found,
         fmt::format("no notification '{}': unknown, or forgotten (only the last {} finished ones are kept)",
                     id,
                     live_->daemon.recent_results),
         ""});
}

std::shared_ptr<hubs::hub_slot> request_handler::slot_named(std::string_view name) const {
    for (const auto& slot : live_->hubs) {
        if (slot->name == name) {
            return slot;
        }
    }
    return nullptr;
}

request_handler::outcome request_handler::cancel(const std::string& id) {
    auto record = services_.results.find(id);
    if (!record) {
        return unknown_notification(id);
    }
    if (record->state == hubs::notification_state::queued) {
        using outcome = hubs::send_cancellations::outcome;
        auto& cancellations = services_.dispatcher.cancellations();
        switch (cancellations.cancel(id)) {
            case outcome::cancelled:
                return json(200, render_cancelled(id, *record, cancelled_where::queue));
            case outcome::cancelled_at_hand_over:
                // Waiting in the spool, unless it finished since we looked: then no hand-over comes.
                if (auto now = services_.results.find(id);
                    now && now->state != hubs::notification_state::queued) {
                    cancellations.withdraw(id);
                    return error_response(
                        {api_errc::cannot_cancel,
                         fmt::format("notification '{}' is finished ({}): nothing to cancel",
                                     id,
                                     hubs::to_string(now->state)),
                         ""});
                }
                return json(200, render_cancelled(id, *record, cancelled_where::queue));
            case outcome::on_the_wire:
                break;
        }
        return error_response(
            {api_errc::cannot_cancel,
             fmt::format("notification '{}' is already on the wire to hub {}: a request cannot be recalled; "
                         "GET /v1/notifications/{} for its result",
                         id,
                         record->hub,
                         id),
             ""});
    }
    if (record->state == hubs::notification_state::failed) {
        return error_response(
            {api_errc::cannot_cancel,
             fmt::format(
                 "notification '{}' is finished: it failed ({}), nothing to cancel", id, record->reason),
             ""});
    }
    if (!record->scheduled || record->notification_id.empty()) {
        return error_response(
            {api_errc::cannot_cancel,
             fmt::format("notification '{}' was already sent to hub {} and was not scheduled: "
                         "it cannot be recalled",
                         id,
                         record->hub),
             ""});
    }
    auto slot = slot_named(record->hub);
    if (!slot) {
        return error_response(
            {api_errc::hub_error, fmt::format("hub {} is no longer configured", record->hub), ""});
    }
    return pending_hub_query{
        pending_hub_query::kind::cancel_scheduled, std::move(slot), id, std::move(*record)};
}

request_handler::outcome request_handler::details(const std::string& id) {
    auto record = services_.results.find(id);
    if (!record) {
        return unknown_notification(id);
    }
    if (record->notification_id.empty()) {
        const auto why = record->state == hubs::notification_state::queued
                             ? "it is still queued here"
                             : "the hub never accepted it, so it has no details";
        return error_response(
            {api_errc::not_found, fmt::format("no details of notification '{}': {}", id, why), ""});
    }
    auto slot = slot_named(record->hub);
    if (!slot) {
        return error_response(
            {api_errc::hub_error, fmt::format("hub {} is no longer configured", record->hub), ""});
    }
    return pending_hub_query{
        pending_hub_query::kind::outcome_details, std::move(slot), id, std::move(*record)};
}

response_data request_handler::finish_hub_query(const pending_hub_query& q,
                                                const boost::system::error_code& ec,
                                                const send_result& result) {
    const bool cancelling = q.what == pending_hub_query::kind::cancel_scheduled;
    const auto& nid = q.record.notification_id;
    if (ec) {
        if (result.http_status == 404) {
            return error_response(
                {api_errc::not_found,
                 cancelling
                     ? fmt::format("hub {} has no scheduled notification {} (of '{}'): already delivered "
                                   "or cancelled",
                                   q.slot->name,
                                   nid,
                                   q.id)
                     : fmt::format("hub {} has no details of notification {} (of '{}'): unknown to it, "
                                   "or its telemetry has expired",
                                   q.slot->name,
                                   nid,
                                   q.id),
                 ""});
        }
        const auto answer = result.http_status != 0 ? fmt::format("answered {}", result.http_status)
                                                    : std::string(hubs::reason_name(ec));
        return error_response({api_errc::hub_error,
                               fmt::format("hub {} {} to {} of notification {}{}{}",
                                           q.slot->name,
                                           answer,
                                           cancelling ? "the cancel" : "the details query",
                                           nid,
                                           result.error_detail.empty() ? "" : ": ",
                                           result.error_detail),
                               result.error_code});
    }
    if (cancelling) {
        auto record = q.record;
        record.state = hubs::notification_state::failed;
        record.reason = "cancelled";
        services_.results.finished(q.id, record);
        return json(200, render_cancelled(q.id, record, cancelled_where::hub));
    }
    if (auto body = render_outcome_details(q.id, q.record, result.body)) {
        return json(200, std::move(*body));
    }
    return error_response(
        {api_errc::hub_error,
         fmt::format("hub {} answered the details query of {} with no <NotificationDetails> document",
                     q.slot->name,
                     nid),
         ""});
}

// ---- dead letters ----

response_data request_handler::spool_off() {
    return error_response({api_errc::spool_off,
                           "dead letters are kept only with a spool: set [spool] dir in nhpushd's config",
                           ""});
}

response_data request_handler::list_dead_letters(std::size_t limit, std::string_view after) {
    if (services_.dead_letters == nullptr) {
        return spool_off();
    }
    return json(200,
                render_dead_letters(services_.dead_letters->list(limit, after), *services_.dead_letters));
}

response_data request_handler::purge_dead_letters() {
    if (services_.dead_letters == nullptr) {
        return spool_off();
    }
    const auto purged = services_.dead_letters->purge();
    services_.log.log(log_level::info, "dead letters purged: {}", purged);
    return json(200, fmt::format(R"({{"purged":{}}})", purged));
}

namespace {

/// The stored submission with its `id` set to `id` (it may have had none: the daemon named it).
std::optional<std::string> with_id(std::string_view submission, std::string_view id) {
    rapidjson::Document d;
    d.Parse(submission.data(), submission.size());
    if (d.HasParseError() || !d.IsObject()) {
        return std::nullopt;
    }
    d.RemoveMember("id");
    d.AddMember("id",
                rapidjson::Value(id.data(), static_cast<rapidjson::SizeType>(id.size()), d.GetAllocator()),
                d.GetAllocator());
    std::string out;
    shared::string_output stream{out};
    shared::json_writer w(stream);
    d.Accept(w);
    return out;
}

}  // namespace

request_handler::outcome request_handler::requeue_dead_letter(const std::string& id) {
    if (services_.dead_letters == nullptr) {
        return spool_off();
    }
    if (services_.stopping.load(std::memory_order_relaxed)) {
        return error_response(
            {api_errc::shutting_down, "nhpushd is stopping and takes no new notifications", ""});
    }
    auto letter = services_.dead_letters->take(id);
    if (!letter) {
        return error_response({api_errc::not_found, fmt::format("no dead letter '{}'", id), ""});
    }
    auto body = with_id(letter->submission, id);
    if (!body) {
        services_.dead_letters->append(*letter);
        return error_response({api_errc::invalid_json,
                               fmt::format("dead letter '{}' holds no notification object to submit", id),
                               "submission"});
    }
    // The same path as POST /v1/notifications: validated, spooled and queued again under its id.
    // Its old result is forgotten so the id is free again; a notification queued under the id
    // since then is left alone (the resubmission then answers 409 duplicate_id).
    if (auto known = services_.results.find(id); known && known->state != hubs::notification_state::queued) {
        services_.results.forget(id);
    }
    auto answer = submit_one(*body, false);
    if (const auto* r = std::get_if<response_data>(&answer); r != nullptr && r->status != 202) {
        services_.dead_letters->append(*letter);  // kept (now as the newest) for another try
    } else {
        services_.log.log(log_level::info, "dead letter {} requeued to hub {}", id, letter->hub);
    }
    return answer;
}

response_data request_handler::stats() {
    return json(200, metrics::render_stats_json(take_report(services_)));
}

response_data request_handler::metrics() {
    return response_data{.status = 200,
                         .content_type = metrics::content_type,
                         .body = metrics::render_metrics_text(take_report(services_))};
}

response_data request_handler::health() {
    const auto report = take_health(services_);
    return json(report.healthy ? 200 : 503, hubs::render_health(report));
}

}  // namespace nhpush::api
