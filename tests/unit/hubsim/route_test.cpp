#include "hubsim/route.hpp"

#include <gtest/gtest.h>

namespace nhpush::hubsim {
namespace {

using boost::beast::http::verb;

route parse(verb v, std::string_view target) {
    route r;
    EXPECT_TRUE(parse_route(v, target, r)) << target;
    return r;
}

TEST(hubsim_route, SendForms) {
    auto r = parse(verb::post, "/myhub/messages?api-version=2020-06");
    EXPECT_EQ(r.op, operation::send);
    EXPECT_EQ(r.hub, "myhub");
    EXPECT_EQ(r.api_version, "2020-06");
    EXPECT_FALSE(r.direct || r.test);
    r = parse(verb::post, "/myhub/messages/?api-version=2020-06&direct=true&test");  // JS adds the slash
    EXPECT_EQ(r.op, operation::send);
    EXPECT_TRUE(r.direct);
    EXPECT_TRUE(r.test);
    r = parse(verb::post, "/myhub/Messages?direct&api-version=2015-04");
    EXPECT_EQ(r.op, operation::send);
    EXPECT_TRUE(r.direct);
    EXPECT_EQ(r.api_version, "2015-04");
}

TEST(hubsim_route, AbsoluteFormAsThePythonSampleSends) {
    const auto r = parse(verb::post, "https://127.0.0.1:8443/MyHub/messages?api-version=2013-10&test");
    EXPECT_EQ(r.op, operation::send);
    EXPECT_EQ(r.hub, "MyHub");
    EXPECT_EQ(r.path, "/MyHub/messages");
    EXPECT_TRUE(r.test);
}

TEST(hubsim_route, OtherOperations) {
    EXPECT_EQ(parse(verb::post, "/h/messages/$batch?api-version=2020-06&direct").op, operation::batch_send);
    EXPECT_EQ(parse(verb::post, "/h/messages/%24batch?direct").op, operation::batch_send);
    EXPECT_EQ(parse(verb::post, "/h/schedulednotifications/?api-version=2020-06").op, operation::schedule);
    auto r = parse(verb::delete_, "/h/schedulednotifications/abc-1?api-version=2020-06");
    EXPECT_EQ(r.op, operation::cancel_scheduled);
    EXPECT_EQ(r.id, "abc-1");
    r = parse(verb::get, "/h/messages/id%2D7?api-version=2020-06");
    EXPECT_EQ(r.op, operation::get_details);
    EXPECT_EQ(r.id, "id-7");
    EXPECT_EQ(parse(verb::get, "/$stats").op, operation::get_stats);
    EXPECT_EQ(parse(verb::get, "/$admin/faults").op, operation::get_faults);
    r = parse(verb::patch, "/$admin/faults");
    EXPECT_EQ(r.op, operation::set_faults);
    EXPECT_TRUE(r.merge);
}

TEST(hubsim_route, UnknownPathsAndWrongMethods) {
    EXPECT_EQ(parse(verb::get, "/h/messages?api-version=2020-06").op, operation::bad_method);
    EXPECT_EQ(parse(verb::post, "/h/schedulednotifications/x").op, operation::bad_method);
    EXPECT_EQ(parse(verb::post, "/$stats").op, operation::bad_method);
    EXPECT_EQ(parse(verb::post, "/h").op, operation::unknown_path);
    EXPECT_EQ(parse(verb::post, "/h/registrations").op, operation::unknown_path);
    EXPECT_EQ(parse(verb::post, "/h/messages/a/b/c/d/e/f").op, operation::unknown_path);
    EXPECT_EQ(parse(verb::post, "//messages").op, operation::unknown_path);
    EXPECT_EQ(parse(verb::post, "/$x/messages").op, operation::unknown_path);
    route r;
    EXPECT_FALSE(parse_route(verb::post, "not a url", r));
}

TEST(hubsim_route, ReuseClearsThePreviousRequest) {
    route r;
    ASSERT_TRUE(parse_route(verb::post, "/a/messages?api-version=1&direct&test", r));
    ASSERT_TRUE(parse_route(verb::post, "/b/messages", r));
    EXPECT_EQ(r.hub, "b");
    EXPECT_TRUE(r.api_version.empty());
    EXPECT_FALSE(r.direct || r.test);
}

}  // namespace
}  // namespace nhpush::hubsim
