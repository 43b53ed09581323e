// nhpush-hubsim end to end: command line, TLS, sends and their checks, SAS, hubs, stats, record,
// shutdown. Every test runs the real binary on loopback through hubsim_process.

#include "nh_requests.hpp"

#include "hubsim/certificate.hpp"
#include "hubsim/record.hpp"

#include <nhpush/response.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <csignal>
#include <fstream>
#include <regex>

namespace nhpush::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

std::pair<int, std::string> run_hubsim(std::vector<std::string> args) {
    return run_to_completion({.program = hubsim_process::default_binary(), .args = std::move(args)}, 10s);
}

// --- command line -------------------------------------------------------------------------------

TEST(hubsim_command_line, HelpDocumentsEveryOption) {
    const auto [status, out] = run_hubsim({"--help"});
    EXPECT_EQ(status, 0);
    for (const char* option : {"--listen",
                               "--cert",
                               "--key",
                               "--tls-key",
                               "--cert-out",
                               "--threads",
                               "--idle-timeout",
                               "--connection-string",
                               "--key-name",
                               "--sas-key",
                               "--hub",
                               "--fail-429",
                               "--retry-after-429",
                               "--fail-403",
                               "--retry-after-403",
                               "--fail-500",
                               "--fail-503",
                               "--retry-after-503",
                               "--latency",
                               "--latency-jitter",
                               "--close-after",
                               "--drop",
                               "--rate-limit",
                               "--retry-after-rate-limit",
                               "--rst-stream",
                               "--rst-stream-code",
                               "--protocols",
                               "--max-streams",
                               "--goaway-after",
                               "--h2-misbehave",
                               "--seed",
                               "--record",
                               "--help",
                               "--version",
                               "/$admin/faults",
                               "/$stats"}) {
        EXPECT_NE(out.find(option), std::string::npos) << option;
    }
}

TEST(hubsim_command_line, RefusesNonLoopbackAddresses) {
    for (const char* address : {"0.0.0.0:0", "10.1.2.3:0", "[::]:0"}) {
        const auto [status, out] = run_hubsim({"--listen", address, "--key-name", "k", "--key", "v"});
        EXPECT_EQ(status, 2) << address;
        EXPECT_NE(out.find("loopback"), std::string::npos) << out;
    }
}

TEST(hubsim_command_line, RefusesMissingCredentialsAndUnknownOptions) {
    auto [status, out] = run_hubsim({"--listen", "127.0.0.1:0"});
    EXPECT_EQ(status, 2);
    EXPECT_NE(out.find("--connection-string"), std::string::npos) << out;
    std::tie(status, out) =
        run_hubsim({"--listen", "127.0.0.1:0", "--key-name", "k", "--key", "v", "--bogus", "1"});
    EXPECT_EQ(status, 2);
    EXPECT_NE(out.find("--bogus"), std::string::npos) << out;
}

// --- TLS ----------------------------------------------------------------------------------------

TEST(hubsim_tls, GeneratedCertificateVerifiesFor127001AndLocalhost) {
    hubsim_process hub;
    for (const char* host : {"127.0.0.1", "localhost"}) {
        https_client c(hub.port(), hub.cert_file(), host);
        EXPECT_EQ(c.request(make_get("/$stats")).result_int(), 200) << host;
    }
    https_client wrong_name(hub.port(), hub.cert_file(), "example.com");
    http_response res;
    EXPECT_TRUE(wrong_name.send(make_get("/$stats"), res, 5s));
}

TEST(hubsim_tls, SpeaksTls12AndTls13) {
    hubsim_process hub;
    auto tls12 = hub.client(tls_versions::tls12_only);
    EXPECT_EQ(tls12.request(nh_send(hub)).result_int(), 201);
    EXPECT_EQ(tls12.tls_version(), "TLSv1.2");
    auto tls13 = hub.client(tls_versions::tls13_only);
    EXPECT_EQ(tls13.request(nh_send(hub)).result_int(), 201);
    EXPECT_EQ(tls13.tls_version(), "TLSv1.3");
}

TEST(hubsim_tls, ServesACertificateFromFiles) {
    hubsim_process probe;  // only for a temp dir
    const auto pem = hubsim::make_self_signed_certificate();
    const auto cert = probe.temp_dir() + "/cert.pem";
    const auto key = probe.temp_dir() + "/key.pem";
    std::ofstream(cert) << pem.certificate;
    std::ofstream(key) << pem.private_key;
    child_process child(
        {.program = hubsim_process::default_binary(),
         .args = {"--listen", "127.0.0.1:0", "--cert", cert, "--key", key, "--key-name", "k", "--key", "v"}});
    const auto line = child.read_line(10s);
    ASSERT_TRUE(line && line->starts_with("listening on 127.0.0.1:")) << line.value_or("");
    https_client c(static_cast<std::uint16_t>(std::stoi(line->substr(23))), cert);
    EXPECT_EQ(c.request(make_get("/$stats")).result_int(), 200);
    child.signal(SIGTERM);
    EXPECT_EQ(child.wait(10s), 0);
}

// --- a send and its answer ----------------------------------------------------------------------

TEST(hubsim_send, AcceptsATagSendWith201LocationAndTrackingId) {
    hubsim_process hub;
    auto c = hub.client();
    auto req = nh_send(hub);
    req.set("ServiceBusNotification-Tags", "(sports || news) && !muted");
    const auto res = c.request(req);
    ASSERT_EQ(res.result_int(), 201) << res.body();
    const std::string location(res[http::field::location]);
    const std::regex shape("https://127\\.0\\.0\\.1:" + std::to_string(hub.port()) +
                           "/myhub/messages/[0-9a-f]{32}-[0-9]+-[0-9]\\?api-version=2020-06");
    EXPECT_TRUE(std::regex_match(location, shape)) << location;
    EXPECT_FALSE(notification_id_from_location(location).empty());
    EXPECT_TRUE(std::regex_match(std::string(res["TrackingId"]), std::regex("[0-9a-f-]{36}")));
    EXPECT_TRUE(res.body().empty());
    EXPECT_EQ(res[http::field::content_length], "0");
}

TEST(hubsim_send, KeepsTheConnectionAliveAcrossRequests) {
    hubsim_process hub;
    auto c = hub.client();
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(c.request(nh_send(hub)).result_int(), 201);
    }
    EXPECT_EQ(c.connections_opened(), 1u);
    EXPECT_EQ(hub.stat("/accepted"), 50u);
}

TEST(hubsim_send, DirectSendNeedsADeviceHandleAndEchoesDirectInLocation) {
    hubsim_process hub;
    auto c = hub.client();
    EXPECT_EQ(
        c.request(nh_send(hub, "myhub", "apple", std::string(apple_body), json_type, "&direct")).result_int(),
        400);
    auto req = nh_send(hub, "myhub", "fcmv1", R"({"message":{"data":{"a":"b"}}})", json_type, "&direct");
    req.set("ServiceBusNotification-DeviceHandle", "fcm-token");
    const auto res = c.request(req);
    ASSERT_EQ(res.result_int(), 201) << res.body();
    EXPECT_TRUE(std::string(res[http::field::location]).ends_with("?api-version=2020-06&direct"));
}

TEST(hubsim_send, TestSendAnswersANotificationOutcome) {
    hubsim_process hub;
    auto c = hub.client();
    const auto res = c.request(nh_send(hub, "myhub", "apple", std::string(apple_body), json_type, "&test"));
    ASSERT_EQ(res.result_int(), 201);
    const auto outcome = parse_test_send_outcome(res.body());
    ASSERT_TRUE(outcome) << res.body();
    EXPECT_EQ(outcome->success, 1);
    ASSERT_EQ(outcome->results.size(), 1u);
    EXPECT_EQ(outcome->results[0].platform, "apple");
}

TEST(hubsim_send, DirectBatchIsCheckedAndAccepted) {
    hubsim_process hub;
    auto c = hub.client();
    const auto batch = [&](std::string content_type, std::string devices) {
        std::string body =
            "--b1\r\nContent-type: application/json;charset=utf-8\r\n"
            "Content-Disposition: inline; name=notification\r\n\r\n" +
            std::string(apple_body) +
            "\r\n--b1\r\nContent-type: application/json\r\n"
            "Content-Disposition: inline; name=devices\r\n\r\n" +
            devices + "\r\n--b1--";
        auto req = nh_send(hub, "myhub", "apple", body, json_type);
        req.target("/myhub/messages/$batch?api-version=2020-06&direct");
        req.set(http::field::content_type, content_type);
        return c.request(req);
    };
    EXPECT_EQ(batch(R"(multipart/mixed; boundary = "b1")", R"(["h1","h2"])").result_int(), 201);
    EXPECT_EQ(batch("multipart/mixed", R"(["h1"])").result_int(), 400);  // no boundary
    std::string many = "[";
    for (int i = 0; i < 1001; ++i) {
        many += (i ? ",\"h" : "\"h") + std::to_string(i) + "\"";
    }
    many += "]";
    const auto res = batch("multipart/mixed; boundary=b1", many);
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_NE(error_detail(res).find("1000"), std::string::npos) << res.body();
}

TEST(hubsim_send, ScheduleCancelAndDetails) {
    hubsim_process hub;
    auto c = hub.client();
    auto req = nh_send(hub, "myhub", "template", R"({"greeting":"hi"})");
    req.target("/myhub/schedulednotifications?api-version=2020-06");
    EXPECT_EQ(c.request(req).result_int(), 400);  // no ServiceBusNotification-ScheduleTime
    req.set("ServiceBusNotification-ScheduleTime", "2099-01-01T00:00:00Z");
    EXPECT_EQ(c.request(req).result_int(), 400);  // more than 7 days ahead
    const auto soon = format_utc_iso8601(std::chrono::system_clock::now() + std::chrono::hours{1});
    req.set("ServiceBusNotification-ScheduleTime", soon);
    const auto scheduled = c.request(req);
    ASSERT_EQ(scheduled.result_int(), 201) << scheduled.body();
    const std::string location(scheduled[http::field::location]);
    EXPECT_NE(location.find("/myhub/schedulednotifications/"), std::string::npos) << location;
    const auto id = notification_id_from_location(location);

    auto cancel =
        make_request(http::verb::delete_, "/myhub/schedulednotifications/" + id + "?api-version=2020-06");
    cancel.set(http::field::authorization, hub.sas_token("myhub"));
    EXPECT_EQ(c.request(cancel).result_int(), 200);
    cancel.target("/myhub/schedulednotifications/not-ours?api-version=2020-06");
    EXPECT_EQ(c.request(cancel).result_int(), 404);

    const auto sent = c.request(nh_send(hub));
    auto details = make_get("/myhub/messages/" + notification_id_from_location(sent[http::field::location]) +
                            "?api-version=2020-06");
    details.set(http::field::authorization, hub.sas_token("myhub"));
    const auto res = c.request(details);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(xml_text(res.body(), "State"), "Completed");
    EXPECT_EQ(xml_text(res.body(), "TargetPlatforms"), "apple");
    details.target("/myhub/messages/unknown-id?api-version=2020-06");
    EXPECT_EQ(c.request(details).result_int(), 404);
}

// --- SAS ----------------------------------------------------------------------------------------

TEST(hubsim_auth, RejectsAWrongKeyAnExpiredTokenAndAnotherHubsToken) {
    hubsim_process hub;
    auto c = hub.client();
    const auto expect_401 = [&](std::string authorization, std::string_view reason) {
        auto req = nh_send(hub);
        if (authorization.empty()) {
            req.erase(http::field::authorization);
        } else {
            req.set(http::field::authorization, authorization);
        }
        const auto res = c.request(req);
        EXPECT_EQ(res.result_int(), 401) << reason;
        EXPECT_EQ(xml_text(res.body(), "Code"), "401");
        EXPECT_TRUE(error_detail(res).starts_with(reason)) << res.body();
    };
    expect_401(hub.sas_token("myhub", std::chrono::hours{1}, "wrong-key"), "InvalidSignature");
    expect_401(hub.sas_token("myhub", std::chrono::seconds{-10}), "ExpiredToken");
    expect_401(hub.sas_token("otherhub"), "InvalidAudience");
    expect_401(hub.sas_token("myhu"), "InvalidAudience");  // a prefix of the name is another hub
    expect_401("", "MissingToken");
    expect_401("Bearer abc", "MalformedToken");
    auto unknown = hub.sas_token("myhub");
    unknown.replace(unknown.find("skn=") + 4, std::string::npos, "SomeoneElse");
    expect_401(unknown, "UnknownKeyName");
    EXPECT_EQ(hub.stat("/auth_failures"), 7u);
    EXPECT_EQ(hub.stat("/auth_failures_by_reason/InvalidAudience"), 2u);
}

/// A token signed over `sr` exactly as given (already percent-encoded), fields in the given order.
std::string token_over(const hubsim_process& hub, const std::string& sr, bool python_order) {
    const auto se = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() +
        3600);
    const auto data = sr + "\n" + se;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(),
         hub.key().data(),
         static_cast<int>(hub.key().size()),
         reinterpret_cast<const unsigned char*>(data.data()),
         data.size(),
         mac,
         &len);
    std::string b64(4 * ((len + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(len));
    // Python's urllib.parse.quote leaves '/' as it is; encodeURIComponent would not.
    std::string sig;
    for (char ch : b64) {
        sig += ch == '+' ? "%2B" : ch == '=' ? "%3D" : std::string(1, ch);
    }
    return python_order
               ? "SharedAccessSignature sig=" + sig + "&se=" + se + "&skn=" + hub.key_name() + "&sr=" + sr
               : "SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=" + se + "&skn=" + hub.key_name();
}

TEST(hubsim_auth, AcceptsTheScopesAndFieldOrdersOfTheOfficialClients) {
    hubsim_process hub;
    auto c = hub.client();
    const auto port = std::to_string(hub.port());
    const auto accepted = [&](std::string authorization) {
        auto req = nh_send(hub);
        req.set(http::field::authorization, authorization);
        return c.request(req).result_int() == 201;
    };
    // JS SDK: the namespace root, upper-case escapes.
    EXPECT_TRUE(accepted(hub.sas_token("")));
    // Python sample: sig, se, skn, sr; lower-case escapes.
    EXPECT_TRUE(accepted(token_over(hub, "https%3a%2f%2f127.0.0.1%3a" + port + "%2fmyhub", true)));
    // .NET: http scheme, the request path with a trailing slash.
    EXPECT_TRUE(
        accepted(token_over(hub, "http%3a%2f%2f127.0.0.1%3a" + port + "%2fmyhub%2fmessages%2f", false)));
    // Java: the whole request URI, query included.
    EXPECT_TRUE(accepted(token_over(
        hub, "https%3a%2f%2f127.0.0.1%3a" + port + "%2fmyhub%2fmessages%3fapi-version%3d2020-06", false)));
    // Another port of the same host is another namespace.
    EXPECT_FALSE(accepted(token_over(hub, "https%3a%2f%2f127.0.0.1%3a1%2fmyhub", false)));
}

// --- hubs and the request checks ---------------------------------------------------------------

TEST(hubsim_hubs, UnknownHubIs404WhenHubsAreListed) {
    hubsim_process hub({.args = {"--hub", "myhub", "--hub", "second"}});
    auto c = hub.client();
    EXPECT_EQ(c.request(nh_send(hub, "myhub")).result_int(), 201);
    EXPECT_EQ(c.request(nh_send(hub, "second")).result_int(), 201);
    const auto res = c.request(nh_send(hub, "nohub"));
    EXPECT_EQ(res.result_int(), 404);
    EXPECT_TRUE(error_detail(res).starts_with("EntityNotFound")) << res.body();
}

TEST(hubsim_hubs, AnyHubExistsWithoutHubOptions) {
    hubsim_process hub;
    auto c = hub.client();
    EXPECT_EQ(c.request(nh_send(hub, "whatever-hub")).result_int(), 201);
    auto req = make_get("/myhub/nothing-here?api-version=2020-06");
    req.set(http::field::authorization, hub.sas_token("myhub"));
    EXPECT_EQ(c.request(req).result_int(), 404);
}

TEST(hubsim_checks, AnswersLikeTheServiceToBadRequests) {
    hubsim_process hub;
    auto c = hub.client();
    const auto status = [&](http_request req) { return c.request(std::move(req)).result_int(); };

    EXPECT_EQ(status(nh_send(hub, "myhub", "template", std::string(64 * 1024 + 1, 'x'))), 413u);
    EXPECT_EQ(status(nh_send(hub, "myhub", "apple", "{\"aps\":\"" + std::string(4100, 'a') + "\"}")), 400u);
    EXPECT_EQ(status(nh_send(hub, "myhub", "nokia")), 400u);
    EXPECT_EQ(status(nh_send(hub, "myhub", "apple", std::string(apple_body), "text/plain")), 400u);
    EXPECT_EQ(status(nh_send(hub, "myhub", "windows", "<toast/>", "application/xml")),
              400u);  // no X-WNS-Type
    auto toast = nh_send(hub, "myhub", "windows", "<toast/>", "application/xml");
    toast.set("X-WNS-Type", "wns/toast");
    EXPECT_EQ(status(toast), 201u);
    auto too_many_tags = nh_send(hub);
    too_many_tags.set("ServiceBusNotification-Tags", "a && b && c && d && e && f && g");
    EXPECT_EQ(status(too_many_tags), 400u);
    auto bad_tag = nh_send(hub);
    bad_tag.set("ServiceBusNotification-Tags", "a b");
    EXPECT_EQ(status(bad_tag), 400u);
    auto no_version = nh_send(hub);
    no_version.target("/myhub/messages");
    EXPECT_EQ(status(no_version), 400u);
    auto no_format = nh_send(hub);
    no_format.erase("ServiceBusNotification-Format");
    EXPECT_EQ(status(no_format), 400u);

    const auto res = c.request(nh_send(hub, "myhub", "apple", std::string(apple_body), "text/plain"));
    EXPECT_EQ(xml_text(res.body(), "Code"), "400");
    EXPECT_NE(error_detail(res).find("does not match"), std::string::npos) << res.body();
    EXPECT_EQ(hub.stat("/answers_by_status/400"), 9u);
    EXPECT_EQ(hub.stat("/answers_by_status/413"), 1u);
}

TEST(hubsim_checks, ABodyOverAMegabyteIsRefusedAndTheConnectionClosed) {
    hubsim_process hub;
    auto c = hub.client();
    const auto res = c.request(nh_send(hub, "myhub", "template", std::string(2 * 1024 * 1024, 'x')));
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_FALSE(c.connected());
}

// --- reporting ----------------------------------------------------------------------------------

TEST(hubsim_reporting, StatsCountRequestsFormatsStatusesAndBytes) {
    hubsim_process hub;
    auto c = hub.client();
    for (int i = 0; i < 3; ++i) {
        c.request(nh_send(hub));
    }
    c.request(nh_send(hub, "myhub", "fcmv1", R"({"message":{}})"));
    auto bad = nh_send(hub);
    bad.set(http::field::authorization, hub.sas_token("myhub", std::chrono::hours{1}, "nope"));
    c.request(bad);

    rapidjson::Document stats;
    stats.Parse(hub.stats_json().c_str());
    ASSERT_TRUE(stats.IsObject());
    EXPECT_EQ(stats["requests"].GetUint64(), 5u);
    EXPECT_EQ(stats["accepted"].GetUint64(), 4u);
    EXPECT_EQ(stats["accepted_by_format"]["apple"].GetUint64(), 3u);
    EXPECT_EQ(stats["accepted_by_format"]["fcmv1"].GetUint64(), 1u);
    EXPECT_EQ(stats["answers_by_status"]["201"].GetUint64(), 4u);
    EXPECT_EQ(stats["answers_by_status"]["401"].GetUint64(), 1u);
    EXPECT_EQ(stats["auth_failures"].GetUint64(), 1u);
    EXPECT_GT(stats["bytes_received"].GetUint64(), 5 * apple_body.size());
    EXPECT_GT(stats["bytes_sent"].GetUint64(), 0u);
}

TEST(hubsim_reporting, RecordFileHasEveryAcceptedNotificationOnce) {
    hubsim_process hub({.record = true});
    auto c = hub.client();
    for (int i = 0; i < 3; ++i) {
        auto req = nh_send(hub);
        req.set("X-Nhpush-Id", fmt::format("n-{}", i));
        req.set("ServiceBusNotification-Tags", fmt::format("t{}", i));
        ASSERT_EQ(c.request(req).result_int(), 201);
    }
    auto direct = nh_send(hub, "myhub", "fcmv1", R"({"message":{}})", json_type, "&direct");
    direct.set("ServiceBusNotification-DeviceHandle", "device-7");
    ASSERT_EQ(c.request(direct).result_int(), 201);
    auto rejected = nh_send(hub, "myhub", "apple", std::string(apple_body), "text/plain");
    rejected.set("X-Nhpush-Id", "rejected");
    ASSERT_EQ(c.request(rejected).result_int(), 400);

    const auto lines = hub.record_lines();
    ASSERT_EQ(lines.size(), 4u);
    for (int i = 0; i < 3; ++i) {
        rapidjson::Document d;
        d.Parse(lines[i].c_str());
        ASSERT_TRUE(d.IsObject()) << lines[i];
        EXPECT_EQ(std::string(d["client_id"].GetString()), fmt::format("n-{}", i));
        EXPECT_EQ(std::string(d["format"].GetString()), "apple");
        EXPECT_EQ(std::string(d["tags"].GetString()), fmt::format("t{}", i));
        EXPECT_EQ(std::string(d["payload_sha256"].GetString()), hubsim::sha256_hex(apple_body));
        EXPECT_EQ(std::string(d["hub"].GetString()), "myhub");
        EXPECT_TRUE(d.HasMember("time") && d.HasMember("notification_id"));
    }
    rapidjson::Document d;
    d.Parse(lines[3].c_str());
    EXPECT_EQ(std::string(d["operation"].GetString()), "direct");
    EXPECT_EQ(std::string(d["handle"].GetString()), "device-7");
    EXPECT_FALSE(d.HasMember("client_id"));
}

TEST(hubsim_reporting, SigtermPrintsASummaryAndExitsZero) {
    hubsim_process hub;
    auto c = hub.client();
    ASSERT_EQ(c.request(nh_send(hub)).result_int(), 201);
    EXPECT_EQ(hub.stop(), 0);
    const auto& out = hub.output();
    ASSERT_TRUE(out.starts_with("summary: ")) << out;
    rapidjson::Document d;
    d.Parse(out.substr(9).c_str());
    ASSERT_TRUE(d.IsObject()) << out;
    EXPECT_EQ(d["accepted"].GetUint64(), 1u);
}

}  // namespace
}  // namespace nhpush::testing
