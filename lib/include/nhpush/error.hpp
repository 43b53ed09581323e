#pragma once
/** @file Error codes of the nhpush library and the validation error of inputs. */

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace nhpush {

/** @brief Named failures of nhpush operations; their category is nhpush_category(). */
enum class errc {
    resolve_timeout = 1,   ///< the hub's host name was not resolved in time
    connect_timeout,       ///< the TCP connection was not established in time
    handshake_timeout,     ///< the TLS handshake did not finish in time
    write_timeout,         ///< the request was not written in time
    read_timeout,          ///< the response did not arrive in time
    connection_closed,     ///< the hub closed a kept-alive connection before answering
    queue_full,            ///< the sender's queue is at capacity; try again later
    deadline_expired,      ///< the notification was not sent before its deadline
    shutting_down,         ///< the sender is stopping and takes no new work
    hub_rejected,          ///< the hub answered with a permanent error (see the result's status)
    retries_exhausted,     ///< the hub kept failing until the retry limit was reached
    invalid_notification,  ///< the notification failed validation (see the validation error)
    tls_verify_failed,     ///< the hub's TLS certificate or host name could not be verified
    outcome_unknown,       ///< the sender stopped while the request was on the wire: the hub may have it
    send_path_failed,      ///< building or handling the request threw; see the result's error_detail
    protocol_error,        ///< the hub broke HTTP/2 (or refused it when `protocol = h2`); see error_detail
    cancelled              ///< cancelled (cancellation_type::terminal) while still queued: never sent
};

/** @brief The error category of errc. Thread-safe. */
const boost::system::error_category& nhpush_category() noexcept;

/** @brief Makes an error_code of errc, found by ADL. */
boost::system::error_code make_error_code(errc e) noexcept;

/**
 * @brief What is wrong with an input, and where.
 *
 * `field` names the offending input (e.g. `tags`, `headers.apns-priority`, `payload`);
 * `message` is a sentence for a person and never contains a secret.
 */
struct validation_error {
    std::string field;
    std::string message;
};

}  // namespace nhpush

template <>
struct boost::system::is_error_code_enum<nhpush::errc> : std::true_type {};
