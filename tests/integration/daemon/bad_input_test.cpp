// Every bad input gets the right 4xx and JSON error, and the daemon keeps serving.

#include "nhpushd_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace {

using namespace nhpush::testing;
using namespace std::chrono_literals;

std::string error_code_of(const http_answer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("error")) {
        return "(not an error body: " + a.body + ")";
    }
    EXPECT_TRUE(d["error"].HasMember("message"));
    EXPECT_TRUE(d["error"].HasMember("field"));
    return d["error"]["code"].GetString();
}

class bad_input : public testing::Test {
protected:
    static void SetUpTestSuite() {
        hub_ = std::make_unique<hubsim_process>();
        daemon_ = std::make_unique<nhpushd_process>(
            *hub_,
            nhpushd_options{.daemon_extra = "max_body_bytes = 16384\nmax_header_bytes = 1024\n"
                                            "client_idle_timeout = 2\n"});
    }
    static void TearDownTestSuite() {
        daemon_.reset();
        hub_.reset();
    }

    // The daemon still takes a good notification, on a new connection.
    static void expect_still_serving() {
        const auto answer = daemon_->client().post_json("/v1/notifications", notification_json());
        EXPECT_EQ(answer.status, 202u) << answer.body;
    }

    static inline std::unique_ptr<hubsim_process> hub_;
    static inline std::unique_ptr<nhpushd_process> daemon_;
};

struct json_case {
    const char* name;
    std::string body;
    unsigned status;
    const char* code;
};

TEST_F(bad_input, bad_notification_objects_on_one_kept_alive_connection) {
    // Over APNs's 4 KiB, under max_body_bytes.
    const std::string big_apple =
        R"({"hub":"main","format":"apple","payload":{"aps":{"alert":")" + std::string(5000, 'x') + R"("}}})";
    const json_case cases[] = {
        {"malformed JSON", R"({"hub":"main",)", 400, "invalid_json"},
        {"not an object", "[1,2]", 400, "invalid_json"},
        {"unknown field", notification_json(R"("tag":"a")"), 400, "unknown_field"},
        {"field of the wrong type", notification_json(R"("test":"yes")"), 400, "invalid_field"},
        {"missing payload", R"({"hub":"main","format":"template"})", 400, "missing_field"},
        {"unknown format", R"({"hub":"main","format":"Apple","payload":{}})", 400, "unknown_format"},
        {"unknown hub", R"({"hub":"other","format":"template","payload":{"m":"x"}})", 400, "unknown_hub"},
        {"bad tag expression", notification_json(R"("tags":"sports &&")"), 400, "invalid_tags"},
        {"empty tags", notification_json(R"("tags":"")"), 400, "invalid_tags"},
        {"bad header value",
         R"({"hub":"main","format":"apple","payload":{"aps":{}},"headers":{"apns-priority":"7"}})",
         400,
         "invalid_header"},
        {"payload not fitting the format",
         R"({"hub":"main","format":"fcmv1","payload":{"notification":{}}})",
         400,
         "invalid_payload"},
        {"payload too large for the platform", big_apple, 413, "payload_too_large"},
        {"truncated JSON body",
         R"({"hub":"main","format":"template","payload":{"message":"hel)",
         400,
         "invalid_json"},
    };
    auto client = daemon_->client();
    for (const auto& c : cases) {
        const auto answer = client.post_json("/v1/notifications", c.body);
        EXPECT_EQ(answer.status, c.status) << c.name << ": " << answer.body;
        EXPECT_EQ(error_code_of(answer), c.code) << c.name;
        EXPECT_EQ(answer.header("content-type"), "application/json");
        EXPECT_NE(answer.header("connection"), "close") << c.name << ": the connection stays open";
    }
    EXPECT_EQ(client.post_json("/v1/notifications", notification_json()).status, 202u);
}

TEST_F(bad_input, the_http_layer_refuses_what_it_cannot_take) {
    auto client = daemon_->client();
    auto answer = client.request("POST", "/v1/notifications", notification_json(), "text/plain");
    EXPECT_EQ(answer.status, 415u);
    EXPECT_EQ(error_code_of(answer), "unsupported_media_type");

    answer = client.get("/v1/nothing");
    EXPECT_EQ(answer.status, 404u);
    EXPECT_EQ(error_code_of(answer), "not_found");

    answer = client.get("/v1/notifications");
    EXPECT_EQ(answer.status, 405u);
    EXPECT_EQ(answer.header("allow"), "POST");
    EXPECT_EQ(error_code_of(answer), "method_not_allowed");

    answer = client.request("DELETE", "/metrics");
    EXPECT_EQ(answer.status, 405u);
    EXPECT_EQ(answer.header("allow"), "GET");

    answer =
        client.request("POST", "/v1/notifications?wait=true", notification_json(), "application/x-ndjson");
    EXPECT_EQ(answer.status, 400u);
    EXPECT_EQ(error_code_of(answer), "bad_request");

    answer = client.post_json("/v1/notifications?wait=maybe", notification_json());
    EXPECT_EQ(answer.status, 400u);
    EXPECT_EQ(client.post_json("/v1/notifications", notification_json()).status, 202u);
}

TEST_F(bad_input, a_body_over_max_body_bytes_gets_413_and_the_connection_closes) {
    auto client = daemon_->client();
    // The header announces it; the daemon answers before reading the body.
    ASSERT_TRUE(
        client.send_raw("POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100000\r\n\r\n{\"hub\":"));
    const auto answer = client.read_answer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 413u);
    EXPECT_EQ(error_code_of(*answer), "body_too_large");
    EXPECT_EQ(answer->header("connection"), "close");
    EXPECT_TRUE(client.wait_closed(5s));
    expect_still_serving();
}

TEST_F(bad_input, oversized_headers_get_431) {
    auto client = daemon_->client();
    ASSERT_TRUE(client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(2000, 'a') +
                                "\r\n\r\n"));
    const auto answer = client.read_answer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 431u);
    EXPECT_EQ(error_code_of(*answer), "headers_too_large");
    EXPECT_TRUE(client.wait_closed(5s));
    expect_still_serving();
}

TEST_F(bad_input, a_truncated_body_gets_400) {
    auto client = daemon_->client();
    ASSERT_TRUE(
        client.send_raw("POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 500\r\n\r\n{\"hub\":\"main\""));
    client.shutdown_write();  // the client gives up in the middle of its body
    const auto answer = client.read_answer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400u);
    EXPECT_EQ(error_code_of(*answer), "bad_request");
    expect_still_serving();
}

TEST_F(bad_input, a_malformed_request_line_gets_400) {
    auto client = daemon_->client();
    ASSERT_TRUE(client.send_raw("HELLO THERE\r\n\r\n"));
    const auto answer = client.read_answer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400u);
    EXPECT_EQ(error_code_of(*answer), "bad_request");
    expect_still_serving();
}

TEST_F(bad_input, a_stuck_client_is_closed_after_the_idle_timeout) {
    auto idle = daemon_->client();
    auto slow = daemon_->client();
    ASSERT_TRUE(
        slow.send_raw("POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Le"));  // and nothing more
    // client_idle_timeout = 2 s: both are closed, well within the deadline.
    EXPECT_TRUE(idle.wait_closed(10s));
    EXPECT_TRUE(slow.wait_closed(10s));
    expect_still_serving();
}

TEST_F(bad_input, pipelined_requests_are_answered_in_order) {
    auto client = daemon_->client();
    const auto request = [](const std::string& id) {
        const auto body = notification_json(R"("id":")" + id + R"(")");  // a taken id would be 409
        return "POST /v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    ASSERT_TRUE(client.send_raw(request("p1") + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + request("p2")));
    const auto first = client.read_answer();
    const auto second = client.read_answer();
    const auto third = client.read_answer();
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(first->status, 202u);
    EXPECT_EQ(second->status, 200u);
    EXPECT_EQ(second->body, R"({"status":"ok"})");
    EXPECT_EQ(third->status, 202u);
}

std::string error_field_of(const http_answer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") || !d["error"].HasMember("field")) {
        return "(no error.field: " + a.body + ")";
    }
    return d["error"]["field"].GetString();
}

// Issue 10: a string `tags` with CR LF was sent on as extra header lines, turning a targeted send
// into a broadcast. Its own daemon: the 70,000-byte handle is over bad_input's max_body_bytes.
TEST(bad_header_fields, hostile_bytes_and_oversized_fields_get_400_naming_the_field_and_never_reach_the_hub) {
    hubsim_process hub;
    nhpushd_process daemon(hub);
    struct header_field_case {
        const char* name;
        std::string body;
        const char* code;
        const char* field;
    };
    const header_field_case cases[] = {
        {"CR LF in tags",
         notification_json(R"("tags":"\r\nX-Anything:x || user:42")"),
         "invalid_tags",
         "tags"},
        {"CR LF in a header value",
         R"({"hub":"main","format":"apple","payload":{"aps":{}},)"
         R"("headers":{"apns-collapse-id":"a\r\nContent-Length: 0"}})",
         "invalid_header",
         "headers.apns-collapse-id"},
        {"a 70,000-byte device handle",
         notification_json(R"("device_handle":")" + std::string(70000, 'a') + R"(")"),
         "invalid_field",
         "device_handle"},
    };
    auto client = daemon.client();
    for (const auto& c : cases) {
        const auto answer = client.post_json("/v1/notifications", c.body);
        EXPECT_EQ(answer.status, 400u) << c.name << ": " << answer.body;
        EXPECT_EQ(error_code_of(answer), c.code) << c.name;
        EXPECT_EQ(error_field_of(answer), c.field) << c.name;
    }
    // A good notification, answered once the hub has it, is the only request the hub ever saw.
    const auto good = client.post_json("/v1/notifications?wait=true", notification_json());
    ASSERT_EQ(good.status, 200u) << good.body;
    EXPECT_EQ(hub.stat("/requests"), 1u);
}

}  // namespace
