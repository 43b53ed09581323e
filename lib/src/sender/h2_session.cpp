#include "sender/h2_session.hpp"

#include "sender/h2_memory.hpp"

#include "detail/classified_fields.hpp"

#include <nghttp2/nghttp2.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace nhpush::detail {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// Frames are gathered up to this size into one buffer: one TLS record and one write for many.
constexpr std::size_t output_batch_bytes = 64 * 1024;
// RFC 9113 §6.9.2's initial window: ours are never smaller, which would only slow answers down.
constexpr std::int32_t min_window = 65'535;

class h2_error_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nhpush.h2"; }
    std::string message(int ev) const override { return nghttp2_strerror(ev); }
};

std::string_view as_view(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

std::uint8_t* as_bytes(const char* data) {
    // nghttp2_nv's pointers are not const, but nghttp2 only reads through them.
    return reinterpret_cast<std::uint8_t*>(const_cast<char*>(data));
}

std::int32_t clamp_to_int32(std::size_t n) {
    return static_cast<std::int32_t>(std::min<std::size_t>(n, std::numeric_limits<std::int32_t>::max()));
}

// `name` in any case is `lower_case`.
bool is_named(std::string_view name, std::string_view lower_case) {
    return name.size() == lower_case.size() &&
           std::equal(name.begin(), name.end(), lower_case.begin(), [](char a, char b) {
               return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
           });
}

// RFC 9113 §8.2.2: these fields are about the HTTP/1.1 connection and malform an HTTP/2 request;
// Host becomes :authority.
bool is_connection_specific(std::string_view name, std::string_view value) {
    using namespace std::string_view_literals;
    for (const auto hop : {"connection"sv,
                           "keep-alive"sv,
                           "proxy-connection"sv,
                           "transfer-encoding"sv,
                           "upgrade"sv,
                           "host"sv}) {
        if (is_named(name, hop)) {
            return true;
        }
    }
    return is_named(name, "te") && !is_named(value, "trailers");
}

std::optional<std::size_t> parse_size(std::string_view value) {
    std::size_t n = 0;
    if (value.empty() || std::from_chars(value.data(), value.data() + value.size(), n).ec != std::errc{}) {
        return std::nullopt;
    }
    return n;
}

std::string_view error_name(std::uint32_t error_code) {
    return nghttp2_http2_strerror(error_code);
}

}  // namespace

const boost::system::error_category& h2_category() noexcept {
    static const h2_error_category category;
    return category;
}

struct h2_client_session::nv_list {
    std::vector<nghttp2_nv> fields;

    void add(std::string_view name, std::string_view value, std::uint8_t flags) {
        fields.push_back({as_bytes(name.data()), as_bytes(value.data()), name.size(), value.size(), flags});
    }
    // nghttp2 copies the values, and the names but for the pseudo-headers', which are static and
    // lower-case already, into one buffer for the request: the caller's strings may go at once.
    void add_pseudo(std::string_view name, std::string_view value) {
        add(name, value, NGHTTP2_NV_FLAG_NO_COPY_NAME);
    }
    // The name is lower-cased as it is copied.
    void add_field(std::string_view name, std::string_view value) { add(name, value, NGHTTP2_NV_FLAG_NONE); }
};

// nghttp2 calls these with the session as user_data. An exception must not cross nghttp2's C
// frames: any becomes NGHTTP2_ERR_CALLBACK_FAILURE, which fails the connection.
struct h2_client_session::callbacks {
    static h2_client_session& self(void* user_data) { return *static_cast<h2_client_session*>(user_data); }

    // The stream of a received frame; null for streams nghttp2 knows and we do not (none expected).
    static stream* find(nghttp2_session* session, std::int32_t stream_id) {
        return static_cast<stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    }

    static bool wants_response(const stream* s) {
        return s && !s->cancelled && !s->answered && s->too_large.empty();
    }

    static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void*) {
        if (auto* s = find(session, frame->hd.stream_id); frame->hd.type == NGHTTP2_HEADERS && s) {
            s->ignore_block = s->got_final;  // a header block after the final one holds trailers
        }
        return 0;
    }

    static int on_header(nghttp2_session* session,
                         const nghttp2_frame* frame,
                         const std::uint8_t* name,
                         std::size_t name_size,
                         const std::uint8_t* value,
                         std::size_t value_size,
                         std::uint8_t,
                         void* user_data) try {
        auto* s = find(session, frame->hd.stream_id);
        if (frame->hd.type != NGHTTP2_HEADERS || !wants_response(s)) {
            return 0;
        }
        auto& me = self(user_data);
        s->header_bytes += name_size + value_size + 32;  // RFC 9113 §6.5.2's header list size
        if (s->header_bytes > me.limits_.max_header_bytes) {
            me.reset_too_large(
                frame->hd.stream_id,
                *s,
                fmt::format("response header list over {} bytes", me.limits_.max_header_bytes));
            return 0;
        }
        add_field(me, *s, as_view(name, name_size), as_view(value, value_size));
        return 0;
    } catch (const std::length_error&) {  // Beast's limit on one field: 64 KiB
        auto& me = self(user_data);
        me.reset_too_large(
            frame->hd.stream_id, *find(session, frame->hd.stream_id), "a response field over 64 KiB");
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    static void add_field(h2_client_session& me, stream& s, std::string_view name, std::string_view value) {
        if (name == ":status") {
            unsigned status = 0;
            std::from_chars(value.data(), value.data() + value.size(), status);  // nghttp2 checked it
            s.ignore_block = status < 200;  // 1xx: wait for the final one
            if (!s.ignore_block) {
                s.got_final = true;
                s.response.result(status);
                s.response.version(20);  // HTTP/2, for whoever shows the answer (nhpush direct --debug)
            }
        } else if (!s.ignore_block && !name.starts_with(':')) {
            if (name == "content-length") {  // nghttp2 lower-cases names and checks this value
                s.content_length = parse_size(value);
            }
            if (me.limits_.all_response_fields || is_classified_field(name)) {
                s.response.insert(name, value);
            }
        }
    }

    static int on_data_chunk(nghttp2_session* session,
                             std::uint8_t,
                             std::int32_t stream_id,
                             const std::uint8_t* data,
                             std::size_t size,
                             void* user_data) try {
        auto* s = find(session, stream_id);
        if (!wants_response(s)) {
            return 0;
        }
        auto& me = self(user_data);
        auto& body = s->response.body();
        if (body.size() + size > me.limits_.max_response_bytes) {
            me.reset_too_large(
                stream_id, *s, fmt::format("response body over {} bytes", me.limits_.max_response_bytes));
            return 0;
        }
        body.append(as_view(data, size));
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) try {
        auto& me = self(user_data);
        const bool ack = (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0;
        switch (frame->hd.type) {
            case NGHTTP2_SETTINGS:
                me.settings_received_ = me.settings_received_ || !ack;
                break;
            case NGHTTP2_PING:
                me.pings_acked_ += ack ? 1 : 0;
                break;
            case NGHTTP2_GOAWAY:
                me.goaway_ =
                    h2_goaway{frame->goaway.last_stream_id,
                              frame->goaway.error_code,
                              std::string(as_view(frame->goaway.opaque_data, frame->goaway.opaque_data_len))};
                break;
            case NGHTTP2_RST_STREAM:
                if (auto* s = find(session, frame->hd.stream_id)) {
                    s->peer_reset = true;
                    s->peer_reset_code = frame->rst_stream.error_code;
                }
                break;
            case NGHTTP2_HEADERS:
            case NGHTTP2_DATA:
                on_stream_frame(me, frame);
                break;
        }
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    static void on_stream_frame(h2_client_session& me, const nghttp2_frame* frame) {
        auto* s = find(me.session_, frame->hd.stream_id);
        if (!wants_response(s)) {
            return;
        }
        if (frame->hd.type == NGHTTP2_HEADERS && s->got_final && !s->ignore_block) {
            me.check_content_length(frame->hd.stream_id, *s);
        }
        // nghttp2 calls this only for a valid end (a Content-Length mismatch resets the stream). The
        // answer is reported at once, even if our request is still being sent (RFC 9113 §8.1: the
        // answer may come early); the stream ends without another event.
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 && wants_response(s)) {
            s->answered = true;
            me.events_.push_back(h2_answer{frame->hd.stream_id, std::move(s->response)});
        }
    }

    static int on_stream_close(nghttp2_session*,
                               std::int32_t stream_id,
                               std::uint32_t error_code,
                               void* user_data) try {
        self(user_data).close_stream(stream_id, error_code);
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    // nghttp2 tears the connection down for a protocol error with a GOAWAY naming it: the reason
    // completes error_detail(), and such a GOAWAY ends the session even after our shutdown().
    static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) try {
        if (frame->hd.type != NGHTTP2_GOAWAY || frame->goaway.error_code == NGHTTP2_NO_ERROR) {
            return 0;
        }
        auto& me = self(user_data);
        if (!me.error_) {
            me.fail(NGHTTP2_ERR_PROTO, "the connection failed");
        }
        const auto reason = as_view(frame->goaway.opaque_data, frame->goaway.opaque_data_len);
        me.error_detail_ += fmt::format(" (we sent GOAWAY {}{}{})",
                                        error_name(frame->goaway.error_code),
                                        reason.empty() ? "" : ": ",
                                        reason);
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    // A stream or connection error nghttp2 found in what the peer sent: kept for the details.
    static int on_invalid_frame_recv(nghttp2_session* session,
                                     const nghttp2_frame* frame,
                                     int lib_error_code,
                                     void* user_data) try {
        auto& me = self(user_data);
        if (auto* s = find(session, frame->hd.stream_id)) {
            s->invalid = nghttp2_strerror(lib_error_code);
        }
        me.last_library_error_ = fmt::format("{} (frame type {}, stream {})",
                                             nghttp2_strerror(lib_error_code),
                                             frame->hd.type,
                                             frame->hd.stream_id);
        me.last_library_code_ = lib_error_code;
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    static int on_error(
        nghttp2_session*, int lib_error_code, const char* message, std::size_t size, void* user_data) try {
        auto& me = self(user_data);
        me.last_library_error_.assign(message, size);
        me.last_library_code_ = lib_error_code;
        return 0;
    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    // The data provider: the next DATA payload, straight from the stored request's body.
    static ssize_t read_body(nghttp2_session*,
                             std::int32_t,
                             std::uint8_t* buf,
                             std::size_t length,
                             std::uint32_t* data_flags,
                             nghttp2_data_source* source,
                             void*) {
        auto& s = *static_cast<stream*>(source->ptr);
        const auto& body = s.body;
        const auto n = std::min(length, body.size() - s.body_sent);
        std::memcpy(buf, body.data() + s.body_sent, n);
        s.body_sent += n;
        if (s.body_sent == body.size()) {
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }
};

h2_client_session::h2_client_session(h2_limits limits)
    : limits_(limits), memory_(std::make_unique<h2_memory>()), nv_(std::make_unique<nv_list>()) {
    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        throw std::bad_alloc();
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &callbacks::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &callbacks::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &callbacks::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &callbacks::on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &callbacks::on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, &callbacks::on_invalid_frame_recv);
    nghttp2_session_callbacks_set_error_callback2(cbs, &callbacks::on_error);
    const int rv = nghttp2_session_client_new3(&session_, cbs, this, nullptr, memory_->mem());
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        throw std::bad_alloc();
    }
    const auto stream_window =
        static_cast<std::uint32_t>(std::max(clamp_to_int32(limits_.max_response_bytes), min_window));
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, stream_window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<std::uint32_t>(std::min<std::size_t>(limits_.max_header_bytes, UINT32_MAX))},
    };
    // Both only queue frames: they fail for lack of memory alone.
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0 ||
        nghttp2_session_set_local_window_size(
            session_, NGHTTP2_FLAG_NONE, 0, std::max(limits_.connection_window, min_window)) != 0) {
        nghttp2_session_del(session_);
        throw std::bad_alloc();
    }
    streams_.reserve(std::min<std::size_t>(limits_.max_streams, 1024));
}

h2_client_session::~h2_client_session() {
    // First: nghttp2 may hold pointers into the streams' bodies.
    nghttp2_session_del(session_);
}

error_code h2_client_session::receive(std::span<const char> bytes) {
    if (error_) {
        return error_;
    }
    // A failure's detail names what nghttp2 complained about in these bytes, not earlier ones.
    last_library_error_.clear();
    last_library_code_ = 0;
    const auto n =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (n < 0) {
        fail(static_cast<int>(n), "reading the hub's HTTP/2 frames failed");
    } else {
        check_terminated();
    }
    return error_;
}

// nghttp2 reports most connection errors by queueing a GOAWAY and ignoring the rest of the input,
// not by failing mem_recv: it then refuses new requests though no GOAWAY was exchanged. After a
// GOAWAY that sign is gone, and the error shows only as our GOAWAY is written (on_frame_send).
void h2_client_session::check_terminated() {
    if (error_) {
        return;
    }
    const bool exchanged_goaway = goaway_ || shutdown_;
    if (!exchanged_goaway && nghttp2_session_check_request_allowed(session_) == 0 &&
        nghttp2_session_get_next_stream_id(session_) <= std::numeric_limits<std::int32_t>::max()) {
        fail(last_library_code_ != 0 ? last_library_code_ : NGHTTP2_ERR_PROTO,
             "the hub broke the HTTP/2 protocol");
    }
    if ((error_ || exchanged_goaway) && output_consumed_ == output_.size()) {
        (void)pending_output();  // serialises our GOAWAY, if any, whose reason completes the detail
    }
}

void h2_client_session::fail(int lib_error, std::string_view what) {
    error_ = error_code(lib_error, h2_category());
    error_detail_ = last_library_error_.empty() ? fmt::format("{}: {}", what, nghttp2_strerror(lib_error))
                                                : fmt::format("{}: {}", what, last_library_error_);
}

bool h2_client_session::can_submit() const {
    return !error_ && !shutdown_ && nghttp2_session_check_request_allowed(session_) != 0 &&
           streams_.size() < std::min(limits_.max_streams, peer_max_concurrent_streams());
}

std::size_t h2_client_session::peer_max_concurrent_streams() const {
    return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

std::int32_t h2_client_session::submit(const wire_request& request) {
    const auto id = nghttp2_session_get_next_stream_id(session_);
    if (id > std::numeric_limits<std::int32_t>::max()) {
        throw std::logic_error("h2_client_session::submit: no stream id left");
    }
    const auto stream_id = static_cast<std::int32_t>(id);
    auto& nv = *nv_;
    nv.fields.clear();
    nv.add_pseudo(":method", request.method);
    nv.add_pseudo(":scheme", "https");
    const auto host = std::find_if(request.fields.begin(), request.fields.end(), [](const auto& f) {
        return is_named(f.first, "host");
    });
    if (host != request.fields.end() && !host->second.empty()) {
        nv.add_pseudo(":authority", host->second);
    }
    nv.add_pseudo(":path", request.target);
    for (const auto& [name, value] : request.fields) {
        if (!is_connection_specific(name, value)) {
            nv.add_field(name, value);
        }
    }
    auto& s = open_stream(stream_id);
    s.body = request.body;
    nghttp2_data_provider body{};
    body.source.ptr = &s;
    body.read_callback = &callbacks::read_body;
    const auto rv = nghttp2_submit_request(
        session_, nullptr, nv.fields.data(), nv.fields.size(), s.body.empty() ? nullptr : &body, &s);
    if (rv != stream_id) {
        forget_stream(streams_.find(stream_id));
        throw std::runtime_error(fmt::format("h2_client_session::submit: {}", nghttp2_strerror(rv)));
    }
    return stream_id;
}

std::int32_t h2_client_session::submit(const hub_request& request) {
    wire_request w;
    view_request(request, w);
    return submit(w);
}

void h2_client_session::cancel(std::int32_t stream_id) {
    const auto it = streams_.find(stream_id);
    if (it == streams_.end() || it->second.cancelled) {
        return;
    }
    it->second.cancelled = true;
    // Fails only for lack of memory; the stream then ends with the connection.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
}

void h2_client_session::reset_too_large(std::int32_t id, stream& s, std::string detail) {
    s.too_large = std::move(detail);
    s.response = {};  // frees what was read so far
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}

void h2_client_session::check_content_length(std::int32_t id, stream& s) {
    if (!s.content_length) {
        return;  // none, or nghttp2 rejected it already
    }
    const auto length = *s.content_length;
    if (length > limits_.max_response_bytes) {
        reset_too_large(id,
                        s,
                        fmt::format("response body of {} bytes (Content-Length) over {} bytes",
                                    length,
                                    limits_.max_response_bytes));
    } else {
        s.response.body().reserve(length);
    }
}

void h2_client_session::close_stream(std::int32_t id, std::uint32_t error_code) {
    const auto it = streams_.find(id);
    if (it == streams_.end()) {
        return;
    }
    if (!it->second.cancelled && !it->second.answered) {
        events_.push_back(event_for(id, it->second, error_code));
    }
    forget_stream(it);
}

h2_client_session::stream& h2_client_session::open_stream(std::int32_t id) {
    if (spare_.empty()) {
        return streams_.try_emplace(id).first->second;
    }
    auto node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = id;
    auto body = std::move(node.mapped().body);
    node.mapped() = stream{};
    node.mapped().body = std::move(body);
    return streams_.insert(std::move(node)).position->second;
}

void h2_client_session::forget_stream(stream_map::iterator it) {
    // A burst of streams allocated and freed a node and a body each: the nodes are kept, as many
    // as streams may be open at once.
    auto node = streams_.extract(it);
    if (spare_.size() < limits_.max_streams) {
        spare_.push_back(std::move(node));
    }
}

h2_event h2_client_session::event_for(std::int32_t id, stream& s, std::uint32_t error_code) const {
    if (!s.too_large.empty()) {
        return h2_failure{id, h2_stream_failure::response_too_large, NGHTTP2_CANCEL, std::move(s.too_large)};
    }
    if (error_code == NGHTTP2_REFUSED_STREAM) {
        return h2_failure{id,
                          h2_stream_failure::refused,
                          error_code,
                          s.peer_reset ? std::string("the hub refused the stream (RST_STREAM REFUSED_STREAM)")
                          : goaway_ ? fmt::format("not processed: above the hub's GOAWAY last_stream_id {}",
                                                  goaway_->last_stream_id)
                                    : std::string("not processed: the connection is closing")};
    }
    if (s.peer_reset) {
        return h2_failure{id,
                          h2_stream_failure::reset,
                          error_code,
                          fmt::format("the hub reset the stream: RST_STREAM {}", error_name(error_code))};
    }
    // nghttp2 reset it for a malformed response; it names the fault for header blocks, not for a
    // body unlike its Content-Length (or where its status allows none).
    if (error_code == NGHTTP2_PROTOCOL_ERROR && s.invalid.empty()) {
        s.invalid = "the body does not fit its Content-Length or status";
    }
    return h2_failure{id,
                      h2_stream_failure::reset,
                      error_code,
                      fmt::format("we reset the stream: {}{}{}",
                                  error_name(error_code),
                                  s.invalid.empty() ? "" : ", the response was malformed: ",
                                  s.invalid)};
}

void h2_client_session::ping() {
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
}

void h2_client_session::shutdown() {
    if (shutdown_ || error_) {
        return;
    }
    shutdown_ = true;
    // last_stream_id names the peer's streams we processed: none, as we take no pushes.
    nghttp2_submit_goaway(session_,
                          NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_NO_ERROR,
                          nullptr,
                          0);
}

std::string_view h2_client_session::pending_output() {
    if (output_consumed_ < output_.size()) {
        return std::string_view(output_).substr(output_consumed_);
    }
    output_.clear();
    output_consumed_ = 0;
    while (output_.size() < output_batch_bytes) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
            fail(static_cast<int>(n), "writing HTTP/2 frames failed");
            break;
        }
        if (n == 0) {
            break;
        }
        output_.append(as_view(data, static_cast<std::size_t>(n)));
    }
    return output_;
}

void h2_client_session::consumed(std::size_t n) {
    output_consumed_ = std::min(output_consumed_ + n, output_.size());
}

std::vector<h2_event> h2_client_session::take_events() {
    return std::exchange(events_, {});
}

void h2_client_session::take_events(std::vector<h2_event>& out) {
    out.clear();
    out.swap(events_);
}

bool h2_client_session::alive() const {
    return !error_ && (nghttp2_session_want_read(session_) != 0 ||
                       nghttp2_session_want_write(session_) != 0 || output_consumed_ < output_.size());
}

}  // namespace nhpush::detail
