#include "sources/stream_logic.hpp"

#include "hubs/notification_dispatcher.hpp"

#include <nhpush/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace nhpush::sources {
namespace {

std::string_view text_of(const redisReply* r) {
    return {r->str, r->len};
}

bool is_text(const redisReply* r) {
    return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/// One entry: [id, [field, value, …]] (the field list is nil for an entry deleted since).
std::optional<stream_entry> parse_entry(const redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_text(r->element[0])) {
        return std::nullopt;
    }
    stream_entry e{std::string(text_of(r->element[0])), std::nullopt};
    const auto* fields = r->element[1];
    if (fields->type != REDIS_REPLY_ARRAY) {
        return e;
    }
    for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (is_text(fields->element[i]) && text_of(fields->element[i]) == notification_field &&
            is_text(fields->element[i + 1])) {
            e.notification = std::string(text_of(fields->element[i + 1]));
        }
    }
    return e;
}

std::variant<std::vector<stream_entry>, std::string> parse_entries(const redisReply* list) {
    if (list == nullptr || list->type != REDIS_REPLY_ARRAY) {
        return std::string("an entry list that is not an array");
    }
    std::vector<stream_entry> out;
    out.reserve(list->elements);
    for (std::size_t i = 0; i < list->elements; ++i) {
        auto e = parse_entry(list->element[i]);
        if (!e) {
            return fmt::format("entry {} of the reply is not [id, fields]", i);
        }
        out.push_back(std::move(*e));
    }
    return out;
}

}  // namespace

std::size_t read_count(std::size_t queue_capacity,
                       std::size_t queue_depth,
                       std::size_t held,
                       std::size_t batch) {
    const auto used = queue_depth + held;
    return used >= queue_capacity ? 0 : std::min(queue_capacity - used, batch);
}

std::variant<std::vector<stream_entry>, std::string> parse_read_reply(const redisReply* reply) {
    if (reply == nullptr || reply->type == REDIS_REPLY_NIL) {
        return std::vector<stream_entry>{};  // BLOCK ran out
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        return std::string(text_of(reply));
    }
    // [[stream, [entries…]]]: one stream was asked for.
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
        reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2) {
        return std::string("an XREADGROUP reply that is not [[stream, entries]]");
    }
    return parse_entries(reply->element[0]->element[1]);
}

std::variant<claim_batch, std::string> parse_claim_reply(const redisReply* reply) {
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
        return std::string(text_of(reply));
    }
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        !is_text(reply->element[0])) {
        return std::string("an XAUTOCLAIM reply that is not [cursor, entries, …]");
    }
    auto entries = parse_entries(reply->element[1]);
    if (auto* e = std::get_if<std::string>(&entries)) {
        return std::move(*e);
    }
    return claim_batch{std::string(text_of(reply->element[0])),
                       std::move(std::get<std::vector<stream_entry>>(entries))};
}

std::string notification_id(std::string_view client_id, std::string_view entry_id) {
    return std::string(client_id.empty() ? entry_id : client_id);
}

entry_fate fate_of(const boost::system::error_code& ec, bool at_once) {
    if (!ec) {
        return entry_fate::ack;
    }
    if (ec == hubs::dispatch_errc::duplicate_id) {
        return entry_fate::duplicate;
    }
    if (ec == errc::shutting_down || ec == hubs::dispatch_errc::spool_unavailable) {
        return entry_fate::leave_pending;
    }
    if (at_once && ec == errc::queue_full) {
        return entry_fate::retry;
    }
    return entry_fate::dead;  // a 4xx, retries used up, the deadline passed, …
}

std::string failure_reason(const boost::system::error_code& ec, const send_result& result) {
    if (ec == hubs::dispatch_errc::duplicate_id) {
        return "duplicate_id: a notification with this id is queued, in flight or recently finished";
    }
    std::string reason = ec.message();
    if (result.http_status != 0) {
        reason += fmt::format(" (HTTP {})", result.http_status);
    }
    if (!result.error_detail.empty()) {
        reason += ": " + result.error_detail;
    }
    return reason;
}

std::vector<std::vector<std::string>> write_back_commands(const write_back_keys& keys,
                                                          const std::vector<finished_entry>& done) {
    std::vector<std::vector<std::string>> commands;
    if (done.empty()) {
        return commands;
    }
    for (const auto& d : done) {
        if (d.fate == entry_fate::dead) {
            commands.push_back({"XADD",
                                keys.dead_stream,
                                "*",
                                "entry",
                                d.entry_id,
                                "error",
                                d.error,
                                std::string(notification_field),
                                d.notification});
        }
        if (!keys.results_stream.empty()) {
            const auto outcome = d.fate == entry_fate::ack         ? "sent"
                                 : d.fate == entry_fate::spooled   ? "spooled"
                                 : d.fate == entry_fate::duplicate ? "duplicate"
                                                                   : "failed";
            commands.push_back({"XADD",
                                keys.results_stream,
                                "*",
                                "entry",
                                d.entry_id,
                                "id",
                                d.notification_id,
                                "consumer",
                                keys.consumer,
                                "outcome",
                                outcome,
                                "http_status",
                                std::to_string(d.http_status),
                                "error",
                                d.error});
        }
    }
    std::vector<std::string> ack{"XACK", keys.stream, keys.group};
    for (const auto& d : done) {
        ack.push_back(d.entry_id);
    }
    commands.push_back(std::move(ack));
    return commands;
}

}  // namespace nhpush::sources
