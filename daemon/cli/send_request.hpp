#pragma once
// `nhpush send`'s options and the notification object they make (pure).

#include "cli/args.hpp"

#include <nhpush/notification.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace nhpush::cli {

/// What `nhpush send` was asked to do.
struct send_options {
    std::string hub;
    std::string format;
    std::string payload;              ///< sent as a JSON string: the daemon passes it on byte for byte
    std::optional<std::string> tags;  ///< a tag expression; absent: broadcast
    std::string device_handle;
    std::string schedule_at;
    std::string id;
    std::vector<header> headers;
    bool test = false;
    bool wait = false;
    bool json = false;   ///< print the daemon's JSON answer as it is
    std::string ndjson;  ///< a batch file, or "-" for stdin; then the fields above are unused
    std::chrono::milliseconds timeout{30'000};
};

/// Reads the options of `nhpush send`. @throws usage_error
send_options read_send_options(args& a);

/// The notification object of the submission API for `o`.
std::string notification_json(const send_options& o);

}  // namespace nhpush::cli
