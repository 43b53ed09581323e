#pragma once
/** @file The answer to an NDJSON batch, built line by line in memory bounded by the batch's size. */

#include "shared/json_output.hpp"
#include "submission/api_error.hpp"
#include "submission/submission.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::api {

/**
 * @brief Rejected lines a batch answer lists in full; the others are only counted. A body of
 * `max_body_bytes` of bad lines would otherwise get an answer many times its size.
 */
inline constexpr std::size_t max_listed_rejected_lines = 100;

/**
 * @brief Builds `{"accepted":[{"line":1,"id":"…"}],"rejected":[{"line":2,"code":"…","message":"…",
 * "field":"…"}],"rejected_count":N,"rejected_by_code":{"invalid_json":N},"rejected_truncated":false}`.
 *
 * Lines are given in increasing order. Accepted lines are written into the answer at once (each
 * entry is shorter than the line it answers, with its id); of the rejected lines the first
 * max_listed_rejected_lines are kept and listed, the rest counted in `rejected_count` and
 * `rejected_by_code`. So the answer is at most about the batch's size plus a fixed amount.
 *
 * Not copyable or movable (the writer refers to the body). Thread-safety: none.
 */
class batch_answer {
public:
    batch_answer();
    batch_answer(const batch_answer&) = delete;
    batch_answer& operator=(const batch_answer&) = delete;

    /** @brief Line `line` was queued under `id`. */
    void accept(std::size_t line, std::string_view id);
    /** @brief Line `line` was rejected with `error`. */
    void reject(std::size_t line, api_error error);

    std::size_t accepted_count() const noexcept { return accepted_; }
    std::size_t rejected_count() const noexcept { return rejected_; }

    /** @brief The answer's body; call once, last. */
    std::string finish();

private:
    std::string body_;
    shared::string_output out_{body_};
    shared::json_writer writer_{out_};
    std::vector<line_error> listed_;
    std::array<std::size_t, api_errc_count> rejected_by_code_{};
    std::size_t accepted_ = 0;
    std::size_t rejected_ = 0;
};

}  // namespace nhpush::api
