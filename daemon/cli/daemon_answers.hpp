#pragma once
// What nhpush prints for nhpushd's answers, and the exit code each means (pure: text in, text out).

#include "cli/cli.hpp"
#include "cli/daemon_client.hpp"

#include <string>
#include <string_view>

namespace nhpush::cli {

/// Text and exit code of one answer.
struct described {
    std::string text;  ///< ends with a newline
    int exit_code = exit_ok;
};

/// An error answer (`{"error":{…}}`): 4xx → exit_usage (the input was wrong), 5xx → exit_failed.
described describe_error(const daemon_answer& answer);

/// The id in a `202 {"id":…}` answer.
std::string accepted_id(std::string_view json);

/// A notification's state or final result (`wait=true`, `GET /v1/notifications/{id}`): failed → exit_failed.
described describe_result(std::string_view json);

/// A `409 duplicate_id` answer: the id was accepted before; its state as describe_result says it,
/// with describe_result's exit code (queued or sent → exit_ok, failed → exit_failed).
described describe_duplicate(std::string_view json);

/// A batch answer: every line queued (or already accepted: duplicate_id) → exit_ok; an invalid line →
/// exit_usage; only queue_full or shutting_down → exit_failed. Lines beyond those listed are counted
/// from `rejected_by_code`.
described describe_batch(std::string_view json);

/// `/v1/stats` as a table per hub.
described describe_stats(std::string_view json);

/// `/healthz`: healthy → exit_ok, otherwise the reasons and exit_failed.
described describe_health(const daemon_answer& answer);

/// A cancel's answer: cancelled (queued here, or scheduled at the hub) → exit_ok; otherwise the error.
described describe_cancel(const daemon_answer& answer);

/// `GET /v1/notifications/{id}/details`: the hub's state, times and outcome counts per platform.
described describe_details(const daemon_answer& answer);

/// `GET /v1/dead-letters`: one line per letter, newest first, and how to see more.
described describe_dead_letters(const daemon_answer& answer);

}  // namespace nhpush::cli
