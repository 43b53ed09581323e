// h2_client_session against an in-memory nghttp2 server session: bytes are pumped both ways until
// neither side has anything to say, and the tests look at what each side saw.

#include "sender/h2_session.hpp"

#include <nhpush/response.hpp>

#include <nghttp2/nghttp2.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace nhpush;
using namespace nhpush::detail;
namespace http = boost::beast::http;

namespace {

using field_list = std::vector<std::pair<std::string, std::string>>;

/// An HTTP/2 server that records what it receives and answers when a test tells it to.
class test_server {
public:
    struct request {
        field_list fields;  // in order, pseudo-headers included
        std::string body;
        bool ended = false;

        std::optional<std::string> field(std::string_view name) const {
            for (const auto& [n, v] : fields) {
                if (n == name) {
                    return v;
                }
            }
            return std::nullopt;
        }
    };

    explicit test_server(
        std::vector<nghttp2_settings_entry> settings = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}},
        bool send_settings = true) {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cbs, &on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &on_data_chunk);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &on_frame_recv);
        nghttp2_session_server_new(&session_, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        if (send_settings) {
            change_settings(std::move(settings));
        }
    }
    ~test_server() { nghttp2_session_del(session_); }
    test_server(const test_server&) = delete;
    nghttp2_session* session() { return session_; }
    test_server& operator=(const test_server&) = delete;

    void feed(std::string_view bytes) {
        const auto n =
            nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ASSERT_EQ(n, static_cast<ssize_t>(bytes.size())) << nghttp2_strerror(static_cast<int>(n));
    }

    std::string drain() {
        std::string out;
        for (;;) {
            const uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_, &data);
            if (n <= 0) {
                return out;
            }
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
    }

    void respond(std::int32_t id,
                 int status,
                 const field_list& fields = {},
                 std::string body = "",
                 field_list trailers = {}) {
        auto nv = make_nv(status, fields);
        if (body.empty()) {
            ASSERT_EQ(nghttp2_submit_response(session_, id, nv.data(), nv.size(), nullptr), 0);
            return;
        }
        auto& source = bodies_[id];
        source = {std::move(body), 0, std::move(trailers)};
        nghttp2_data_provider provider{};
        provider.source.ptr = &source;
        provider.read_callback = &read_body;
        ASSERT_EQ(nghttp2_submit_response(session_, id, nv.data(), nv.size(), &provider), 0);
    }

    /// Response headers without END_STREAM: the body is to follow (or not).
    void respond_headers_only(std::int32_t id, int status) {
        auto nv = make_nv(status, {});
        ASSERT_EQ(
            nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, nv.data(), nv.size(), nullptr),
            0);
    }

    void reset(std::int32_t id, std::uint32_t code) {
        ASSERT_EQ(nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code), 0);
    }

    void goaway(std::int32_t last_stream_id,
                std::uint32_t code = NGHTTP2_NO_ERROR,
                std::string_view debug = "") {
        ASSERT_EQ(nghttp2_submit_goaway(session_,
                                        NGHTTP2_FLAG_NONE,
                                        last_stream_id,
                                        code,
                                        reinterpret_cast<const uint8_t*>(debug.data()),
                                        debug.size()),
                  0);
    }

    void change_settings(std::vector<nghttp2_settings_entry> settings) {
        ASSERT_EQ(nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size()), 0);
    }

    std::map<std::int32_t, request> requests;
    std::map<std::int32_t, std::uint32_t> resets_received;  // stream → error code
    bool goaway_received = false;

private:
    struct body_source {
        std::string data;
        std::size_t sent = 0;
        field_list trailers;  // sent after the body, in a HEADERS frame with END_STREAM
    };

    static std::vector<nghttp2_nv> make_nv(int status, const field_list& fields) {
        // nghttp2 copies names and values: the strings need not outlive the submit call.
        static thread_local std::string status_text;
        status_text = std::to_string(status);
        std::vector<nghttp2_nv> nv{nv_of(":status", status_text)};
        for (const auto& [n, v] : fields) {
            nv.push_back(nv_of(n, v));
        }
        return nv;
    }

    static nghttp2_nv nv_of(std::string_view name, std::string_view value) {
        return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                name.size(),
                value.size(),
                NGHTTP2_NV_FLAG_NONE};
    }

    static test_server& self(void* user_data) { return *static_cast<test_server*>(user_data); }

    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            self(user_data).requests[frame->hd.stream_id] = {};
        }
        return 0;
    }

    static int on_header(nghttp2_session*,
                         const nghttp2_frame* frame,
                         const uint8_t* name,
                         size_t name_size,
                         const uint8_t* value,
                         size_t value_size,
                         uint8_t,
                         void* user_data) {
        self(user_data).requests[frame->hd.stream_id].fields.emplace_back(
            std::string(reinterpret_cast<const char*>(name), name_size),
            std::string(reinterpret_cast<const char*>(value), value_size));
        return 0;
    }

    static int on_data_chunk(
        nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t size, void* user_data) {
        self(user_data).requests[id].body.append(reinterpret_cast<const char*>(data), size);
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
        auto& me = self(user_data);
        const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end) {
            me.requests[frame->hd.stream_id].ended = true;
        } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
            me.resets_received[frame->hd.stream_id] = frame->rst_stream.error_code;
        } else if (frame->hd.type == NGHTTP2_GOAWAY) {
            me.goaway_received = true;
        }
        return 0;
    }

    static ssize_t read_body(nghttp2_session* session,
                             int32_t id,
                             uint8_t* buf,
                             size_t length,
                             uint32_t* flags,
                             nghttp2_data_source* source,
                             void*) {
        auto& s = *static_cast<body_source*>(source->ptr);
        const auto n = std::min(length, s.data.size() - s.sent);
        std::memcpy(buf, s.data.data() + s.sent, n);
        s.sent += n;
        if (s.sent == s.data.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            if (!s.trailers.empty()) {
                std::vector<nghttp2_nv> nv;
                for (const auto& [name, value] : s.trailers) {
                    nv.push_back(nv_of(name, value));
                }
                *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                if (nghttp2_submit_trailer(session, id, nv.data(), nv.size()) != 0) {
                    return NGHTTP2_ERR_CALLBACK_FAILURE;
                }
            }
        }
        return static_cast<ssize_t>(n);
    }

    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, body_source> bodies_;  // a map: the providers point at the values
};

/// Moves bytes both ways until neither side has more; returns all the client wrote.
std::string pump(h2_client_session& client, test_server& server) {
    std::string client_wrote;
    for (int round = 0; round < 10'000; ++round) {
        bool moved = false;
        if (const auto out = client.pending_output(); !out.empty()) {
            client_wrote.append(out);
            server.feed(out);
            client.consumed(out.size());
            moved = true;
        }
        if (const auto in = server.drain(); !in.empty()) {
            const auto ec = client.receive(in);
            EXPECT_FALSE(ec) << client.error_detail();
            moved = true;
        }
        if (!moved) {
            return client_wrote;
        }
    }
    ADD_FAILURE() << "the connection never went quiet";
    return client_wrote;
}

const std::string hub_host = "ns.servicebus.windows.net";
const std::string send_target = "/hub/messages?api-version=2020-06";

hub_request make_request(std::string body = R"({"aps":{"alert":"hi"}})") {
    hub_request req{http::verb::post, send_target, 11};
    req.set(http::field::host, hub_host);
    req.set(http::field::authorization, "SharedAccessSignature sr=x&sig=y&se=1&skn=z");
    req.set(http::field::content_type, "application/json;charset=utf-8");
    req.set("ServiceBusNotification-Format", "apple");
    req.set(http::field::connection, "keep-alive");
    req.set(http::field::keep_alive, "timeout=5");
    req.set(http::field::upgrade, "h2c");
    req.set(http::field::te, "gzip");
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

const h2_answer& answer_of(const h2_event& e) {
    EXPECT_TRUE(std::holds_alternative<h2_answer>(e)) << "a failure: " << std::get<h2_failure>(e).detail;
    return std::get<h2_answer>(e);
}

const h2_failure& failure_of(const h2_event& e) {
    EXPECT_TRUE(std::holds_alternative<h2_failure>(e)) << "an answer";
    return std::get<h2_failure>(e);
}

std::int32_t stream_of(const h2_event& e) {
    return std::visit([](const auto& v) { return v.stream_id; }, e);
}

/// A client and a server that exchanged their SETTINGS.
struct connected {
    explicit connected(
        h2_limits limits = {},
        std::vector<nghttp2_settings_entry> settings = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}})
        : client(limits), server(std::move(settings)) {
        pump(client, server);
    }
    h2_client_session client;
    test_server server;
};

TEST(h2_session, request_gets_a_201_answer_and_the_server_sees_the_request_exactly) {
    connected c;
    ASSERT_TRUE(c.client.settings_received());
    ASSERT_TRUE(c.client.can_submit());
    const auto body = std::string(R"({"aps":{"alert":"hi"}})");
    const auto id = c.client.submit(make_request(body));
    EXPECT_EQ(id, 1);
    EXPECT_EQ(c.client.open_streams(), 1u);
    pump(c.client, c.server);

    const auto& seen = c.server.requests.at(id);
    const field_list expected{
        {":method", "POST"},
        {":scheme", "https"},
        {":authority", hub_host},
        {":path", send_target},
        {"authorization", "SharedAccessSignature sr=x&sig=y&se=1&skn=z"},
        {"content-type", "application/json;charset=utf-8"},
        {"servicebusnotification-format", "apple"},
        {"content-length", std::to_string(body.size())},
    };
    EXPECT_EQ(seen.fields, expected);  // no Host, Connection, Keep-Alive, Upgrade, TE
    EXPECT_EQ(seen.body, body);
    EXPECT_TRUE(seen.ended);

    const std::string location = "https://" + hub_host + "/hub/messages/6000123?api-version=2020-06";
    c.server.respond(id,
                     201,
                     {{"location", location}, {"trackingid", "track-1"}, {"content-type", "application/xml"}},
                     "<ok/>");
    pump(c.client, c.server);
    auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& answer = answer_of(events[0]);
    EXPECT_EQ(answer.stream_id, id);
    EXPECT_EQ(answer.message.result_int(), 201u);
    EXPECT_EQ(answer.message[http::field::location], location);
    EXPECT_EQ(answer.message["TrackingId"], "track-1");
    EXPECT_EQ(answer.message.body(), "<ok/>");
    const auto classified = classify_response(answer.message, std::chrono::system_clock::now());
    EXPECT_EQ(classified.kind, response_kind::success);
    EXPECT_EQ(classified.notification_id, "6000123");
    EXPECT_EQ(classified.tracking_id, "track-1");
    EXPECT_EQ(c.client.open_streams(), 0u);
    EXPECT_TRUE(c.client.take_events().empty());
    EXPECT_TRUE(c.client.alive());
}

TEST(h2_session, without_all_response_fields_an_answer_keeps_what_classification_reads) {
    const field_list fields{{"server", "hub"},
                            {"retry-after", "7"},
                            {"trackingid", "track-2"},
                            {"content-type", "application/xml"},
                            {"location", "https://" + hub_host + "/hub/messages/42?api-version=2020-06"}};
    const auto answer = [&](bool all_fields) {
        connected c{h2_limits{.all_response_fields = all_fields}};
        const auto id = c.client.submit(make_request());
        pump(c.client, c.server);
        c.server.respond(id, 429, fields, "<Error><Code>429</Code><Detail>slow down</Detail></Error>");
        pump(c.client, c.server);
        auto events = c.client.take_events();
        EXPECT_EQ(events.size(), 1u);
        return answer_of(events.at(0)).message;
    };
    const auto all = answer(true);
    const auto some = answer(false);
    EXPECT_EQ(std::distance(all.begin(), all.end()), 5);
    EXPECT_EQ(std::distance(some.begin(), some.end()), 3);
    EXPECT_EQ(some["server"], "");
    EXPECT_EQ(some[http::field::location], all[http::field::location]);
    const auto now = std::chrono::system_clock::now();
    const auto a = classify_response(all, now);
    const auto b = classify_response(some, now);
    EXPECT_EQ(b.kind, a.kind);
    EXPECT_EQ(b.throttled, a.throttled);
    EXPECT_EQ(b.retry_after, a.retry_after);
    EXPECT_EQ(b.tracking_id, "track-2");
    EXPECT_EQ(b.error_detail, a.error_detail);
}

TEST(h2_session, a_request_without_body_ends_the_stream_with_its_headers) {
    connected c;
    hub_request req{http::verb::get, "/hub/messages/42?api-version=2020-06", 11};
    req.set(http::field::host, hub_host);
    const auto id = c.client.submit(req);
    pump(c.client, c.server);
    const auto& seen = c.server.requests.at(id);
    EXPECT_EQ(seen.field(":method"), "GET");
    EXPECT_TRUE(seen.ended);
    EXPECT_TRUE(seen.body.empty());
    c.server.respond(id, 200, {}, "<outcome/>");
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(answer_of(events[0]).message.body(), "<outcome/>");
}

TEST(h2_session, hundred_concurrent_streams_answered_out_of_order_map_to_their_stream_ids) {
    connected c;
    std::map<std::int32_t, std::string> sent;  // stream → request body
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(c.client.can_submit()) << i;
        auto body = "notification " + std::to_string(i);
        sent[c.client.submit(make_request(body))] = body;
    }
    EXPECT_FALSE(c.client.can_submit());
    EXPECT_EQ(c.client.open_streams(), 100u);
    pump(c.client, c.server);
    ASSERT_EQ(c.server.requests.size(), 100u);

    // The server answers with the body it received, the last stream first, odd positions apart.
    std::vector<std::int32_t> order;
    for (const auto& [id, req] : c.server.requests) {
        order.push_back(id);
    }
    std::reverse(order.begin(), order.end());
    std::stable_partition(order.begin(), order.end(), [](std::int32_t id) { return id % 4 == 1; });
    for (const auto id : order) {
        c.server.respond(id, 201, {}, "echo " + c.server.requests.at(id).body);
    }
    pump(c.client, c.server);

    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 100u);
    std::map<std::int32_t, int> seen;
    for (const auto& e : events) {
        const auto& answer = answer_of(e);
        EXPECT_EQ(answer.message.body(), "echo " + sent.at(answer.stream_id));
        ++seen[answer.stream_id];
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_EQ(c.client.open_streams(), 0u);
    EXPECT_TRUE(c.client.can_submit());
}

TEST(h2_session, the_peers_max_concurrent_streams_limits_can_submit) {
    h2_client_session client{h2_limits{}};
    test_server server{{{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 2}}};
    EXPECT_EQ(client.peer_max_concurrent_streams(), 100u);  // RFC 9113's suggestion until SETTINGS
    pump(client, server);
    EXPECT_EQ(client.peer_max_concurrent_streams(), 2u);

    const auto first = client.submit(make_request());
    ASSERT_TRUE(client.can_submit());
    client.submit(make_request());
    EXPECT_FALSE(client.can_submit());
    pump(client, server);
    EXPECT_EQ(server.requests.size(), 2u);

    server.respond(first, 201);
    pump(client, server);
    ASSERT_EQ(client.take_events().size(), 1u);
    EXPECT_EQ(client.open_streams(), 1u);
    EXPECT_TRUE(client.can_submit());
}

TEST(h2_session, our_max_streams_limits_can_submit) {
    connected c{h2_limits{.max_streams = 3}};
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.client.can_submit());
        c.client.submit(make_request());
    }
    EXPECT_FALSE(c.client.can_submit());
}

TEST(h2_session, max_concurrent_streams_lowered_mid_connection_is_honoured) {
    connected c;
    const auto first = c.client.submit(make_request());
    const auto second = c.client.submit(make_request());
    pump(c.client, c.server);
    EXPECT_TRUE(c.client.can_submit());

    c.server.change_settings({{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1}});
    pump(c.client, c.server);
    EXPECT_EQ(c.client.peer_max_concurrent_streams(), 1u);
    EXPECT_FALSE(c.client.can_submit());

    c.server.respond(first, 201);
    pump(c.client, c.server);
    EXPECT_FALSE(c.client.can_submit());  // one still open, of one allowed
    c.server.respond(second, 201);
    pump(c.client, c.server);
    EXPECT_EQ(c.client.take_events().size(), 2u);
    ASSERT_TRUE(c.client.can_submit());
    c.client.submit(make_request());
    EXPECT_FALSE(c.client.can_submit());
}

TEST(h2_session, goaway_refuses_the_streams_above_its_last_stream_id) {
    connected c;
    const auto s1 = c.client.submit(make_request());
    const auto s3 = c.client.submit(make_request());
    const auto s5 = c.client.submit(make_request());
    ASSERT_EQ((std::vector{s1, s3, s5}), (std::vector{1, 3, 5}));
    pump(c.client, c.server);

    c.server.goaway(1, NGHTTP2_NO_ERROR, "maintenance");
    pump(c.client, c.server);
    ASSERT_TRUE(c.client.goaway().has_value());
    EXPECT_EQ(c.client.goaway()->last_stream_id, 1);
    EXPECT_EQ(c.client.goaway()->error_code, NGHTTP2_NO_ERROR);
    EXPECT_EQ(c.client.goaway()->debug_data, "maintenance");
    EXPECT_FALSE(c.client.can_submit());
    auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 2u);
    for (const auto& [e, id] : {std::pair{&events[0], s3}, std::pair{&events[1], s5}}) {
        const auto& failure = failure_of(*e);
        EXPECT_EQ(failure.stream_id, id);
        EXPECT_EQ(failure.why, h2_stream_failure::refused);
        EXPECT_EQ(failure.error_code, NGHTTP2_REFUSED_STREAM);
    }
    EXPECT_TRUE(c.client.alive());  // stream 1 is still to be answered

    c.server.respond(s1, 201);
    pump(c.client, c.server);
    events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(answer_of(events[0]).stream_id, s1);
    EXPECT_FALSE(c.client.alive());
    EXPECT_FALSE(c.client.can_submit());
}

TEST(h2_session, requests_not_yet_sent_when_goaway_arrives_are_refused) {
    connected c;
    const auto id = c.client.submit(make_request());
    c.server.goaway(0);
    c.client.receive(c.server.drain());
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(failure_of(events[0]).stream_id, id);
    EXPECT_EQ(failure_of(events[0]).why, h2_stream_failure::refused);
    EXPECT_TRUE(c.server.requests.empty());
    EXPECT_FALSE(c.client.alive());
}

TEST(h2_session, rst_stream_refused_stream_is_refused) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.reset(id, NGHTTP2_REFUSED_STREAM);
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& failure = failure_of(events[0]);
    EXPECT_EQ(failure.stream_id, id);
    EXPECT_EQ(failure.why, h2_stream_failure::refused);
    EXPECT_EQ(failure.error_code, NGHTTP2_REFUSED_STREAM);
    EXPECT_EQ(c.client.open_streams(), 0u);
    EXPECT_TRUE(c.client.can_submit());
}

TEST(h2_session, rst_stream_internal_error_is_a_reset_naming_the_code) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.reset(id, NGHTTP2_INTERNAL_ERROR);
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& failure = failure_of(events[0]);
    EXPECT_EQ(failure.why, h2_stream_failure::reset);
    EXPECT_EQ(failure.error_code, NGHTTP2_INTERNAL_ERROR);
    EXPECT_NE(failure.detail.find("INTERNAL_ERROR"), std::string::npos) << failure.detail;
}

TEST(h2_session, a_reset_after_the_response_headers_before_the_body_is_a_reset) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond_headers_only(id, 201);
    pump(c.client, c.server);
    EXPECT_TRUE(c.client.take_events().empty());
    c.server.reset(id, NGHTTP2_CANCEL);
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(failure_of(events[0]).why, h2_stream_failure::reset);
    EXPECT_EQ(failure_of(events[0]).error_code, NGHTTP2_CANCEL);
}

TEST(h2_session, a_malformed_response_is_reset_by_us) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 201, {{"content-length", "10"}}, "four");  // 4 bytes of 10
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& failure = failure_of(events[0]);
    EXPECT_EQ(failure.why, h2_stream_failure::reset);
    EXPECT_EQ(failure.error_code, NGHTTP2_PROTOCOL_ERROR);
    EXPECT_EQ(failure.detail,
              "we reset the stream: PROTOCOL_ERROR, the response was malformed: the body does not fit its "
              "Content-Length or status");
    EXPECT_EQ(c.server.resets_received.at(id), NGHTTP2_PROTOCOL_ERROR);
    EXPECT_TRUE(c.client.alive());
}

TEST(h2_session, answers_read_one_byte_at_a_time_are_whole) {
    connected c;
    const auto a = c.client.submit(make_request());
    const auto b = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(b, 201, {{"trackingid", "b"}}, "second");
    c.server.respond(a, 400, {{"trackingid", "a"}}, "<Error><Code>400</Code></Error>");
    for (const char byte : c.server.drain()) {
        ASSERT_FALSE(c.client.receive({&byte, 1})) << c.client.error_detail();
    }
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(answer_of(events[0]).stream_id, b);
    EXPECT_EQ(answer_of(events[0]).message.body(), "second");
    EXPECT_EQ(answer_of(events[1]).stream_id, a);
    EXPECT_EQ(answer_of(events[1]).message.result_int(), 400u);
    EXPECT_EQ(answer_of(events[1]).message["trackingid"], "a");
}

TEST(h2_session, a_response_after_a_100_continue_is_the_final_one) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond_headers_only(id, 100);
    c.server.respond(id, 201, {{"trackingid", "t"}}, "done");
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& answer = answer_of(events[0]);
    EXPECT_EQ(answer.message.result_int(), 201u);
    EXPECT_EQ(answer.message["trackingid"], "t");
    EXPECT_EQ(answer.message.body(), "done");
}

TEST(h2_session, trailers_end_the_answer_and_are_not_fields) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 201, {{"trackingid", "t"}}, "body", {{"x-checksum", "abc"}});
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto& answer = answer_of(events[0]);
    EXPECT_EQ(answer.message.result_int(), 201u);
    EXPECT_EQ(answer.message.body(), "body");
    EXPECT_EQ(answer.message["trackingid"], "t");
    EXPECT_EQ(answer.message.count("x-checksum"), 0u);
}

TEST(h2_session, the_windows_let_large_and_many_answers_through_without_waiting) {
    connected c{h2_limits{.max_response_bytes = 2 << 20, .connection_window = 32 << 20}};
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    // What the server may send before any WINDOW_UPDATE: the whole of a body at the limit.
    EXPECT_EQ(nghttp2_session_get_remote_window_size(c.server.session()), 32 << 20);
    EXPECT_EQ(nghttp2_session_get_stream_remote_window_size(c.server.session(), id), 2 << 20);
    c.server.respond(id, 200, {}, std::string(2 << 20, 'w'));
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(answer_of(events[0]).message.body().size(), std::size_t{2 << 20});
}

TEST(h2_session, a_header_list_over_the_limit_fails_that_stream_only) {
    connected c{h2_limits{.max_header_bytes = 1024}};
    const auto big = c.client.submit(make_request());
    const auto fine = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(big, 201, {{"x-big", std::string(2000, 'x')}}, "big");
    c.server.respond(fine, 201, {{"x-small", "y"}}, "fine");
    pump(c.client, c.server);

    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 2u);
    std::map<std::int32_t, const h2_event*> by_stream;
    for (const auto& e : events) {
        by_stream[stream_of(e)] = &e;
    }
    const auto& failure = failure_of(*by_stream.at(big));
    EXPECT_EQ(failure.why, h2_stream_failure::response_too_large);
    EXPECT_EQ(failure.error_code, NGHTTP2_CANCEL);
    EXPECT_NE(failure.detail.find("header"), std::string::npos) << failure.detail;
    EXPECT_EQ(answer_of(*by_stream.at(fine)).message.body(), "fine");
    EXPECT_EQ(c.server.resets_received.at(big), NGHTTP2_CANCEL);
    EXPECT_TRUE(c.client.alive());
}

TEST(h2_session, a_body_over_the_limit_is_too_large) {
    connected c{h2_limits{.max_response_bytes = 1000}};
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 200, {}, std::string(5000, 'b'));
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(failure_of(events[0]).why, h2_stream_failure::response_too_large);
    EXPECT_NE(failure_of(events[0]).detail.find("body"), std::string::npos);
    EXPECT_EQ(c.server.resets_received.at(id), NGHTTP2_CANCEL);
    EXPECT_TRUE(c.client.can_submit());
}

TEST(h2_session, a_content_length_over_the_limit_is_too_large_before_the_body) {
    connected c{h2_limits{.max_response_bytes = 1000}};
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 200, {{"content-length", "5000"}}, std::string(5000, 'b'));
    const auto from_server = c.server.drain();
    // Only the HEADERS frame (9 bytes of frame header, then the payload): it alone fails the stream.
    ASSERT_EQ(from_server[3], NGHTTP2_HEADERS);
    const auto payload = (std::size_t{static_cast<unsigned char>(from_server[0])} << 16) |
                         (std::size_t{static_cast<unsigned char>(from_server[1])} << 8) |
                         static_cast<unsigned char>(from_server[2]);
    ASSERT_FALSE(c.client.receive(std::string_view(from_server).substr(0, 9 + payload)));
    (void)c.client.pending_output();  // the RST_STREAM goes out, which closes the stream
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(failure_of(events[0]).why, h2_stream_failure::response_too_large);
    EXPECT_NE(failure_of(events[0]).detail.find("Content-Length"), std::string::npos)
        << failure_of(events[0]).detail;
}

TEST(h2_session, a_zero_initial_window_keeps_the_body_back) {
    h2_client_session client{h2_limits{}};
    test_server server{{{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}}};
    pump(client, server);
    const std::string body = "the-body-that-must-wait";
    const auto id = client.submit(make_request(body));
    const auto wrote = pump(client, server);
    EXPECT_EQ(wrote.find(body), std::string::npos);
    ASSERT_TRUE(server.requests.contains(id));
    EXPECT_TRUE(server.requests.at(id).body.empty());
    EXPECT_FALSE(server.requests.at(id).ended);
    EXPECT_EQ(client.open_streams(), 1u);
    EXPECT_TRUE(client.take_events().empty());
    EXPECT_TRUE(client.pending_output().empty());
}

TEST(h2_session, an_answer_before_the_request_body_is_sent_is_reported_at_once) {
    h2_client_session client{h2_limits{}};
    test_server server{{{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}}};
    pump(client, server);
    const auto id = client.submit(make_request("a body the hub does not want"));
    pump(client, server);
    server.respond(id, 413, {}, "<Error/>");
    pump(client, server);
    auto events = client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(answer_of(events[0]).message.result_int(), 413u);
    EXPECT_EQ(client.open_streams(), 1u);  // the body is still to be sent

    server.reset(id, NGHTTP2_NO_ERROR);  // RFC 9113 §8.1: stop sending, without error
    pump(client, server);
    EXPECT_TRUE(client.take_events().empty());
    EXPECT_EQ(client.open_streams(), 0u);
}

TEST(h2_session, cancel_sends_rst_stream_cancel_and_reports_nothing) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.client.cancel(id);
    pump(c.client, c.server);
    EXPECT_EQ(c.server.resets_received.at(id), NGHTTP2_CANCEL);
    EXPECT_TRUE(c.client.take_events().empty());
    EXPECT_EQ(c.client.open_streams(), 0u);
    c.client.cancel(id);  // no longer open: nothing
    EXPECT_TRUE(c.client.pending_output().empty());
}

TEST(h2_session, cancel_before_sending_never_reaches_the_server) {
    connected c;
    const auto id = c.client.submit(make_request());
    c.client.cancel(id);
    pump(c.client, c.server);
    EXPECT_FALSE(c.server.requests.contains(id));
    EXPECT_TRUE(c.client.take_events().empty());
    EXPECT_EQ(c.client.open_streams(), 0u);
    EXPECT_TRUE(c.client.can_submit());
}

TEST(h2_session, an_answer_racing_a_cancel_is_not_reported) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 201, {}, "late");
    c.client.cancel(id);
    pump(c.client, c.server);
    EXPECT_TRUE(c.client.take_events().empty());
    EXPECT_EQ(c.client.open_streams(), 0u);
}

TEST(h2_session, garbage_from_the_peer_is_an_error_with_a_detail) {
    h2_client_session client{h2_limits{}};
    (void)client.pending_output();
    const std::string http1 = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    const auto ec = client.receive(http1);
    EXPECT_TRUE(ec);
    EXPECT_EQ(&ec.category(), &h2_category());
    EXPECT_FALSE(client.error_detail().empty());
    EXPECT_FALSE(client.alive());
    EXPECT_FALSE(client.can_submit());
    EXPECT_EQ(client.receive(http1), ec);  // stays failed
}

TEST(h2_session, a_protocol_error_mid_connection_is_an_error) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    // A DATA frame on stream 0: a connection error (RFC 9113 §6.1).
    const char data_on_stream_0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto ec = c.client.receive({data_on_stream_0, sizeof data_on_stream_0});
    EXPECT_TRUE(ec);
    EXPECT_NE(c.client.error_detail().find("PROTOCOL_ERROR"), std::string::npos) << c.client.error_detail();
    EXPECT_FALSE(c.client.alive());
    EXPECT_EQ(c.client.open_streams(), 1u);  // its outcome is unknown: no event
    EXPECT_TRUE(c.client.take_events().empty());
    (void)id;
}

TEST(h2_session, a_protocol_error_after_a_goaway_is_an_error) {
    connected c;
    c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.goaway(1);
    pump(c.client, c.server);
    const char data_on_stream_0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(c.client.receive({data_on_stream_0, sizeof data_on_stream_0}));
    EXPECT_NE(c.client.error_detail().find("PROTOCOL_ERROR"), std::string::npos) << c.client.error_detail();
    EXPECT_FALSE(c.client.alive());
}

TEST(h2_session, a_server_that_never_sends_settings_leaves_settings_unreceived) {
    h2_client_session client{h2_limits{}};
    test_server server{{}, false};
    server.feed(client.pending_output());
    client.consumed(client.pending_output().size());
    (void)server.drain();  // a silent server: none of its bytes arrive
    EXPECT_FALSE(client.settings_received());
    EXPECT_EQ(client.peer_max_concurrent_streams(), 100u);
    EXPECT_TRUE(client.alive());
    EXPECT_TRUE(client.can_submit());  // requests may go before the peer's SETTINGS
}

TEST(h2_session, a_server_whose_first_frame_is_not_its_settings_is_an_error) {
    h2_client_session client{h2_limits{}};
    test_server server{{}, false};
    server.feed(client.pending_output());
    client.consumed(client.pending_output().size());
    const auto ack_only = server.drain();  // the ACK of our SETTINGS, without its own
    ASSERT_FALSE(ack_only.empty());
    EXPECT_TRUE(client.receive(ack_only));
    EXPECT_FALSE(client.settings_received());
    EXPECT_NE(client.error_detail().find("SETTINGS"), std::string::npos) << client.error_detail();
    EXPECT_FALSE(client.alive());
}

TEST(h2_session, ping_is_acked) {
    connected c;
    EXPECT_EQ(c.client.pings_acked(), 0u);
    c.client.ping();
    pump(c.client, c.server);
    EXPECT_EQ(c.client.pings_acked(), 1u);
}

TEST(h2_session, shutdown_lets_open_streams_finish_then_ends_the_session) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.client.shutdown();
    EXPECT_FALSE(c.client.can_submit());
    pump(c.client, c.server);
    EXPECT_TRUE(c.server.goaway_received);
    EXPECT_TRUE(c.client.alive());
    c.server.respond(id, 201);
    pump(c.client, c.server);
    const auto events = c.client.take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(answer_of(events[0]).message.result_int(), 201u);
    EXPECT_FALSE(c.client.alive());
}

TEST(h2_session, output_not_consumed_is_offered_again) {
    h2_client_session client{h2_limits{}};
    const std::string all(client.pending_output());
    ASSERT_GT(all.size(), 24u);
    EXPECT_TRUE(all.starts_with("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    client.consumed(10);
    EXPECT_EQ(client.pending_output(), all.substr(10));
    client.ping();  // queued behind what is still to write
    EXPECT_EQ(client.pending_output(), all.substr(10));
    client.consumed(all.size() - 10);
    EXPECT_FALSE(client.pending_output().empty());  // the PING
}

TEST(h2_session, take_events_into_a_vector_swaps_buffers) {
    connected c;
    const auto id = c.client.submit(make_request());
    pump(c.client, c.server);
    c.server.respond(id, 201);
    pump(c.client, c.server);
    std::vector<h2_event> events;
    c.client.take_events(events);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(stream_of(events[0]), id);
    c.client.take_events(events);
    EXPECT_TRUE(events.empty());
}

}  // namespace
