#include "nhpush/sas_token.hpp"

#include "detail/text.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <array>
#include <stdexcept>

namespace nhpush {
namespace {

// encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are.
constexpr auto uri_component_chars = boost::urls::unreserved_chars + boost::urls::grammar::lut_chars("!*'()");

}  // namespace

std::string hmac_sha256_base64(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(),
         key.data(),
         static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()),
         data.size(),
         mac.data(),
         &mac_len);
    std::string out(4 * ((mac_len + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac.data(), static_cast<int>(mac_len));
    return out;
}

std::string encode_uri_component(std::string_view text) {
    return boost::urls::encode(text, uri_component_chars);
}

std::string make_sas_token(std::string_view key_name,
                           std::string_view key,
                           std::string_view resource_uri,
                           std::int64_t expiry_unix_seconds) {
    const auto sr = encode_uri_component(detail::to_lower(resource_uri));
    const auto se = std::to_string(expiry_unix_seconds);
    const auto sig = encode_uri_component(hmac_sha256_base64(key, sr + "\n" + se));
    return fmt::format(
        "SharedAccessSignature sr={}&sig={}&se={}&skn={}", sr, sig, se, encode_uri_component(key_name));
}

sas_token_cache::sas_token_cache(std::string key_name,
                                 std::string key,
                                 sas_token_config config,
                                 clock_function clock)
    : key_name_(std::move(key_name)), key_(std::move(key)), config_(config), clock_(std::move(clock)) {
    if (config_.lifetime <= std::chrono::seconds::zero()) {
        throw std::invalid_argument("sas token lifetime must be positive");
    }
    if (config_.renew_margin < std::chrono::seconds::zero() || config_.renew_margin >= config_.lifetime) {
        throw std::invalid_argument("sas token renew_margin must be at least 0 and less than the lifetime");
    }
}

std::shared_ptr<const sas_token> sas_token_cache::get(const std::string& resource_uri) {
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    auto& slot = tokens_[resource_uri];
    if (!slot || !slot->fresh_at(now)) {
        const auto expires_at = std::chrono::time_point_cast<std::chrono::seconds>(now + config_.lifetime);
        const auto expiry = expires_at.time_since_epoch().count();
        slot =
            std::make_shared<const sas_token>(sas_token{make_sas_token(key_name_, key_, resource_uri, expiry),
                                                        expires_at,
                                                        expires_at - config_.renew_margin});
        ++signed_count_;
    }
    return slot;
}

std::uint64_t sas_token_cache::signed_count() const {
    std::lock_guard lock(mutex_);
    return signed_count_;
}

}  // namespace nhpush
