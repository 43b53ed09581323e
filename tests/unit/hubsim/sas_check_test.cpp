#include "hubsim/sas_check.hpp"

#include <nhpush/sas_token.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace nhpush::hubsim {
namespace {

constexpr std::int64_t now = 1'700'000'000;
constexpr std::int64_t later = now + 3600;
const std::vector<credential> keys = {{"Listen", "listen-key"}, {"Full", "full-key="}};

/// A token over an `sr` text given exactly (already encoded), with the fields in `order`.
std::string token(std::string_view sr,
                  std::string_view key,
                  std::int64_t se,
                  std::string_view skn = "Full",
                  bool sample_order = false) {
    const auto se_text = std::to_string(se);
    const auto data = std::string(sr) + "\n" + se_text;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(),
         key.data(),
         static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()),
         data.size(),
         mac,
         &len);
    std::string b64(4 * ((len + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(len));
    const auto sig = encode_uri_component(b64);
    return sample_order ? "SharedAccessSignature sig=" + sig + "&se=" + se_text + "&skn=" + std::string(skn) +
                              "&sr=" + std::string(sr)
                        : "SharedAccessSignature sr=" + std::string(sr) + "&sig=" + sig + "&se=" + se_text +
                              "&skn=" + std::string(skn);
}

auth_failure check(std::string_view authorization,
                   std::string_view path = "/hub/messages",
                   std::string_view host = "127.0.0.1:8443") {
    sas_claims claims;
    if (auto f = verify_signature(authorization, keys, claims); f != auth_failure::none) {
        return f;
    }
    return check_scope(claims, host, path, now);
}

TEST(hubsim_sas, AcceptsTheLibrarysTokensForRootAndHub) {
    EXPECT_EQ(check(make_sas_token("Full", "full-key=", "https://127.0.0.1:8443/", later)),
              auth_failure::none);
    EXPECT_EQ(check(make_sas_token("Full", "full-key=", "https://127.0.0.1:8443/hub", later)),
              auth_failure::none);
    EXPECT_EQ(check(make_sas_token("Listen", "listen-key", "https://127.0.0.1:8443/hub", later)),
              auth_failure::none);
}

TEST(hubsim_sas, AcceptsEveryOfficialClientsScopeAndOrder) {
    // The Python sample: lower-case escapes, sig first.
    EXPECT_EQ(check(token("https%3a%2f%2f127.0.0.1%3a8443%2fhub", "full-key=", later, "Full", true)),
              auth_failure::none);
    // .NET: http, the path with a trailing slash.
    EXPECT_EQ(check(token("http%3a%2f%2f127.0.0.1%3a8443%2fhub%2fmessages%2f", "full-key=", later)),
              auth_failure::none);
    // Java: the full request URI with its query.
    EXPECT_EQ(check(token("https%3a%2f%2f127.0.0.1%3a8443%2fhub%2fmessages%3fapi-version%3d2020-06%26direct",
                          "full-key=",
                          later)),
              auth_failure::none);
    // Upper-case host and hub in sr, lower-case in the request.
    EXPECT_EQ(check(token("HTTPS%3A%2F%2F127.0.0.1%3A8443%2FHub", "full-key=", later)), auth_failure::none);
}

TEST(hubsim_sas, NamesEachFailure) {
    EXPECT_EQ(check(""), auth_failure::missing_token);
    EXPECT_EQ(check("Bearer x"), auth_failure::malformed_token);
    EXPECT_EQ(check("SharedAccessSignature sr=a&sig=b&se=1"), auth_failure::malformed_token);  // no skn
    EXPECT_EQ(check("SharedAccessSignature sr=a&sr=a&sig=b&se=1&skn=Full"), auth_failure::malformed_token);
    EXPECT_EQ(check("SharedAccessSignature sr=a&sig=b&se=12x&skn=Full"), auth_failure::malformed_token);
    EXPECT_EQ(check("SharedAccessSignature sr=a&sig=%zz&se=1&skn=Full"), auth_failure::malformed_token);
    EXPECT_EQ(check(token("https%3a%2f%2f127.0.0.1%3a8443%2fhub", "full-key=", later, "Nobody")),
              auth_failure::unknown_key_name);
    EXPECT_EQ(check(token("https%3a%2f%2f127.0.0.1%3a8443%2fhub", "wrong", later)),
              auth_failure::invalid_signature);
    EXPECT_EQ(check(token("https%3a%2f%2f127.0.0.1%3a8443%2fhub", "full-key=", now)),
              auth_failure::expired_token);
    EXPECT_EQ(check(token("ftp%3a%2f%2f127.0.0.1%3a8443%2fhub", "full-key=", later)),
              auth_failure::invalid_audience);
}

TEST(hubsim_sas, TheSignatureCoversSrExactlyAsSent) {
    // Same URI, but the signature was made over the upper-case escapes and sr is sent lower-case.
    auto t = token("https%3A%2F%2F127.0.0.1%3A8443%2Fhub", "full-key=", later);
    t.replace(t.find("sr=") + 3, 36, "https%3a%2f%2f127.0.0.1%3a8443%2fhub");
    EXPECT_EQ(check(t), auth_failure::invalid_signature);
}

TEST(hubsim_sas, TheAudienceMustCoverTheRequest) {
    const auto for_uri = [](std::string_view uri) { return make_sas_token("Full", "full-key=", uri, later); };
    EXPECT_EQ(check(for_uri("https://127.0.0.1:8443/other")), auth_failure::invalid_audience);
    EXPECT_EQ(check(for_uri("https://127.0.0.1:8443/hu")), auth_failure::invalid_audience);
    EXPECT_EQ(check(for_uri("https://127.0.0.1:8443/hub/messages/$batch")), auth_failure::invalid_audience);
    EXPECT_EQ(check(for_uri("https://127.0.0.1:8443/hub/messages/$batch"), "/hub/messages/$batch"),
              auth_failure::none);
    EXPECT_EQ(check(for_uri("https://127.0.0.2:8443/hub")), auth_failure::invalid_audience);
    EXPECT_EQ(check(for_uri("https://127.0.0.1:9999/hub")), auth_failure::invalid_audience);
    EXPECT_EQ(check(for_uri("https://localhost:8443/hub"), "/hub/messages", "LOCALHOST:8443"),
              auth_failure::none);
    // No port in sr: any port of that host (the service's namespaces live on 443).
    EXPECT_EQ(check(for_uri("https://127.0.0.1/hub")), auth_failure::none);
    EXPECT_EQ(check(for_uri("https://ns.example.net/hub"), "/hub/messages", "ns.example.net"),
              auth_failure::none);
    EXPECT_EQ(check(for_uri("https://ns.example.net:443/hub"), "/hub/messages", "ns.example.net"),
              auth_failure::none);
}

TEST(hubsim_sas, VerifierCachesSignaturesButRechecksScopeAndTime) {
    sas_verifier v(keys);
    const auto t = make_sas_token("Full", "full-key=", "https://127.0.0.1:8443/hub", later);
    EXPECT_EQ(v.check(t, "127.0.0.1:8443", "/hub/messages", now), auth_failure::none);
    EXPECT_EQ(v.check(t, "127.0.0.1:8443", "/hub/messages", now), auth_failure::none);
    EXPECT_EQ(v.check(t, "127.0.0.1:8443", "/other/messages", now), auth_failure::invalid_audience);
    EXPECT_EQ(v.check(t, "127.0.0.1:8443", "/hub/messages", later), auth_failure::expired_token);
    const auto bad = make_sas_token("Full", "nope", "https://127.0.0.1:8443/hub", later);
    EXPECT_EQ(v.check(bad, "127.0.0.1:8443", "/hub/messages", now), auth_failure::invalid_signature);
    EXPECT_EQ(v.check(bad, "127.0.0.1:8443", "/hub/messages", now), auth_failure::invalid_signature);
}

TEST(hubsim_sas, ReasonCodesMatchTheServicesWords) {
    EXPECT_EQ(reason_code(auth_failure::invalid_signature), "InvalidSignature");
    EXPECT_EQ(reason_code(auth_failure::expired_token), "ExpiredToken");
    EXPECT_EQ(reason_code(auth_failure::unknown_key_name), "UnknownKeyName");
    EXPECT_EQ(reason_code(auth_failure::missing_token), "MissingToken");
    EXPECT_EQ(reason_code(auth_failure::invalid_audience), "InvalidAudience");
    EXPECT_EQ(reason_message(auth_failure::invalid_signature), "The token has an invalid signature.");
}

}  // namespace
}  // namespace nhpush::hubsim
