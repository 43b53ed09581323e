#pragma once
/** @file The spool's records and their framing on disk: pure code, no files. */

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace nhpush::spool {

/**
 * @brief A notification as it was accepted: enough to send it again after a restart.
 *
 * `Text` is std::string for a record that owns its bytes (accepted_record: read back, handed over)
 * and std::string_view for one borrowed from where they are (accepted_fields: the request being
 * answered), which spool::accept() frames without copying the submission first.
 */
template <class Text>
struct basic_accepted_record {
    Text id;
    Text hub;
    std::int64_t accepted_at_ms = 0;  ///< Unix time, milliseconds
    std::int64_t deadline_ms = 0;     ///< Unix time, milliseconds: not sent by then, it fails
    Text submission;                  ///< the notification object exactly as submitted (JSON)

    bool operator==(const basic_accepted_record&) const = default;
};
using accepted_record = basic_accepted_record<std::string>;
using accepted_fields = basic_accepted_record<std::string_view>;

/// An accepted_record's fields, borrowed from it.
accepted_fields fields_of(const accepted_record& r) noexcept;

/**
 * @brief The final result of a notification: once written, it is never sent again.
 *
 * final_record owns its bytes (decoded, recovered); final_fields borrows them from the result and
 * the hand-over, for spool::finished() to frame without copying every string first.
 */
template <class Text>
struct basic_final_record {
    Text id;
    Text hub;
    std::uint64_t segment = 0;  ///< the segment holding its accepted_record
    bool sent = false;
    Text reason;  ///< why it failed (hubs::reason_name); empty when sent
    std::uint32_t http_status = 0;
    std::uint32_t attempts = 0;
    Text notification_id;
    Text tracking_id;
    Text error_code;
    Text error_detail;

    bool operator==(const basic_final_record&) const = default;
};
using final_record = basic_final_record<std::string>;
using final_fields = basic_final_record<std::string_view>;

/// A final_record's fields, borrowed from it.
final_fields fields_of(const final_record& r) noexcept;

/**
 * @brief The attempts a notification had when a stop cut it short: the next start resumes it with
 * them, so `max_attempts` holds across restarts. (A crash loses the attempts of its last run.)
 */
struct attempts_record {
    std::string id;
    std::string hub;
    std::uint32_t attempts = 0;

    bool operator==(const attempts_record&) const = default;
};

using record = std::variant<accepted_record, final_record, attempts_record>;

/**
 * @brief A segment file starts with this: a magic and the format's version, so a foreign or future
 * file is never read as records.
 */
inline constexpr std::string_view segment_magic{"NHPSPOOL\x00\x00\x00\x01", 12};

/** @brief Bytes before a record's payload: length (4), CRC-32C (4), type (1), little-endian. */
inline constexpr std::size_t frame_header_bytes = 9;

/** @brief A record's payload at most; a longer length field is damage, not a record. */
inline constexpr std::size_t max_payload_bytes = 16 << 20;

/** @brief CRC-32C (Castagnoli, as iSCSI and ext4 use it), by ISA-L (the CPU's CRC32 instruction). */
std::uint32_t crc32c(std::string_view bytes) noexcept;

/** @brief Appends one framed record (header, then payload) to `out`. */
void encode(const record& r, std::string& out);
/// The same for a record of a known type, without copying it into a `record` first.
void encode(const accepted_record& r, std::string& out);
void encode(const accepted_fields& r, std::string& out);
void encode(const final_record& r, std::string& out);
void encode(const final_fields& r, std::string& out);
void encode(const attempts_record& r, std::string& out);

/** @brief The frame ends before the bytes given do: more are needed (a torn tail, at the end of a file). */
struct incomplete {};

/** @brief The bytes are not a record: a bad length, a bad checksum or a payload that does not decode. */
struct damaged {
    std::string what;
};

/** @brief A record decoded, and the bytes its frame took. */
struct decoded {
    record value;
    std::size_t frame_bytes = 0;
};

/** @brief Decodes the record framed at the start of `bytes`. */
std::variant<decoded, incomplete, damaged> decode(std::string_view bytes);

}  // namespace nhpush::spool
