#pragma once
// The client side of one HTTP/2 connection to the hub, over nghttp2, without I/O: the owner feeds
// it the bytes it reads (receive), writes what it asks to write (pending_output, consumed), and
// takes the answers and stream failures it reports (take_events).

#include "wire_request.hpp"

#include <nhpush/request.hpp>
#include <nhpush/response.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct nghttp2_session;

namespace nhpush::detail {

class h2_memory;

struct h2_limits {
    std::size_t max_streams = 100;             ///< our cap on concurrent streams
    std::size_t max_response_bytes = 1 << 20;  ///< a larger body resets the stream (response_too_large)
    std::size_t max_header_bytes = 64 * 1024;  ///< a larger response header list (RFC 9113 size:
                                               ///< name + value + 32 a field) resets the stream
    /// Our connection-level receive window: large, so that many small answers never wait for a
    /// WINDOW_UPDATE. The per-stream window is max_response_bytes (at least 64 KiB).
    std::int32_t connection_window = 16 << 20;
    /// false: answers keep their status, body and the fields classify_response() reads
    /// (detail::classified_fields), not the others, which no one would read.
    bool all_response_fields = true;
};

/// A complete response.
struct h2_answer {
    std::int32_t stream_id;
    hub_response_message message;
};

enum class h2_stream_failure {
    refused,            ///< RST_STREAM REFUSED_STREAM, or above a GOAWAY's last_stream_id, or never
                        ///< sent: the hub did not process it (resend, no attempt counted)
    reset,              ///< any other reset: the peer's RST_STREAM, or ours for a malformed
                        ///< response (detail says which, and names the h2 error code)
    response_too_large  ///< header list or body beyond the limits: we reset the stream (CANCEL)
};

struct h2_failure {
    std::int32_t stream_id;
    h2_stream_failure why;
    std::uint32_t error_code;  ///< the HTTP/2 error code of the reset
    std::string detail;
};

using h2_event = std::variant<h2_answer, h2_failure>;

struct h2_goaway {
    std::int32_t last_stream_id;
    std::uint32_t error_code;
    std::string debug_data;
};

/// The category of receive()'s errors: nghttp2's library error codes (NGHTTP2_ERR_*).
const boost::system::error_category& h2_category() noexcept;

/**
 * One HTTP/2 client connection's state: framing, HPACK, flow control and streams (nghttp2), and
 * the mapping between hub requests and responses and HTTP/2 streams. Does no I/O and never
 * blocks; every stream submitted ends in exactly one event (an answer or a failure), except
 * cancelled ones and those still open when the connection dies.
 *
 * The owner's loop: after connecting, write pending_output(); on each read, receive() the bytes
 * (an error: close), handle take_events(), then write pending_output() again, calling consumed()
 * as writes complete; submit(), cancel(), ping() and shutdown() queue frames, so write after them
 * too. Close the socket when alive() turns false.
 *
 * Not thread-safe. Not copyable or movable: nghttp2 holds `this`.
 */
class h2_client_session {
public:
    /// Queues the client preface and our SETTINGS (ENABLE_PUSH 0, the stream and connection
    /// windows, MAX_HEADER_LIST_SIZE).
    explicit h2_client_session(h2_limits limits = {});
    ~h2_client_session();
    h2_client_session(const h2_client_session&) = delete;
    h2_client_session& operator=(const h2_client_session&) = delete;

    /// Bytes read from the socket. An error means the connection is unusable (protocol error, not
    /// HTTP/2…): error_detail() says why, alive() is false. Once failed, returns the same error.
    boost::system::error_code receive(std::span<const char> bytes);

    /// True while a new stream may be opened: the connection is alive, no GOAWAY received or
    /// sent, and open_streams() < min(limits.max_streams, the peer's MAX_CONCURRENT_STREAMS).
    /// Also false for good once the stream ids run out (2^30 streams): shutdown() and reconnect.
    bool can_submit() const;

    /// Opens a stream for `request`: :method, :scheme https, :authority from Host, :path from the
    /// target; the other fields with lower-cased names, but for the connection-specific ones
    /// (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, Host, and TE other
    /// than "trailers"), which are dropped; the body as DATA. Names and values are copied now, the
    /// body is kept until the stream ends: `request` need not outlive the call. Returns the stream id.
    /// @pre can_submit()
    std::int32_t submit(const wire_request& request);
    std::int32_t submit(const hub_request& request);

    /// Resets a stream we gave up on (e.g. our per-stream timeout): RST_STREAM CANCEL, and no event
    /// is reported for it afterwards. Does nothing for a stream that is not open.
    void cancel(std::int32_t stream_id);

    /// Sends a PING; pings_acked() counts the acks.
    void ping();
    std::uint64_t pings_acked() const { return pings_acked_; }

    /// Graceful close: GOAWAY(NO_ERROR); open streams finish, no new ones.
    void shutdown();

    /// The next bytes to write (empty when nothing is pending): up to ~64 KiB of frames at once, so
    /// that many small frames make one write. After writing n of them call consumed(n). While some
    /// are not consumed, the same bytes are returned; the view stays valid until consumed().
    std::string_view pending_output();
    void consumed(std::size_t n);

    /// Events since the last call, in order. They come from receive(), and from pending_output():
    /// a stream we reset, or one refused before its HEADERS went out, ends as its frame is written.
    std::vector<h2_event> take_events();
    /// The same into `out` (cleared first), swapping buffers so that a caller reusing `out` causes
    /// no allocation.
    void take_events(std::vector<h2_event>& out);

    /// The peer's first SETTINGS arrived.
    bool settings_received() const { return settings_received_; }
    /// Streams submitted and not yet closed: cancelled ones count until their RST_STREAM is out,
    /// answered ones until the request is all sent (or the peer resets the stream).
    std::size_t open_streams() const { return streams_.size(); }
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS: 100 (nghttp2's assumption) until its SETTINGS
    /// arrive, unlimited (2^32 - 1) if they do not name it.
    std::size_t peer_max_concurrent_streams() const;
    /// The GOAWAY received from the peer, if any.
    const std::optional<h2_goaway>& goaway() const { return goaway_; }

    /// False once the session is finished: after a GOAWAY (either way) with no stream open and
    /// nothing left to write, or after a fatal error. Then close the socket; streams still open
    /// then (only after a fatal error) get no event: their outcome is unknown.
    bool alive() const;
    const std::string& error_detail() const { return error_detail_; }

private:
    /// What the session keeps of one open stream.
    struct stream {
        std::string body;  // nghttp2 reads the DATA from here
        std::size_t body_sent = 0;
        hub_response_message response;
        std::size_t header_bytes = 0;
        std::optional<std::size_t> content_length;  // of the final response, checked by nghttp2
        std::uint32_t peer_reset_code = 0;
        bool peer_reset = false;    // an RST_STREAM came from the peer
        bool answered = false;      // the response is complete (END_STREAM) and reported
        bool got_final = false;     // the final (non-1xx) response headers began
        bool ignore_block = false;  // the header block being read is a 1xx or trailers
        bool cancelled = false;     // cancel(): no event
        std::string too_large;      // why we reset it for the limits, if we did
        std::string invalid;        // nghttp2's complaint about the response, if any
    };
    using stream_map = std::unordered_map<std::int32_t, stream>;  // node-based: stable addresses
    struct callbacks;  // nghttp2's C callbacks, which reach the private members
    struct nv_list;    // the nghttp2_nv array submit() reuses

    void fail(int lib_error, std::string_view what);
    void check_terminated();
    void reset_too_large(std::int32_t id, stream& s, std::string detail);
    void check_content_length(std::int32_t id, stream& s);
    void close_stream(std::int32_t id, std::uint32_t error_code);
    /// A new stream in streams_, in a spare node when there is one (its body keeps its buffer).
    stream& open_stream(std::int32_t id);
    void forget_stream(stream_map::iterator it);
    h2_event event_for(std::int32_t id, stream& s, std::uint32_t error_code) const;

    h2_limits limits_;
    std::unique_ptr<h2_memory> memory_;  // nghttp2's allocations: outlives session_
    nghttp2_session* session_ = nullptr;
    stream_map streams_;
    std::vector<stream_map::node_type> spare_;  // closed streams' nodes, for the next ones
    std::vector<h2_event> events_;
    std::unique_ptr<nv_list> nv_;
    std::string output_;
    std::size_t output_consumed_ = 0;
    std::optional<h2_goaway> goaway_;
    std::uint64_t pings_acked_ = 0;
    bool settings_received_ = false;
    bool shutdown_ = false;
    boost::system::error_code error_;
    std::string error_detail_;
    std::string last_library_error_;  // nghttp2's latest complaint, for error_detail_
    int last_library_code_ = 0;
};

}  // namespace nhpush::detail
