#pragma once
/** @file The submission API's notification object: JSON to nhpush::notification, single and NDJSON. */

#include "submission/api_error.hpp"

#include <nhpush/notification.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace nhpush::api {

/** @brief A notification as submitted: the hub it goes to, the client's id, and the notification. */
struct submission {
    std::string hub;                    ///< a configured hub's NAME ([hubs.NAME])
    std::string client_id;              ///< the object's optional `id`; empty when not given
    nhpush::notification notification;  ///< validated by nhpush::prepare_notification, headers completed
    std::string text;                   ///< the object as submitted, if the parser keeps texts
};

/** @brief A rejected line of an NDJSON batch. */
struct line_error {
    std::size_t line = 0;  ///< 1-based, counting blank lines
    api_error error;

    bool operator==(const line_error&) const = default;
};

/** @brief An accepted line of an NDJSON batch. */
struct numbered_submission {
    std::size_t line = 0;  ///< 1-based, counting blank lines
    submission value;
};

/** @brief What an NDJSON batch held: the valid lines and the reasons for the invalid ones. */
struct ndjson_batch {
    std::vector<numbered_submission> accepted;
    std::vector<line_error> rejected;
};

/** @brief Nesting deeper than this in a JSON payload is refused (protects recursive JSON code). */
inline constexpr std::size_t max_payload_depth = 64;

/** @brief Longest client `id`, in bytes. */
inline constexpr std::size_t max_client_id_bytes = 128;

/**
 * @brief Turns notification objects into validated submissions, or says precisely what is wrong.
 *
 * Parses in place: the body passed in is overwritten with garbage. Never throws for bad input.
 * Keeps its parse memory between calls, so a parser serves many requests with few allocations.
 *
 * Thread-safety: none; keep one per session or per thread.
 */
class submission_parser {
public:
    /** @param hub_names the configured hubs' NAMEs; any other `hub` is `unknown_hub`. */
    explicit submission_parser(std::vector<std::string> hub_names);
    ~submission_parser();
    submission_parser(submission_parser&&) noexcept;
    submission_parser& operator=(submission_parser&&) noexcept;

    /** @brief Whether submissions carry their JSON text (`submission::text`), for the spool. */
    void keep_text(bool keep) noexcept { keep_text_ = keep; }

    /**
     * @brief Parses one JSON notification object and validates it (prepare_notification).
     * @param body consumed: parsed in place.
     * @param now the time `schedule_at` is checked against.
     */
    std::variant<submission, api_error> parse(std::string& body, std::chrono::system_clock::time_point now);

    /**
     * @brief Parses an NDJSON batch: one object a line; blank lines are skipped, `\r\n` and a missing
     * final newline are fine. Each line is parsed as parse() does.
     * @param body consumed: parsed in place.
     */
    ndjson_batch parse_ndjson(std::string& body, std::chrono::system_clock::time_point now);

    /** @brief What parse_ndjson_lines hands over for each non-blank line. */
    using line_handler = std::function<void(std::size_t line, std::variant<submission, api_error>& result)>;

    /**
     * @brief Parses an NDJSON batch as parse_ndjson() does, but hands each line to `on_line` as it is
     * parsed (in line order) instead of collecting them: memory does not grow with the line count.
     * @param body consumed: parsed in place.
     */
    void parse_ndjson_lines(std::string& body,
                            std::chrono::system_clock::time_point now,
                            const line_handler& on_line);

private:
    struct state;
    std::variant<submission, api_error> parse_in_place(char* text,
                                                       std::size_t size,
                                                       std::chrono::system_clock::time_point now);

    std::vector<std::string> hub_names_;
    std::unique_ptr<state> state_;
    bool keep_text_ = false;
};

}  // namespace nhpush::api
