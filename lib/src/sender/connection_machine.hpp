#pragma once
// The life of one connection to the hub, as a state machine with no I/O (the shape of Boost.MySQL's
// sans-I/O pool node): the connection's coroutine performs the action resume() returns and reports
// what happened. HTTP/1.1 and HTTP/2 connections share it; the requests on a connection are
// decided by send_decision.hpp, the number of connections by pool_sizing.hpp.

#include "nhpush/retry.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>

namespace nhpush::detail {

using steady = std::chrono::steady_clock;

enum class connection_status {
    initial,      ///< not started
    connecting,   ///< resolving, connecting, handshaking
    backing_off,  ///< waiting after a failed connect or an unexpected failure
    serving,      ///< carrying requests
    terminated    ///< done: the coroutine ends and the pool forgets the connection
};

/// What happened, as the coroutine reports it.
enum class connection_event {
    started,
    connected,            ///< TCP, TLS and (for HTTP/2) the hub's SETTINGS are through
    connect_failed,       ///< resolve, connect, handshake or the HTTP/2 preface failed
    wait_over,            ///< the back-off after a failure has passed
    closed,               ///< serving ended with the connection unusable or drained: connect again
    idle_expired,         ///< nothing to do for idle_timeout while the pool has more than its minimum
    failed_unexpectedly,  ///< a step threw: back off, then a fresh connection
    stop                  ///< the sender stops
};

/// What the coroutine does next.
struct connection_action {
    enum class kind { connect, wait_until, serve, terminate };
    kind what = kind::terminate;
    steady::time_point until{};  ///< for wait_until
};

/// What a failed connect does besides waiting. Pure.
struct connect_failure_effects {
    bool log_warning = false;      ///< first failure of a series: logged once, not per retry
    bool fail_queue = false;       ///< a certificate failure is no passing fault: fail what waits
    bool charge_one_item = false;  ///< else one waiting notification is charged an attempt
};
connect_failure_effects effects_of_connect_failure(boost::system::error_code ec, int failures_in_a_row);

class connection_machine {
public:
    connection_machine(const retry_config& reconnect, std::chrono::seconds max_age) noexcept
        : reconnect_(reconnect), max_age_(max_age) {}

    /// The one entry point: the event that happened at `now` gives the next action. `jitter` is
    /// uniform in [0, 1) and spreads the back-off of connections that fail together.
    connection_action resume(connection_event e, steady::time_point now, double jitter);

    connection_status status() const noexcept { return status_; }
    int failures_in_a_row() const noexcept { return failures_; }
    /// The last `connected` ended a series of failures (worth an "connected again" log line).
    bool recovered() const noexcept { return recovered_; }
    /// Older than max_age: take no new requests, finish the open ones, reconnect (DNS changes).
    bool too_old(steady::time_point now) const noexcept {
        return max_age_.count() > 0 && status_ == connection_status::serving &&
               now - connected_at_ >= max_age_;
    }

private:
    connection_action back_off(steady::time_point now, double jitter);

    retry_config reconnect_;
    std::chrono::seconds max_age_;
    connection_status status_ = connection_status::initial;
    steady::time_point connected_at_{};
    int failures_ = 0;
    bool recovered_ = false;
};

}  // namespace nhpush::detail
