#pragma once
/** @file A small HTTP/1.1 client over a Unix socket for tests: well-formed requests and raw bytes,
 * every read with a deadline. */

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nhpush::testing {

/** @brief One HTTP answer. Header names are lower-cased. */
struct http_answer {
    unsigned status = 0;
    std::map<std::string, std::string> headers;
    std::string body;

    /// The value of header `name` (lower case), or "".
    std::string header(const std::string& name) const;
};

/**
 * @brief A client connection to a Unix socket. Answers are read with Content-Length framing (all
 * nhpushd sends). Not thread-safe.
 */
class unix_http_client {
public:
    /// Connects. @throws std::runtime_error if the socket cannot be reached.
    explicit unix_http_client(const std::string& path,
                              std::chrono::milliseconds timeout = std::chrono::seconds{10});
    ~unix_http_client();
    unix_http_client(unix_http_client&& other) noexcept;
    unix_http_client(const unix_http_client&) = delete;
    unix_http_client& operator=(const unix_http_client&) = delete;

    /// Sends a request and reads its answer. @throws std::runtime_error if none comes.
    http_answer request(std::string_view method,
                        std::string_view target,
                        std::string_view body = {},
                        std::string_view content_type = "application/json",
                        const std::vector<std::pair<std::string, std::string>>& headers = {});
    http_answer get(std::string_view target) { return request("GET", target); }
    http_answer post_json(std::string_view target, std::string_view body) {
        return request("POST", target, body);
    }

    /// Writes bytes as they are. Returns false if the peer has closed.
    bool send_raw(std::string_view bytes);
    /// Reads one answer; nullopt if the connection ends (or the deadline passes) first.
    std::optional<http_answer> read_answer();
    /// Ends the sending side (the peer reads end of file).
    void shutdown_write();
    /// Waits until there is something to read (without reading it); false if `timeout` passes first.
    bool wait_readable(std::chrono::milliseconds timeout);
    /// Waits until the peer closes the connection; false if `timeout` passes first.
    bool wait_closed(std::chrono::milliseconds timeout);

private:
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string in_;
};

}  // namespace nhpush::testing
