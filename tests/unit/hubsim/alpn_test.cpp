// ALPN selection: h2 when offered and served, http/1.1 otherwise, nothing from a malformed list.

#include "hubsim/alpn.hpp"

#include <gtest/gtest.h>

namespace nhpush::hubsim {
namespace {

using namespace std::string_view_literals;

constexpr auto both = "\x02h2\x08http/1.1"sv;
constexpr auto http1_first = "\x08http/1.1\x02h2"sv;
constexpr auto only_http1 = "\x08http/1.1"sv;
constexpr auto only_h2 = "\x02h2"sv;
constexpr auto other = "\x08spdy/3.1\x06h2-14"sv;

TEST(hubsim_alpn, PrefersH2WhenOfferedAndServed) {
    const http2_config all;
    EXPECT_EQ(choose_alpn(both, all), "h2");
    EXPECT_EQ(choose_alpn(http1_first, all), "h2");  // the server's preference, not the client's order
    EXPECT_EQ(choose_alpn(only_h2, all), "h2");
    EXPECT_EQ(choose_alpn(only_http1, all), "http/1.1");
    EXPECT_EQ(choose_alpn(other, all), "");
    EXPECT_EQ(choose_alpn("", all), "");
}

TEST(hubsim_alpn, FollowsTheProtocolsServed) {
    const http2_config http1{.serve_h2 = false};
    EXPECT_EQ(choose_alpn(both, http1), "http/1.1");
    EXPECT_EQ(choose_alpn(only_h2, http1), "");
    const http2_config h2{.serve_http1 = false};
    EXPECT_EQ(choose_alpn(both, h2), "h2");
    EXPECT_EQ(choose_alpn(only_http1, h2), "");
}

TEST(hubsim_alpn, PointsIntoTheOfferAndRejectsMalformedLists) {
    const auto chosen = choose_alpn(both, {});
    EXPECT_EQ(chosen.data(), both.data() + 1);
    EXPECT_EQ(choose_alpn("\x09h2", {}), "");        // length past the end
    EXPECT_EQ(choose_alpn("\x00\x02h2"sv, {}), "");  // an empty name
    EXPECT_TRUE(alpn_offers(both, "http/1.1"));
    EXPECT_FALSE(alpn_offers(other, "h2"));
}

}  // namespace
}  // namespace nhpush::hubsim
