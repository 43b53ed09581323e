#include <nhpush/sas_token.hpp>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

using namespace std::chrono;
using nhpush::make_sas_token;
using nhpush::sas_token_cache;

namespace {

// Vectors made with the official JavaScript SDK (tests/sdk-js/make-sas-vectors.mjs).
TEST(sas_token, byte_identical_to_the_official_javascript_sdk) {
    std::ifstream in(NHPUSH_TEST_DATA "/sas_token_vectors.json");
    ASSERT_TRUE(in) << "missing test data";
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    ASSERT_TRUE(doc.IsArray());
    ASSERT_GE(doc.Size(), 8u);
    for (const auto& v : doc.GetArray()) {
        EXPECT_EQ(make_sas_token(v["key_name"].GetString(),
                                 v["key"].GetString(),
                                 v["resource_uri"].GetString(),
                                 v["expiry"].GetInt64()),
                  v["token"].GetString())
            << "resource " << v["resource_uri"].GetString();
    }
}

TEST(sas_token, encodes_like_encode_uri_component) {
    EXPECT_EQ(nhpush::encode_uri_component("a b!*'()~-_.é/:?=&+"), "a%20b!*'()~-_.%C3%A9%2F%3A%3F%3D%26%2B");
}

struct fake_clock {
    system_clock::time_point now = system_clock::time_point{seconds{1'700'000'000}};
    auto function() {
        return [this] { return now; };
    }
};

TEST(sas_token_cache, signs_once_and_reuses_the_token_until_the_margin) {
    fake_clock clock;
    sas_token_cache cache("rule", "key", {seconds{300}, seconds{60}}, clock.function());
    const auto first = cache.get("https://ns/hub");
    EXPECT_EQ(first->expires_at, clock.now + seconds{300});
    EXPECT_NE(first->authorization.find("se=1700000300"), std::string::npos);

    clock.now += seconds{239};  // 61 s left: still fresh
    EXPECT_EQ(cache.get("https://ns/hub"), first);
    EXPECT_EQ(cache.signed_count(), 1u);

    clock.now += seconds{1};  // 60 s left: renewed
    const auto second = cache.get("https://ns/hub");
    EXPECT_NE(second, first);
    EXPECT_EQ(second->expires_at, clock.now + seconds{300});
    EXPECT_EQ(cache.signed_count(), 2u);
    // The old token stays valid for whoever still holds it.
    EXPECT_NE(first->authorization, second->authorization);
}

// Sample bug 9: a new token for every request.
TEST(sas_token_cache, sample_bug_9_one_token_per_resource_not_per_request) {
    fake_clock clock;
    sas_token_cache cache("rule", "key", {}, clock.function());
    for (int i = 0; i < 1000; ++i) {
        cache.get("https://ns/hub-a");
        cache.get("https://ns/hub-b");
    }
    EXPECT_EQ(cache.signed_count(), 2u);
}

TEST(sas_token_cache, token_matches_the_pure_signer) {
    fake_clock clock;
    sas_token_cache cache("rule", "key", {seconds{300}, seconds{30}}, clock.function());
    EXPECT_EQ(cache.get("https://ns/hub")->authorization,
              make_sas_token("rule", "key", "https://ns/hub", 1'700'000'300));
}

TEST(sas_token_cache, rejects_inconsistent_config) {
    EXPECT_THROW(sas_token_cache("r", "k", {seconds{60}, seconds{60}}), std::invalid_argument);
    EXPECT_THROW(sas_token_cache("r", "k", {seconds{0}, seconds{0}}), std::invalid_argument);
}

}  // namespace
