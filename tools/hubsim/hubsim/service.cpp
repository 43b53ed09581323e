// The service logic of hubsim: route, authorize, inject faults, check, answer.

#include "hubsim/service.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <random>

namespace nhpush::hubsim {

namespace http = boost::beast::http;
using namespace std::chrono;

namespace {

std::int64_t unix_seconds(system_clock::time_point t) noexcept {
    return duration_cast<seconds>(t.time_since_epoch()).count();
}

std::uint64_t random_seed() {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
}

constexpr std::string_view json_content_type = "application/json";

std::string json_error(std::string_view message) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("error");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    return buf.GetString();
}

}  // namespace

shared_state::shared_state(hubsim_config c, std::size_t workers)
    : config(std::move(c))
    , faults(config.faults)
    , stats(workers)
    , record(config.record_file.empty() ? nullptr : std::make_unique<record_file>(config.record_file))
    , id_prefix(make_process_prefix())
    , seed(config.seed.value_or(random_seed())) {}

request_handler::request_handler(shared_state& shared, std::size_t worker)
    : shared_(shared)
    , stats_(shared.stats.slot(worker))
    , verifier_(shared.config.credentials)
    , faults_(shared.faults)
    , rng_(shared.seed + 0x9e3779b97f4a7c15ULL * worker)
    , ids_(shared.id_prefix, static_cast<unsigned>(worker), shared.seed ^ (worker + 1)) {
    location_.reserve(256);
}

void request_handler::reset(const request& req, reply& out) const {
    out.delay = milliseconds{0};
    out.close_after = false;
    out.drop = false;
    out.reset.reset();
    out.res.clear();
    out.res.body().clear();
    out.res.result(http::status::ok);
    out.res.version(req.version());
    out.res.keep_alive(req.keep_alive());
    out.res.set(http::field::server, "nhpush-hubsim");
}

void request_handler::handle(const request& req,
                             connection_state& conn,
                             system_clock::time_point now,
                             reply& out) {
    reset(req, out);
    if (!parse_route(req.method(), req.target(), route_)) {
        route_.op = operation::unknown_path;
    }
    if (!is_hub_operation(route_.op)) {
        handle_admin(req, out);
    } else {
        thread_stats::bump(stats_.requests);
        thread_stats::bump(conn.protocol == http_protocol::h2 ? stats_.requests_h2 : stats_.requests_http1);
        ++conn.answered;
        handle_hub(req, conn, now, out);
        if (!out.reset) {
            stats_.count_status(out.res.result_int());
        }
    }
    out.res.prepare_payload();
}

void request_handler::reject_too_large(unsigned http_version,
                                       system_clock::time_point now,
                                       reply& out,
                                       http_protocol protocol) {
    request dummy;
    dummy.version(http_version);
    reset(dummy, out);
    thread_stats::bump(stats_.requests);
    thread_stats::bump(protocol == http_protocol::h2 ? stats_.requests_h2 : stats_.requests_http1);
    answer_error(413, reason_word(413), "The message size cannot be over 64 Kb", now, out);
    stats_.count_status(413);
    out.res.keep_alive(false);
    out.res.prepare_payload();
}

void request_handler::handle_hub(const request& req,
                                 connection_state& conn,
                                 system_clock::time_point now,
                                 reply& out) {
    if (route_.op == operation::unknown_path) {
        return answer_error(404, "NotFound", "No service is hosted at the specified address", now, out);
    }
    if (route_.op == operation::bad_method) {
        return answer_error(405, reason_word(405), "The method is not allowed on this resource", now, out);
    }
    if (auto e = check_api_version(route_)) {
        return answer_error(e->status, reason_word(e->status), e->message, now, out);
    }
    const auto failure = verifier_.check(
        req[http::field::authorization], req[http::field::host], route_.path, unix_seconds(now));
    if (failure != auth_failure::none) {
        stats_.count_auth_failure(failure);
        return answer_error(401, reason_code(failure), reason_message(failure), now, out);
    }
    if (!hub_exists(route_.hub)) {
        return answer_error(404,
                            "EntityNotFound",
                            fmt::format("The notification hub '{}' does not exist", route_.hub),
                            now,
                            out);
    }
    if (apply_faults(conn, now, out)) {
        return;
    }
    if (route_.op == operation::cancel_scheduled || route_.op == operation::get_details) {
        return answer_lookup(req, now, out);
    }
    answer_notification(req, now, out);
}

bool request_handler::apply_faults(connection_state& conn, system_clock::time_point now, reply& out) {
    const auto& f = faults_.current();
    if (f.none()) {
        return false;
    }
    const bool over_limit =
        f.rate_limit != 0 &&
        !shared_.faults.limiter().admit(static_cast<std::uint32_t>(unix_seconds(now)), f.rate_limit);
    const auto d = decide_faults(f, rng_, over_limit);
    out.delay = d.delay;
    out.drop = d.drop;
    out.close_after = should_close(f, conn.answered);
    if (d.delay.count() > 0) {
        stats_.count_fault(fault_counter::delayed);
    }
    if (d.drop) {
        stats_.count_fault(fault_counter::dropped);
    } else if (out.close_after) {
        stats_.count_fault(fault_counter::closed);
    }
    if (d.reset_stream) {
        stats_.count_fault(fault_counter::stream_reset);
        out.reset = f.rst_stream_code;
        // REFUSED_STREAM promises the request was not processed; INTERNAL_ERROR leaves it open.
        if (f.rst_stream_code == stream_reset_code::refused_stream) {
            return true;
        }
    }
    if (d.status == 0) {
        return false;
    }
    stats_.count_fault(counter_of(d.kind));
    const bool rate_limited = d.kind == fault_kind::rate_limited;
    const auto message = rate_limited ? fmt::format("The request rate is over {} per second", f.rate_limit)
                         : d.status == 429 || d.status == 403
                             ? std::string("The namespace is throttled; retry after the given time")
                         : d.status == 500 ? std::string("Unknown error has occured")
                                           : std::string("The service is unavailable; retry later");
    answer_error(d.status, reason_word(d.status), message, now, out, d.retry_after);
    return true;
}

void request_handler::answer_notification(const request& req, system_clock::time_point now, reply& out) {
    if (auto e = check_notification(route_, req, now, accepted_)) {
        return answer_error(e->status, reason_word(e->status), e->message, now, out);
    }
    accept(req, now, out);
}

void request_handler::answer_lookup(const request& req, system_clock::time_point now, reply& out) {
    const auto info = parse_notification_id(route_.id, shared_.id_prefix);
    if (!info) {
        const auto what = route_.op == operation::get_details ? "notification" : "scheduled notification";
        return answer_error(
            404, "NotFound", fmt::format("The {} '{}' was not found", what, route_.id), now, out);
    }
    out.res.set("TrackingId", ids_.next_tracking_id());
    if (route_.op == operation::cancel_scheduled) {
        return;  // 200, empty body
    }
    location_.clear();
    append_location(location_,
                    authority_of(req),
                    route_.hub,
                    location_kind::messages,
                    route_.id,
                    route_.api_version,
                    false);
    out.res.set(http::field::content_type, xml_content_type);
    out.res.body() = details_body(route_.id, location_, *info);
}

void request_handler::accept(const request& req, system_clock::time_point now, reply& out) {
    const auto id = ids_.next_notification_id(accepted_.format, unix_seconds(now));
    const bool scheduled = route_.op == operation::schedule;
    const bool direct = route_.direct && !scheduled;
    location_.clear();
    append_location(location_,
                    authority_of(req),
                    route_.hub,
                    scheduled ? location_kind::scheduled : location_kind::messages,
                    id,
                    route_.api_version,
                    direct);
    out.res.result(http::status::created);
    out.res.set(http::field::location, location_);
    out.res.set("TrackingId", ids_.next_tracking_id());
    out.res.set(http::field::content_type, xml_content_type);
    if (route_.test && route_.op == operation::send && !route_.direct) {
        out.res.body() = test_outcome_body(accepted_.format, id.substr(20, 12));
    }
    stats_.count_accepted(accepted_.format);
    if (shared_.record) {
        record_line_.clear();
        append_record_line(record_line_, {now, route_.hub, record_operation(route_), id, &accepted_});
        shared_.record->write(record_line_);
    }
}

void request_handler::handle_admin(const request& req, reply& out) {
    out.res.set(http::field::content_type, json_content_type);
    switch (route_.op) {
        case operation::get_stats:
            out.res.body() = to_json(shared_.stats.merged());
            break;
        case operation::get_faults:
            out.res.body() = to_json(shared_.faults.get());
            break;
        default:
            try {
                const auto base = route_.merge ? shared_.faults.get() : fault_config{};
                const auto config = parse_fault_json(req.body(), base);
                shared_.faults.set(config);
                out.res.body() = to_json(config);
            } catch (const std::invalid_argument& e) {
                out.res.result(http::status::bad_request);
                out.res.body() = json_error(e.what());
            }
    }
}

void request_handler::answer_error(unsigned status,
                                   std::string_view reason,
                                   std::string_view message,
                                   system_clock::time_point now,
                                   reply& out,
                                   seconds retry_after) {
    const auto tracking_id = ids_.next_tracking_id();
    out.res.result(status);
    out.res.set("TrackingId", tracking_id);
    out.res.set(http::field::content_type, xml_content_type);
    if (retry_after.count() > 0) {
        out.res.set(http::field::retry_after, std::to_string(retry_after.count()));
    }
    out.res.body() = error_body(status, reason, message, tracking_id, now);
}

bool request_handler::hub_exists(std::string_view hub) const noexcept {
    const auto& hubs = shared_.config.hubs;
    return hubs.empty() || std::find(hubs.begin(), hubs.end(), hub) != hubs.end();
}

std::string_view request_handler::authority_of(const request& req) const noexcept {
    const auto host = req[http::field::host];
    return host.empty() ? std::string_view(shared_.authority) : std::string_view(host);
}

}  // namespace nhpush::hubsim
