#pragma once
/** @file The JSON answers about notifications: accepted, state, final result. */

#include "hubs/recent_results.hpp"
#include "spool/dead_letters.hpp"

#include <optional>

#include <string>
#include <string_view>

namespace nhpush::api {

/** @brief `{"id":"…"}`, the answer to an accepted notification. */
std::string render_accepted(std::string_view id);

/**
 * @brief A notification's state: `{"id":…,"hub":…,"status":"queued"}`, and once finished the
 * result's fields (`notification_id`, `tracking_id`, `attempts`, `http_status`, and on failure
 * `reason`, `error_code`, `error_detail`); empty fields are left out. `test` adds a test send's
 * per-registration outcome.
 */
std::string render_result(std::string_view id,
                          const hubs::result_record& record,
                          const test_send_outcome* test = nullptr);

/**
 * @brief The answer to a submission whose id is taken (409): the holder's state as render_result
 * writes it, plus `"error":{"code":"duplicate_id","message":…,"field":"id"}`.
 */
std::string render_duplicate(std::string_view id, const hubs::result_record& record);

/** @brief The sentence of a duplicate_id error: which notification holds the id, and its state. */
std::string duplicate_message(std::string_view id, const hubs::result_record& record);

/** @brief Where a notification was cancelled: still queued here, or scheduled at the hub. */
enum class cancelled_where { queue, hub };

/**
 * @brief The answer to a cancel: `{"id":…,"hub":…,"status":"failed","reason":"cancelled",
 * "cancelled":"queue"|"hub"}` (and the hub's `notification_id` when it has one).
 */
std::string render_cancelled(std::string_view id, const hubs::result_record& record, cancelled_where where);

/**
 * @brief The hub's `<NotificationDetails>` as JSON: `state`, `enqueue_time`, `start_time`,
 * `end_time`, `target_platforms`, `location`, … (each element's name in snake_case), and
 * `outcome_counts` `{"apns":{"Success":3,…},…}`; nil elements are left out. nullopt when `xml` is not
 * a NotificationDetails document.
 */
std::optional<std::string> render_outcome_details(std::string_view id,
                                                  const hubs::result_record& record,
                                                  std::string_view xml);

/**
 * @brief `{"dead_letters":[…newest first…],"more":…,"next_after":…,"dropped":…,"file_bytes":…,
 * "max_bytes":…}`; each letter as its line in the file (the submission embedded as JSON).
 */
std::string render_dead_letters(const spool::dead_letter_page& page, const spool::dead_letters& store);

}  // namespace nhpush::api
