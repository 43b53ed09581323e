#pragma once
/** @file The record file: one NDJSON line per accepted notification. */

#include "hubsim/checks.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace nhpush::hubsim {

/** @brief Everything one record line says. */
struct record_entry {
    std::chrono::system_clock::time_point time;
    std::string_view hub;
    std::string_view operation;  ///< send, direct, batch, scheduled or test
    std::string_view notification_id;
    const accepted_notification* notification = nullptr;
};

/** @brief The operation word of a record line for an accepted request. */
std::string_view record_operation(const route& r) noexcept;

/** @brief Lower-case hex SHA-256 of `data`. */
std::string sha256_hex(std::string_view data);

/**
 * @brief Appends one JSON line (with its `\n`) for `e` to `out`:
 * `{"time":"2026-01-01T00:00:00.123Z","hub":"h","operation":"send","format":"apple",
 *   "tags":"a || b","handle":"…","handles":[…],"payload_sha256":"…","payload_bytes":42,
 *   "client_id":"…","notification_id":"…"}`. `tags`, `handle`, `handles` and `client_id` (the
 * X-Nhpush-Id header) appear only when the request had them.
 */
void append_record_line(std::string& out, const record_entry& e);

/**
 * @brief An append-only file of record lines.
 *
 * Thread-safety: write() may be called from any thread without a lock: each line goes out in one
 * write(2) on an O_APPEND descriptor, so lines never interleave and a line is in the file before
 * the client gets its 201.
 */
class record_file {
public:
    /// Creates or truncates `path`. @throws std::runtime_error naming the path.
    explicit record_file(const std::string& path);
    ~record_file();
    record_file(const record_file&) = delete;
    record_file& operator=(const record_file&) = delete;

    /// Appends a complete line; errors are counted, not thrown.
    void write(std::string_view line) noexcept;
    std::uint64_t write_errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

private:
    int fd_ = -1;
    std::atomic<std::uint64_t> errors_{0};
};

}  // namespace nhpush::hubsim
