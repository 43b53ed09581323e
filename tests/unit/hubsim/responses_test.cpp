#include "hubsim/responses.hpp"
#include "hubsim/record.hpp"

#include <nhpush/response.hpp>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <regex>
#include <set>

namespace nhpush::hubsim {
namespace {

using namespace std::chrono;

TEST(hubsim_ids, NotificationIdsAreUniqueAndSayTheirFormatAndTime) {
    id_generator ids("0123456789ab", 3, 1);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        seen.insert(std::string(ids.next_notification_id(notification_format::fcmv1, 1'700'000'000)));
    }
    EXPECT_EQ(seen.size(), 1000u);
    const std::string id(ids.next_notification_id(notification_format::windows, 1'700'000'123));
    EXPECT_TRUE(std::regex_match(id, std::regex("0123456789ab0003[0-9a-f]{16}-1700000123-4"))) << id;
    const auto info = parse_notification_id(id, "0123456789ab");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->format, notification_format::windows);
    EXPECT_EQ(info->enqueued_unix, 1'700'000'123);
    EXPECT_FALSE(parse_notification_id(id, "ba9876543210"));  // another process's id
    EXPECT_FALSE(parse_notification_id("0123456789ab-garbage", "0123456789ab"));
    EXPECT_FALSE(parse_notification_id(id.substr(0, id.size() - 1) + "x", "0123456789ab"));
}

TEST(hubsim_ids, TrackingIdsAreGuids) {
    id_generator ids("0123456789ab", 0, 42);
    const std::string a(ids.next_tracking_id());
    const std::string b(ids.next_tracking_id());
    const std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    EXPECT_TRUE(std::regex_match(a, guid)) << a;
    EXPECT_NE(a, b);
    EXPECT_EQ(make_process_prefix().size(), 12u);
}

TEST(hubsim_bodies, ErrorBodyAsTheServiceWritesIt) {
    const auto t = system_clock::time_point{seconds{1593714801}};  // 2020-07-02 18:33:21 UTC
    const auto body = error_body(401, "InvalidSignature", "The token has an invalid signature.", "abc", t);
    EXPECT_EQ(
        body,
        "<Error><Code>401</Code><Detail>InvalidSignature: The token has an invalid signature.TrackingId:abc,"
        "TimeStamp:7/2/2020 6:33:21 PM</Detail></Error>");
    EXPECT_NE(error_body(400, "BadRequest", "a <b> & c", "x", t).find("a &lt;b&gt; &amp; c"),
              std::string::npos);
    EXPECT_EQ(dotnet_timestamp(system_clock::time_point{seconds{1593648000}}), "7/2/2020 12:00:00 AM");
}

TEST(hubsim_bodies, TheLibraryParsesTheTestSendOutcome) {
    const auto outcome = parse_test_send_outcome(test_outcome_body(notification_format::apple, "reg-1"));
    ASSERT_TRUE(outcome);
    EXPECT_EQ(outcome->success, 1);
    EXPECT_EQ(outcome->failure, 0);
    ASSERT_EQ(outcome->results.size(), 1u);
    EXPECT_EQ(outcome->results[0].platform, "apple");
    EXPECT_EQ(outcome->results[0].registration_id, "reg-1");
    EXPECT_EQ(outcome->results[0].outcome,
              "The Notification was successfully sent to the Push Notification System");
}

TEST(hubsim_bodies, LocationAndDetails) {
    std::string loc;
    append_location(loc, "127.0.0.1:8443", "my hub", location_kind::messages, "id-1", "2020-06", true);
    EXPECT_EQ(loc, "https://127.0.0.1:8443/my%20hub/messages/id-1?api-version=2020-06&direct");
    EXPECT_EQ(notification_id_from_location(loc), "id-1");
    loc.clear();
    append_location(loc, "h", "hub", location_kind::scheduled, "s1", "2015-01", false);
    EXPECT_EQ(loc, "https://h/hub/schedulednotifications/s1?api-version=2015-01");

    const auto details =
        details_body("id-1", "https://h/hub/messages/id-1", {notification_format::apple, 1'700'000'000});
    EXPECT_NE(details.find("<NotificationId>id-1</NotificationId>"), std::string::npos);
    EXPECT_NE(details.find("<State>Completed</State>"), std::string::npos);
    EXPECT_NE(details.find("<EnqueueTime>2023-11-14T22:13:20Z</EnqueueTime>"), std::string::npos);
    EXPECT_NE(details.find("<ApnsOutcomeCounts><Outcome><Name>Success</Name><Count>1</Count></Outcome>"),
              std::string::npos);
}

TEST(hubsim_record, OneJsonLinePerNotification) {
    accepted_notification n;
    n.format = notification_format::apple;
    n.tags = "a || b";
    n.payload = "{}";
    n.client_id = "id \"7\"";
    n.device_handles = {"h1", "h2"};
    std::string out;
    append_record_line(
        out, {system_clock::time_point{milliseconds{1'700'000'000'123}}, "hub", "batch", "nid", &n});
    ASSERT_TRUE(out.ends_with("\n"));
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
    rapidjson::Document d;
    d.Parse(out.c_str());
    ASSERT_TRUE(d.IsObject()) << out;
    EXPECT_STREQ(d["time"].GetString(), "2023-11-14T22:13:20.123Z");
    EXPECT_STREQ(d["format"].GetString(), "apple");
    EXPECT_STREQ(d["tags"].GetString(), "a || b");
    EXPECT_EQ(d["handles"].Size(), 2u);
    EXPECT_STREQ(d["payload_sha256"].GetString(),
                 "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    EXPECT_EQ(d["payload_bytes"].GetUint(), 2u);
    EXPECT_STREQ(d["client_id"].GetString(), "id \"7\"");
    EXPECT_STREQ(d["notification_id"].GetString(), "nid");
    EXPECT_FALSE(d.HasMember("handle"));
}

}  // namespace
}  // namespace nhpush::hubsim
