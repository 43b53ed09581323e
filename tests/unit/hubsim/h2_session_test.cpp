// h2_session driven by an in-memory nghttp2 client: no sockets, no timers, no threads.

#include "hubsim/h2_session.hpp"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nhpush::hubsim {
namespace {

namespace http = boost::beast::http;

/// The owner side: records what the session hands over.
struct recording_owner final : h2_session_owner {
    struct received {
        std::int32_t id;
        request req;
        bool too_large;
    };
    std::vector<received> requests;
    std::vector<std::int32_t> closed;

    void on_request(std::int32_t id, const request& req, bool too_large) override {
        requests.push_back({id, req, too_large});
    }
    void on_stream_closed(std::int32_t id) override { closed.push_back(id); }
};

/// What the client saw of one stream.
struct client_stream {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::size_t header_bytes = 0;
    std::string body;
    bool headers_done = false;
    std::optional<std::uint32_t> reset_code;  ///< from a RST_STREAM the server sent
    bool closed = false;
};

/// A minimal nghttp2 client over memory.
class test_client {
public:
    test_client() {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
        nghttp2_option* options = nullptr;
        nghttp2_option_new(&options);
        nghttp2_option_set_max_continuations(options, 64);  // huge_headers must get through
        nghttp2_session_client_new2(&session_, cbs, this, options);
        nghttp2_option_del(options);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    ~test_client() { nghttp2_session_del(session_); }

    /// Submits a request; returns its stream id.
    std::int32_t submit(std::string_view method,
                        std::string_view path,
                        std::string body = {},
                        std::vector<std::pair<std::string, std::string>> extra = {}) {
        std::vector<std::pair<std::string, std::string>> fields{{":method", std::string(method)},
                                                                {":path", std::string(path)},
                                                                {":scheme", "https"},
                                                                {":authority", "127.0.0.1:8443"}};
        fields.insert(fields.end(), extra.begin(), extra.end());
        std::vector<nghttp2_nv> nv;
        for (auto& [n, v] : fields) {
            nv.push_back({reinterpret_cast<std::uint8_t*>(n.data()),
                          reinterpret_cast<std::uint8_t*>(v.data()),
                          n.size(),
                          v.size(),
                          NGHTTP2_NV_FLAG_NONE});
        }
        bodies_.push_back(std::make_unique<std::pair<std::string, std::size_t>>(std::move(body), 0));
        nghttp2_data_provider provider{};
        provider.source.ptr = bodies_.back().get();
        provider.read_callback = read_body;
        const bool has_body = !bodies_.back()->first.empty();
        return nghttp2_submit_request(
            session_, nullptr, nv.data(), nv.size(), has_body ? &provider : nullptr, nullptr);
    }

    /// Exchanges bytes with `server` until neither side has anything to send.
    void pump(h2_session& server) {
        for (int round = 0; round < 10'000; ++round) {
            std::string from_server;
            ASSERT_TRUE(server.take_output(from_server, 1 << 20));
            if (!from_server.empty()) {
                ASSERT_GE(nghttp2_session_mem_recv(session_,
                                                   reinterpret_cast<const std::uint8_t*>(from_server.data()),
                                                   from_server.size()),
                          0);
            }
            const bool client_sent = send_to(server);
            if (from_server.empty() && !client_sent) {
                return;
            }
            if (server.must_close()) {
                return;  // the server stops writing; the test reads what came
            }
        }
        FAIL() << "the sessions never went quiet";
    }

    /// Sends what the client has to `server` (before reading anything); false if it had nothing.
    bool send_to(h2_session& server) {
        std::string out;
        for (;;) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_, &data);
            if (n <= 0) {
                break;
            }
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        server.receive(reinterpret_cast<const std::uint8_t*>(out.data()), out.size());
        return !out.empty();
    }

    std::map<std::int32_t, client_stream> streams;
    std::optional<std::int32_t> goaway_last_stream;
    std::optional<std::uint32_t> initial_window;

private:
    static test_client& self(void* p) { return *static_cast<test_client*>(p); }

    static int on_header(nghttp2_session*,
                         const nghttp2_frame* frame,
                         const std::uint8_t* name,
                         std::size_t namelen,
                         const std::uint8_t* value,
                         std::size_t valuelen,
                         std::uint8_t,
                         void* p) {
        auto& s = self(p).streams[frame->hd.stream_id];
        const std::string n(reinterpret_cast<const char*>(name), namelen);
        const std::string v(reinterpret_cast<const char*>(value), valuelen);
        s.header_bytes += namelen + valuelen + 32;
        if (n == ":status") {
            s.status = std::stoi(v);
        } else {
            s.headers[n] = v;
        }
        return 0;
    }
    static int on_data(
        nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d, std::size_t n, void* p) {
        self(p).streams[id].body.append(reinterpret_cast<const char*>(d), n);
        return 0;
    }
    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* p) {
        auto& c = self(p);
        if (frame->hd.type == NGHTTP2_HEADERS) {
            c.streams[frame->hd.stream_id].headers_done = true;
        } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
            c.streams[frame->hd.stream_id].reset_code = frame->rst_stream.error_code;
        } else if (frame->hd.type == NGHTTP2_GOAWAY) {
            c.goaway_last_stream = frame->goaway.last_stream_id;
        } else if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
            for (std::size_t i = 0; i < frame->settings.niv; ++i) {
                if (frame->settings.iv[i].settings_id == NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE) {
                    c.initial_window = frame->settings.iv[i].value;
                }
            }
        }
        return 0;
    }
    static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* p) {
        self(p).streams[id].closed = true;
        return 0;
    }
    static ssize_t read_body(nghttp2_session*,
                             std::int32_t,
                             std::uint8_t* buf,
                             std::size_t length,
                             std::uint32_t* flags,
                             nghttp2_data_source* source,
                             void*) {
        auto& [body, sent] = *static_cast<std::pair<std::string, std::size_t>*>(source->ptr);
        const auto n = std::min(length, body.size() - sent);
        std::memcpy(buf, body.data() + sent, n);
        sent += n;
        if (sent == body.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        }
        return static_cast<ssize_t>(n);
    }

    nghttp2_session* session_ = nullptr;
    std::vector<std::unique_ptr<std::pair<std::string, std::size_t>>> bodies_;
};

response make_response(unsigned status, std::string body = {}) {
    response res{static_cast<http::status>(status), 20};
    res.set(http::field::server, "nhpush-hubsim");
    res.set("TrackingId", "abc");
    res.set(http::field::connection, "keep-alive");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

struct hubsim_h2_session : ::testing::Test {
    http2_config config;
    thread_stats stats;
    recording_owner owner;
    test_client client;
    std::unique_ptr<h2_session> server;

    void start() { server = std::make_unique<h2_session>(config, owner, stats); }
    void SetUp() override { start(); }
};

TEST_F(hubsim_h2_session, HandsOverRequestsAndSendsAnswersInAnyOrder) {
    const auto a =
        client.submit("POST",
                      "/hub/messages?api-version=2020-06",
                      "payload-a",
                      {{"content-type", "application/json"}, {"servicebusnotification-format", "apple"}});
    const auto b = client.submit("GET", "/$stats");
    client.pump(*server);
    ASSERT_EQ(owner.requests.size(), 2u);
    const auto& first = owner.requests[0].id == a ? owner.requests[0] : owner.requests[1];
    const auto& req = first.req;
    EXPECT_EQ(first.id, a);
    EXPECT_EQ(req.method(), http::verb::post);
    EXPECT_EQ(req.target(), "/hub/messages?api-version=2020-06");
    EXPECT_EQ(req[http::field::host], "127.0.0.1:8443");
    EXPECT_EQ(req["ServiceBusNotification-Format"], "apple");
    EXPECT_EQ(req.body(), "payload-a");
    EXPECT_EQ(server->open_streams(), 2u);
    server->answer(b, make_response(200, "{}"), answer_mode::whole);
    server->answer(a, make_response(201), answer_mode::whole);
    client.pump(*server);
    EXPECT_EQ(client.streams[a].status, 201);
    EXPECT_EQ(client.streams[a].headers["trackingid"], "abc");
    EXPECT_EQ(client.streams[a].headers.count("connection"), 0u);  // forbidden in HTTP/2
    EXPECT_TRUE(client.streams[a].closed);
    EXPECT_EQ(client.streams[b].status, 200);
    EXPECT_EQ(client.streams[b].body, "{}");
    EXPECT_EQ(server->open_streams(), 0u);
    EXPECT_EQ(owner.closed.size(), 2u);
    EXPECT_EQ(stats.max_open_streams.load(), 2u);
}

TEST_F(hubsim_h2_session, MaxOpenStreamsIsTheHighestConcurrency) {
    config.max_streams = 5;
    start();
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 8; ++i) {
        ids.push_back(client.submit("GET", "/$stats"));
    }
    client.pump(*server);
    EXPECT_EQ(owner.requests.size(), 5u);  // the client holds the rest back: SETTINGS said 5
    EXPECT_EQ(stats.max_open_streams.load(), 5u);
    for (auto& r : std::vector(owner.requests)) {
        server->answer(r.id, make_response(200), answer_mode::whole);
    }
    client.pump(*server);
    EXPECT_EQ(owner.requests.size(), 8u);
    EXPECT_EQ(stats.max_open_streams.load(), 5u);
}

TEST_F(hubsim_h2_session, GoawayAfterNNamesTheNthStreamAndEndsWhenTheyAreAnswered) {
    config.goaway_after = 2;
    start();
    client.submit("GET", "/$stats");
    const auto second = client.submit("GET", "/$stats");
    const auto third = client.submit("GET", "/$stats");
    client.pump(*server);  // all three arrive together, before the GOAWAY is on the wire
    ASSERT_EQ(owner.requests.size(), 2u);
    EXPECT_EQ(client.goaway_last_stream, second);
    EXPECT_EQ(client.streams[third].reset_code, NGHTTP2_REFUSED_STREAM);
    EXPECT_EQ(stats.goaways_sent.load(), 1u);
    EXPECT_TRUE(server->alive());
    for (const auto& r : owner.requests) {
        server->answer(r.id, make_response(200), answer_mode::whole);
    }
    client.pump(*server);
    EXPECT_EQ(client.streams[second].status, 200);
    EXPECT_FALSE(server->alive());
}

TEST_F(hubsim_h2_session, ResetsCarryTheirCode) {
    const auto refused = client.submit("GET", "/$stats");
    const auto internal = client.submit("GET", "/$stats");
    client.pump(*server);
    server->reset(refused, stream_reset_code::refused_stream);
    server->reset(internal, stream_reset_code::internal_error);
    client.pump(*server);
    EXPECT_EQ(client.streams[refused].reset_code, NGHTTP2_REFUSED_STREAM);
    EXPECT_EQ(client.streams[internal].reset_code, NGHTTP2_INTERNAL_ERROR);
    EXPECT_EQ(stats.streams_reset.load(), 2u);
}

TEST_F(hubsim_h2_session, HeadersThenResetSendsNoBody) {
    const auto id = client.submit("GET", "/$stats");
    client.pump(*server);
    server->answer(id, make_response(200, "never sent"), answer_mode::headers_then_reset);
    client.pump(*server);
    EXPECT_EQ(client.streams[id].status, 200);
    EXPECT_TRUE(client.streams[id].headers_done);
    EXPECT_EQ(client.streams[id].body, "");
    EXPECT_EQ(client.streams[id].reset_code, NGHTTP2_INTERNAL_ERROR);
}

TEST_F(hubsim_h2_session, HeadersThenCloseAndCloseAfterAskToClose) {
    const auto first = client.submit("GET", "/$stats");
    client.pump(*server);
    server->answer(first, make_response(200, "all of it"), answer_mode::close_after);
    client.pump(*server);
    EXPECT_EQ(client.streams[first].body, "all of it");
    EXPECT_TRUE(server->must_close());
    start();  // a new connection
    test_client other;
    const auto id = other.submit("GET", "/$stats");
    other.pump(*server);
    server->answer(id, make_response(200, "cut off"), answer_mode::headers_then_close);
    other.pump(*server);
    EXPECT_TRUE(server->must_close());
    EXPECT_EQ(other.streams[id].status, 200);
    EXPECT_EQ(other.streams[id].body, "");
}

TEST_F(hubsim_h2_session, HugeHeadersSendsAHeaderListOver64KiB) {
    config.misbehave = h2_misbehavior::huge_headers;
    start();
    const auto id = client.submit("GET", "/$stats");
    client.pump(*server);
    server->answer(id, make_response(200, "x"), answer_mode::whole);
    client.pump(*server);
    EXPECT_EQ(client.streams[id].status, 200);
    EXPECT_GT(client.streams[id].header_bytes, 64u * 1024);
}

TEST_F(hubsim_h2_session, ARequestHeaderListOver64KiBResetsTheStream) {
    const auto id = client.submit("GET", "/$stats", {}, {{"x-big", std::string(70 * 1024, 'a')}});
    client.pump(*server);
    EXPECT_TRUE(owner.requests.empty());
    EXPECT_TRUE(client.streams[id].reset_code.has_value() || client.streams[id].closed);
}

TEST_F(hubsim_h2_session, ABodyOver1MiBIsDiscardedAndFlagged) {
    const auto id = client.submit("POST", "/hub/messages", std::string(h2_max_request_body + 1, 'b'));
    client.pump(*server);
    ASSERT_EQ(owner.requests.size(), 1u);
    EXPECT_EQ(owner.requests[0].id, id);
    EXPECT_TRUE(owner.requests[0].too_large);
    EXPECT_TRUE(owner.requests[0].req.body().empty());
}

TEST_F(hubsim_h2_session, BodiesOnAConnectionAreHeldTo8MiBTogether) {
    for (int i = 0; i < 9; ++i) {  // 9 MiB of bodies arriving side by side
        client.submit("POST", "/hub/messages", std::string(h2_max_request_body, 'b'));
    }
    client.pump(*server);
    ASSERT_EQ(owner.requests.size(), 9u);
    const auto refused = std::count_if(
        owner.requests.begin(), owner.requests.end(), [](const auto& r) { return r.too_large; });
    EXPECT_GE(refused, 1);
    EXPECT_LE(refused, 8);
    // Bodies are let go once handed over (or refused): the budget is whole again.
    owner.requests.clear();
    for (int i = 0; i < 7; ++i) {
        client.submit("POST", "/hub/messages", std::string(h2_max_request_body, 'c'));
    }
    client.pump(*server);
    ASSERT_EQ(owner.requests.size(), 7u);
    for (const auto& r : owner.requests) {
        EXPECT_FALSE(r.too_large);
        EXPECT_EQ(r.req.body().size(), h2_max_request_body);
    }
}

TEST_F(hubsim_h2_session, ZeroWindowAnnouncesWindow0AndNeverAnswersABody) {
    config.misbehave = h2_misbehavior::zero_window;
    start();
    // Sent before the server's SETTINGS arrive: the default window lets the body go out.
    client.submit("POST", "/hub/messages", "early body");
    client.send_to(*server);
    client.pump(*server);
    EXPECT_EQ(client.initial_window, 0u);
    EXPECT_TRUE(owner.requests.empty());
    const auto late = client.submit("POST", "/hub/messages", "late body");
    const auto no_body = client.submit("GET", "/$stats");
    client.pump(*server);
    ASSERT_EQ(owner.requests.size(), 1u);
    EXPECT_EQ(owner.requests[0].id, no_body);
    EXPECT_FALSE(client.streams[late].closed);
}

}  // namespace
}  // namespace nhpush::hubsim
