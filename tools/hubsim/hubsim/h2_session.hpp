#pragma once
/** @file The HTTP/2 protocol state of one server connection, over nghttp2 and without I/O: bytes
 * in, requests out; answers in, bytes out. The Asio side is h2_connection. */

#include "hubsim/checks.hpp"
#include "hubsim/options.hpp"
#include "hubsim/service.hpp"
#include "hubsim/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

struct nghttp2_session;

namespace nhpush::hubsim {

/** @brief Request bodies over this size are discarded and answered 413 (as on HTTP/1.1). */
inline constexpr std::size_t h2_max_request_body = 1024 * 1024;
/** @brief Request bodies being received on one connection, together, are held to this size: a
 * stream whose body would pass it is answered 413 as if its body were over h2_max_request_body.
 * At most max_streams × 64 KiB of acceptable bodies are ever in flight, so only oversized ones
 * can reach it. */
inline constexpr std::size_t h2_max_connection_body = 8 * 1024 * 1024;
/** @brief A request header block over this size (RFC 7541 sizes) resets the stream; advertised as
 * SETTINGS_MAX_HEADER_LIST_SIZE. */
inline constexpr std::size_t h2_max_header_list = 64 * 1024;

/** @brief How an answer goes out. */
enum class answer_mode : std::uint8_t {
    whole,               ///< HEADERS and DATA to the end
    close_after,         ///< whole, then the connection is closed (the close_after fault)
    headers_then_close,  ///< HEADERS only, then the connection is closed (the drop fault)
    headers_then_reset,  ///< HEADERS, then RST_STREAM INTERNAL_ERROR before the body
};

/** @brief What an h2_session tells its owner; called from inside receive() and take_output(). */
class h2_session_owner {
public:
    /// A stream's request is complete. `too_large`: its body was over h2_max_request_body and was
    /// discarded. The owner answers now or later with answer() or reset().
    virtual void on_request(std::int32_t stream_id, const request& req, bool too_large) = 0;
    /// The stream is gone (answered, reset by either side); an answer for it is no longer wanted.
    virtual void on_stream_closed(std::int32_t stream_id) = 0;

protected:
    ~h2_session_owner() = default;
};

/**
 * @brief One HTTP/2 server session: framing, HPACK and flow control by nghttp2, requests assembled
 * into the same `request` type the HTTP/1.1 path reads, answers sent from hubsim's `response`.
 *
 * Memory per connection is bounded: at most max_streams streams, each with a header block of at
 * most h2_max_header_list, and request bodies of at most h2_max_request_body each and
 * h2_max_connection_body together (a body is let go once its request is handed over).
 * Not thread-safe: one connection, one thread.
 */
class h2_session {
public:
    /// Queues the server SETTINGS (max_streams, header list size; zero_window's window of 0).
    h2_session(const http2_config& config, h2_session_owner& owner, thread_stats& stats);
    ~h2_session();
    h2_session(const h2_session&) = delete;
    h2_session& operator=(const h2_session&) = delete;

    /// Feeds received bytes; false on a connection error (a GOAWAY may be queued: flush, then close).
    bool receive(const std::uint8_t* data, std::size_t size);
    /// Appends frames ready to go to `out` until it holds `limit` bytes or nothing is left, and
    /// stops early once must_close(); false on a fatal error.
    bool take_output(std::string& out, std::size_t limit);
    /// True while the connection still has something to read or write (false after GOAWAY once
    /// every stream it names is done).
    bool alive() const noexcept;
    /// True once a close_after or headers_then_close answer went out: write what was taken, close.
    bool must_close() const noexcept { return must_close_; }

    /// Answers a stream whose request was handed to the owner.
    void answer(std::int32_t stream_id, response res, answer_mode mode);
    /// Resets a stream instead of answering it.
    void reset(std::int32_t stream_id, stream_reset_code code);

    /// Streams open now (requests begun and not yet closed).
    std::size_t open_streams() const noexcept { return streams_.size(); }

private:
    struct stream;
    struct callbacks;

    stream* find(std::int32_t id) noexcept;
    void release_body(stream& s) noexcept;
    void on_begin_request(std::int32_t id);

    const http2_config config_;
    h2_session_owner& owner_;
    thread_stats& stats_;
    nghttp2_session* session_ = nullptr;
    std::unordered_map<std::int32_t, std::unique_ptr<stream>> streams_;
    std::uint64_t streams_begun_ = 0;
    std::size_t buffered_body_ = 0;  ///< bytes of request bodies held now, over all streams
    bool must_close_ = false;
    bool destroying_ = false;
};

}  // namespace nhpush::hubsim
