#pragma once
/**
 * @file The decisions of a Redis Stream source, apart from its I/O: how many entries to read, what
 * a reply holds, what becomes of an entry, and what is written back. Pure, tested without sockets.
 */

#include "submission/submission.hpp"

#include <hiredis/hiredis.h>

#include <nhpush/notification_hub.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nhpush::sources {

/** @brief The field of a stream entry that holds the notification object's JSON. */
inline constexpr std::string_view notification_field = "notification";

/** @brief One stream entry as read: its id and its `notification` field, if it had one. */
struct stream_entry {
    std::string id;
    std::optional<std::string> notification;  ///< nullopt: no such field, or the entry was deleted

    bool operator==(const stream_entry&) const = default;
};

/** @brief What XAUTOCLAIM returned: where to go on, and the entries now ours. */
struct claim_batch {
    std::string next_cursor = "0-0";
    std::vector<stream_entry> entries;
};

/**
 * @brief How many entries to ask for: the room left in the hub's queue (capacity − depth) minus
 * the entries held back for a retry, at most `batch`. 0 means: do not read now.
 */
std::size_t read_count(std::size_t queue_capacity,
                       std::size_t queue_depth,
                       std::size_t held,
                       std::size_t batch);

/** @brief The entries of an XREADGROUP reply for one stream (nil = none); a message if it is not one. */
std::variant<std::vector<stream_entry>, std::string> parse_read_reply(const redisReply* reply);

/** @brief The cursor and entries of an XAUTOCLAIM reply (Redis 7: [cursor, entries, deleted ids]). */
std::variant<claim_batch, std::string> parse_claim_reply(const redisReply* reply);

/** @brief The notification id of an entry: the object's `id` when it has one (as on the socket),
 *  else the stream entry id, so a re-delivered entry keeps its id. */
std::string notification_id(std::string_view client_id, std::string_view entry_id);

/** @brief What becomes of an entry once the dispatcher has answered. */
enum class entry_fate {
    ack,            ///< sent (201): acknowledge
    dead,           ///< invalid or failed for good: copy to the dead stream with the reason, then acknowledge
    retry,          ///< the hub's queue was full at once: keep it and submit it again shortly
    leave_pending,  ///< the daemon is stopping, or the spool cannot be written: not acknowledged, so
                    ///< it is read again after a restart or claimed by another daemon
    duplicate,      ///< its id is queued, in flight or recently finished (an entry read again after
                    ///< a crash, already in the spool): acknowledge, nothing is sent again
    spooled,        ///< in the daemon's spool, which sends it from now on (after a restart too): acknowledge
};

/** @brief The fate of an entry from the dispatcher's completion (`at_once`: refused before queueing). */
entry_fate fate_of(const boost::system::error_code& ec, bool at_once);

/** @brief The reason written to the dead stream for a failed send. */
std::string failure_reason(const boost::system::error_code& ec, const send_result& result);

/** @brief An entry that is finished: what is written back to Redis for it. */
struct finished_entry {
    std::string entry_id;
    std::string notification_id;  ///< empty for an entry that could not be parsed
    entry_fate fate = entry_fate::ack;
    unsigned http_status = 0;
    std::string error;         ///< empty when sent
    std::string notification;  ///< the entry's JSON, copied to the dead stream
};

/** @brief Where a source writes back. */
struct write_back_keys {
    std::string stream;
    std::string group;
    std::string dead_stream;
    std::string results_stream;  ///< empty: none
    std::string consumer;        ///< this daemon's consumer name, written with each result
};

/**
 * @brief The commands that finish `done`, in order: XADD to the dead stream and to the results
 * stream first, then one XACK of every id, so an entry is never acknowledged before its copy is
 * written. Empty when `done` is.
 */
std::vector<std::vector<std::string>> write_back_commands(const write_back_keys& keys,
                                                          const std::vector<finished_entry>& done);

}  // namespace nhpush::sources
