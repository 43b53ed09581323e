#include "api/result_json.hpp"

#include <gtest/gtest.h>

namespace {

using namespace nhpush;

TEST(outcome_details, the_hubs_notification_details_become_json) {
    const std::string xml =
        R"(<NotificationDetails xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" )"
        R"(xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><NotificationId>abc</NotificationId>)"
        R"(<Location>https://h/hub/messages/abc?api-version=2020-06</Location><State>Completed</State>)"
        R"(<EnqueueTime>2026-11-30T14:00:00Z</EnqueueTime><StartTime>2026-11-30T14:00:01Z</StartTime>)"
        R"(<EndTime>2026-11-30T14:00:02Z</EndTime><NotificationBody i:nil="true"/>)"
        R"(<TargetPlatforms>apple,fcmv1</TargetPlatforms>)"
        R"(<ApnsOutcomeCounts><Outcome><Name>Success</Name><Count>3</Count></Outcome>)"
        R"(<Outcome><Name>InvalidPnsCredentials</Name><Count>1</Count></Outcome></ApnsOutcomeCounts>)"
        R"(<PnsErrorDetailsUri>https://blob/x</PnsErrorDetailsUri>)"
        R"(<FcmV1OutcomeCounts><Outcome><Name>Success</Name><Count>2</Count></Outcome></FcmV1OutcomeCounts>)"
        R"(</NotificationDetails>)";
    hubs::result_record r{.hub = "main", .notification_id = "abc"};
    const auto json = api::render_outcome_details("n-1", r, xml);
    ASSERT_TRUE(json);
    EXPECT_EQ(
        *json,
        R"({"id":"n-1","hub":"main","location":"https://h/hub/messages/abc?api-version=2020-06",)"
        R"("state":"Completed","enqueue_time":"2026-11-30T14:00:00Z","start_time":"2026-11-30T14:00:01Z",)"
        R"("end_time":"2026-11-30T14:00:02Z","target_platforms":"apple,fcmv1",)"
        R"("pns_error_details_uri":"https://blob/x",)"
        R"("outcome_counts":{"apns":{"Success":3,"InvalidPnsCredentials":1},"fcmv1":{"Success":2}},)"
        R"("notification_id":"abc"})");
}

TEST(outcome_details, anything_else_is_not_details) {
    hubs::result_record r{.hub = "main"};
    EXPECT_FALSE(api::render_outcome_details("n", r, "<Error><Code>404</Code></Error>"));
    EXPECT_FALSE(api::render_outcome_details("n", r, "not xml <"));
    EXPECT_FALSE(api::render_outcome_details("n", r, ""));
}

}  // namespace
