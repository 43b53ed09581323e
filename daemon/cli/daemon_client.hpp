#pragma once
// Talking to nhpushd over its Unix socket: one HTTP/1.1 request, one answer, with a deadline.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nhpush::cli {

/// The socket nhpushd listens on unless --socket says otherwise: $NHPUSH_SOCKET or the default.
std::string default_socket_path();

/// nhpushd could not be reached or did not answer: the message says why and what to check.
struct daemon_unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One request to the daemon.
struct daemon_request {
    std::string socket;
    std::string method = "GET";  ///< GET, POST or DELETE
    std::string target;          ///< e.g. /v1/stats
    std::string content_type;    ///< for a body
    std::string body;
    std::chrono::milliseconds timeout{30'000};  ///< for the whole exchange; 0: none
};

/// The daemon's answer.
struct daemon_answer {
    unsigned status = 0;
    std::string content_type;
    std::string retry_after;
    std::string body;
};

/// Sends the request and reads the answer. @throws daemon_unreachable
daemon_answer call_daemon(const daemon_request& request);

}  // namespace nhpush::cli
