#pragma once
/** @file The JSON answers about notifications: accepted, state, final result. */

#include "hubs/recent_results.hpp"

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

}  // namespace nhpush::api
