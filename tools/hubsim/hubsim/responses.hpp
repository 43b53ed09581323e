#pragma once
/** @file The bodies and headers of Notification Hubs answers, and the ids hubsim hands out (pure). */

#include <nhpush/notification.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nhpush::hubsim {

/** @brief The content type of every NH XML answer. */
inline constexpr std::string_view xml_content_type = "application/xml; charset=utf-8";

/**
 * @brief Makes notification ids and tracking ids for one worker. Not thread-safe.
 *
 * A notification id is `{32 hex}-{enqueue unix seconds}-{format index}`: the first 12 hex digits
 * are the process's prefix, so GET /{hub}/messages/{id} can tell its own ids from others and
 * report their format and time without storing anything.
 */
class id_generator {
public:
    /// `process_prefix` is 12 lower-case hex digits shared by the process's workers.
    id_generator(std::string_view process_prefix, unsigned worker, std::uint64_t seed);

    /// A new notification id; the view is valid until the next call.
    std::string_view next_notification_id(notification_format f, std::int64_t unix_seconds);

    /// A new random GUID for the TrackingId header; the view is valid until the next call.
    std::string_view next_tracking_id();

private:
    std::string prefix_;
    std::uint64_t sequence_ = 0;
    std::uint64_t rng_state_;
    std::string id_;
    char guid_[36];
};

/** @brief 12 random hex digits for id_generator, from OpenSSL's RNG. */
std::string make_process_prefix();

/** @brief What a notification id made by this process says. */
struct id_info {
    notification_format format;
    std::int64_t enqueued_unix;
};

/** @brief Reads an id made by id_generator with `process_prefix`; nullopt for any other id. */
std::optional<id_info> parse_notification_id(std::string_view id, std::string_view process_prefix);

/** @brief The reason word of an error status, e.g. 400 → `BadRequest`. */
std::string_view reason_word(unsigned status) noexcept;

/** @brief Escapes `& < > " '` for XML text. */
std::string xml_escape(std::string_view text);

/** @brief .NET's invariant timestamp the service puts in Details, `7/2/2020 6:33:21 PM`. */
std::string dotnet_timestamp(std::chrono::system_clock::time_point t);

/**
 * @brief An NH error body: `<Error><Code>401</Code><Detail>InvalidSignature: The token has an
 * invalid signature.TrackingId:…,TimeStamp:…</Detail></Error>`.
 */
std::string error_body(unsigned status,
                       std::string_view reason,
                       std::string_view message,
                       std::string_view tracking_id,
                       std::chrono::system_clock::time_point now);

/** @brief Which collection a Location points into. */
enum class location_kind { messages, scheduled };

/**
 * @brief Appends `https://{authority}/{hub}/messages/{id}?api-version={v}` (or
 * `/schedulednotifications/`), plus `&direct` for direct sends, to `out`.
 */
void append_location(std::string& out,
                     std::string_view authority,
                     std::string_view hub,
                     location_kind kind,
                     std::string_view id,
                     std::string_view api_version,
                     bool direct);

/** @brief The `<NotificationOutcome>` of a test send: one registration, sent successfully. */
std::string test_outcome_body(notification_format f, std::string_view registration_id);

/** @brief The `<NotificationDetails>` of a notification: Completed, one success on its platform. */
std::string details_body(std::string_view id, std::string_view location, const id_info& info);

}  // namespace nhpush::hubsim
