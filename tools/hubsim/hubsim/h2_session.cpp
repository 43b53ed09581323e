// One HTTP/2 server session over nghttp2: assembling requests, sending answers, injecting h2 faults.

#include "hubsim/h2_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

namespace nhpush::hubsim {

namespace http = boost::beast::http;

namespace {

/// Header fields HTTP/2 forbids in a message (RFC 9113 §8.2.2).
bool is_connection_specific(std::string_view lower_name) noexcept {
    return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "transfer-encoding" ||
           lower_name == "upgrade" || lower_name == "proxy-connection";
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

nghttp2_nv make_nv(const std::string& name, const std::string& value) noexcept {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())),
            name.size(),
            value.size(),
            NGHTTP2_NV_FLAG_NONE};
}

/// Padding headers for huge_headers: 32 × 4 KiB of 'x' (7 bits each in HPACK's Huffman code),
/// about 115 KiB on the wire, well over a 64 KiB header block.
constexpr int padding_headers = 32;
constexpr std::size_t padding_header_size = 4096;

}  // namespace

/// What one stream holds: the request as it arrives, then the answer until it is sent.
struct h2_session::stream {
    std::int32_t id = 0;
    request req;
    std::size_t header_bytes = 0;
    bool too_large = false;
    bool has_body = false;
    response res;
    std::size_t body_sent = 0;
    answer_mode mode = answer_mode::whole;
};

/// nghttp2's C callbacks, each forwarding to the session in `user_data`.
struct h2_session::callbacks {
    static h2_session& self(void* user_data) noexcept { return *static_cast<h2_session*>(user_data); }

    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
            return 0;
        }
        try {
            self(user_data).on_begin_request(frame->hd.stream_id);
        } catch (const std::exception&) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        return 0;
    }

    static int on_header(nghttp2_session*,
                         const nghttp2_frame* frame,
                         const std::uint8_t* name,
                         std::size_t namelen,
                         const std::uint8_t* value,
                         std::size_t valuelen,
                         std::uint8_t,
                         void* user_data) {
        auto* s = self(user_data).find(frame->hd.stream_id);
        if (s == nullptr || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
            return 0;  // trailers are ignored
        }
        s->header_bytes += namelen + valuelen + 32;
        if (s->header_bytes > h2_max_header_list) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM INTERNAL_ERROR
        }
        try {
            add_field(s->req,
                      {reinterpret_cast<const char*>(name), namelen},
                      {reinterpret_cast<const char*>(value), valuelen});
        } catch (const std::exception&) {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // no exception may cross nghttp2's C frames
        }
        return 0;
    }

    /// One request header field into the beast request the service reads.
    static void add_field(request& req, std::string_view name, std::string_view value) {
        if (name == ":method") {
            req.method_string(value);
        } else if (name == ":path") {
            req.target(value);
        } else if (name == ":authority") {
            if (req.find(http::field::host) == req.end()) {
                req.set(http::field::host, value);
            }
        } else if (!name.starts_with(':')) {
            req.insert(name, value);
        }
    }

    static int on_data_chunk(nghttp2_session*,
                             std::uint8_t,
                             std::int32_t stream_id,
                             const std::uint8_t* data,
                             std::size_t len,
                             void* user_data) {
        auto* s = self(user_data).find(stream_id);
        if (s == nullptr || s->too_large) {
            return 0;
        }
        s->has_body = true;
        auto& session = self(user_data);
        if (s->req.body().size() + len > h2_max_request_body ||
            session.buffered_body_ + len > h2_max_connection_body) {
            s->too_large = true;
            session.release_body(*s);  // the rest is only counted by flow control
            return 0;
        }
        s->req.body().append(reinterpret_cast<const char*>(data), len);
        session.buffered_body_ += len;
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        const bool ends_request = (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
                                  (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        auto& session = self(user_data);
        auto* s = session.find(frame->hd.stream_id);
        if (!ends_request || s == nullptr) {
            return 0;
        }
        // zero_window: a body sent before the client saw SETTINGS (legal within the default
        // window) is held too, so that no request with a body is ever answered.
        if (s->has_body && session.config_.misbehave == h2_misbehavior::zero_window) {
            return 0;
        }
        try {
            session.owner_.on_request(s->id, s->req, s->too_large);
        } catch (const std::exception&) {
            return NGHTTP2_ERR_CALLBACK_FAILURE;  // out of memory or similar: end the connection
        }
        session.release_body(*s);  // the owner has taken what it needs
        return 0;
    }

    static int on_frame_send(nghttp2_session* ng, const nghttp2_frame* frame, void* user_data) {
        auto& session = self(user_data);
        const auto type = frame->hd.type;
        if (type == NGHTTP2_GOAWAY) {
            thread_stats::bump(session.stats_.goaways_sent);
        } else if (type == NGHTTP2_RST_STREAM) {
            thread_stats::bump(session.stats_.streams_reset);
        }
        auto* s = session.find(frame->hd.stream_id);
        if (s == nullptr || (type != NGHTTP2_HEADERS && type != NGHTTP2_DATA)) {
            return 0;
        }
        const bool last = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if (type == NGHTTP2_HEADERS && s->mode == answer_mode::headers_then_reset) {
            nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
        }
        if ((type == NGHTTP2_HEADERS && s->mode == answer_mode::headers_then_close) ||
            (last && s->mode == answer_mode::close_after)) {
            session.must_close_ = true;
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t, void* user_data) {
        auto& session = self(user_data);
        auto* s = session.destroying_ ? nullptr : session.find(stream_id);
        if (s == nullptr) {
            return 0;
        }
        session.release_body(*s);
        session.streams_.erase(stream_id);
        session.owner_.on_stream_closed(stream_id);
        return 0;
    }

    static ssize_t read_body(nghttp2_session*,
                             std::int32_t,
                             std::uint8_t* buf,
                             std::size_t length,
                             std::uint32_t* data_flags,
                             nghttp2_data_source* source,
                             void*) {
        auto& s = *static_cast<stream*>(source->ptr);
        if (s.mode == answer_mode::headers_then_close || s.mode == answer_mode::headers_then_reset) {
            return NGHTTP2_ERR_DEFERRED;  // the body never comes
        }
        const auto& body = s.res.body();
        const auto n = std::min(length, body.size() - s.body_sent);
        std::memcpy(buf, body.data() + s.body_sent, n);
        s.body_sent += n;
        if (s.body_sent == body.size()) {
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }
};

namespace {

/// Callbacks and options are built per session: cheap next to a TLS handshake.
struct session_setup {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_option* options = nullptr;
    ~session_setup() {
        nghttp2_session_callbacks_del(cbs);
        nghttp2_option_del(options);
    }
};

}  // namespace

h2_session::h2_session(const http2_config& config, h2_session_owner& owner, thread_stats& stats)
    : config_(config), owner_(owner), stats_(stats) {
    session_setup setup;
    if (nghttp2_session_callbacks_new(&setup.cbs) != 0 || nghttp2_option_new(&setup.options) != 0) {
        throw std::bad_alloc();
    }
    using cb = callbacks;
    nghttp2_session_callbacks_set_on_begin_headers_callback(setup.cbs, cb::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(setup.cbs, cb::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(setup.cbs, cb::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(setup.cbs, cb::on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(setup.cbs, cb::on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(setup.cbs, cb::on_stream_close);
    const bool zero_window = config.misbehave == h2_misbehavior::zero_window;
    nghttp2_option_set_no_auto_window_update(setup.options, zero_window ? 1 : 0);
    // huge_headers sends header blocks over nghttp2's default 64 KiB sending limit.
    nghttp2_option_set_max_send_header_block_length(setup.options, 1024 * 1024);
    if (nghttp2_session_server_new2(&session_, setup.cbs, this, setup.options) != 0) {
        throw std::bad_alloc();
    }
    std::vector<nghttp2_settings_entry> settings{
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, config.max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(h2_max_header_list)}};
    if (zero_window) {
        settings.push_back({NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0});
    }
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
}

h2_session::~h2_session() {
    destroying_ = true;
    nghttp2_session_del(session_);
}

h2_session::stream* h2_session::find(std::int32_t id) noexcept {
    const auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

void h2_session::on_begin_request(std::int32_t id) {
    if (config_.goaway_after != 0 && streams_begun_ >= config_.goaway_after) {
        // Past the GOAWAY's last stream (it may not be on the wire yet, so nghttp2 still takes
        // streams): refuse, which tells the client it was not processed, as the GOAWAY will.
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    auto s = std::make_unique<stream>();
    s->id = id;
    s->req.version(20);
    streams_[id] = std::move(s);
    thread_stats::raise_to(stats_.max_open_streams, streams_.size());
    if (config_.goaway_after != 0 && ++streams_begun_ == config_.goaway_after) {
        // Streams after this one are ignored by nghttp2; this one and those before are answered.
        nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    }
}

void h2_session::release_body(stream& s) noexcept {
    buffered_body_ -= s.req.body().size();
    std::string().swap(s.req.body());
}

bool h2_session::receive(const std::uint8_t* data, std::size_t size) {
    return nghttp2_session_mem_recv(session_, data, size) >= 0;
}

bool h2_session::take_output(std::string& out, std::size_t limit) {
    while (out.size() < limit && !must_close_) {
        const std::uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            break;
        }
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    return true;
}

bool h2_session::alive() const noexcept {
    return nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0;
}

void h2_session::answer(std::int32_t stream_id, response res, answer_mode mode) {
    auto* s = find(stream_id);
    if (s == nullptr) {
        return;
    }
    s->res = std::move(res);
    s->mode = mode;
    const auto status = std::to_string(s->res.result_int());
    // Names and values live until nghttp2_submit_response returns (it copies them).
    std::vector<std::string> names, values;
    const std::size_t padding = config_.misbehave == h2_misbehavior::huge_headers ? padding_headers : 0;
    names.reserve(1 + std::distance(s->res.begin(), s->res.end()) + padding);
    values.reserve(names.capacity());
    names.emplace_back(":status"), values.push_back(status);
    for (const auto& f : s->res) {
        auto name = lowercase(f.name_string());
        if (!is_connection_specific(name)) {
            names.push_back(std::move(name));
            values.emplace_back(f.value());
        }
    }
    for (std::size_t i = 0; i < padding; ++i) {
        names.push_back("x-hubsim-padding-" + std::to_string(i));
        values.emplace_back(padding_header_size, 'x');
    }
    std::vector<nghttp2_nv> nv;
    nv.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        nv.push_back(make_nv(names[i], values[i]));
    }
    nghttp2_data_provider body{};
    body.source.ptr = s;
    body.read_callback = callbacks::read_body;
    const bool has_body = !s->res.body().empty() || mode == answer_mode::headers_then_close ||
                          mode == answer_mode::headers_then_reset;
    nghttp2_submit_response(session_, stream_id, nv.data(), nv.size(), has_body ? &body : nullptr);
}

void h2_session::reset(std::int32_t stream_id, stream_reset_code code) {
    if (find(stream_id) != nullptr) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, static_cast<std::uint32_t>(code));
    }
}

}  // namespace nhpush::hubsim
