#pragma once
/** @file Shared Access Signature tokens and their cache. */

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace nhpush {

/**
 * @brief Makes `SharedAccessSignature sr=…&sig=…&se=…&skn=…` exactly as the official SDKs do.
 *
 * `sr` is the lower-cased `resource_uri` percent-encoded like JavaScript's encodeURIComponent;
 * `sig` is the percent-encoded base64 of HMAC-SHA256 keyed with the UTF-8 bytes of `key` over
 * `sr + "\n" + expiry`; `skn` is the percent-encoded key name. Pure and thread-safe.
 */
std::string make_sas_token(std::string_view key_name,
                           std::string_view key,
                           std::string_view resource_uri,
                           std::int64_t expiry_unix_seconds);

/** @brief Standard base64 of HMAC-SHA256(key, data): the signature of a SAS token before encoding. */
std::string hmac_sha256_base64(std::string_view key, std::string_view data);

/** @brief Percent-encodes like JavaScript's encodeURIComponent (upper-case hex). */
std::string encode_uri_component(std::string_view text);

/** @brief Lifetime settings of cached SAS tokens. */
struct sas_token_config {
    /// How long a new token is valid. The Python sample uses 300 s.
    std::chrono::seconds lifetime{300};
    /// A token is renewed once less than this is left of its life; must be less than `lifetime`.
    std::chrono::seconds renew_margin{60};
};

/** @brief A signed token and the moments that matter for it. Immutable once made. */
struct sas_token {
    std::string authorization;  ///< the whole Authorization header value
    std::chrono::system_clock::time_point expires_at;
    std::chrono::system_clock::time_point renew_at;  ///< expires_at - renew_margin

    /// True while the token may still be used without renewal.
    bool fresh_at(std::chrono::system_clock::time_point now) const noexcept { return now < renew_at; }
};

/**
 * @brief One token per resource URI, signed once and renewed ahead of expiry.
 *
 * Thread-safety: get() may be called from any thread; it takes a mutex. The hot path need not call
 * it per request: keep the returned pointer and call get() again only once `fresh_at(now)` is false.
 * Tokens are shared immutable objects, so a pointer stays valid after the cache renews its entry.
 */
class sas_token_cache {
public:
    using clock_function = std::function<std::chrono::system_clock::time_point()>;

    /// @throws std::invalid_argument if the config is inconsistent (names the field).
    sas_token_cache(std::string key_name,
                    std::string key,
                    sas_token_config config = {},
                    clock_function clock = &std::chrono::system_clock::now);

    /// A token for `resource_uri` that is fresh now; signs only when the cached one is not.
    std::shared_ptr<const sas_token> get(const std::string& resource_uri);

    /// How many tokens were signed so far (for tests and metrics).
    std::uint64_t signed_count() const;

private:
    std::string key_name_;
    std::string key_;
    sas_token_config config_;
    clock_function clock_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const sas_token>, std::less<>> tokens_;
    std::uint64_t signed_count_ = 0;
};

}  // namespace nhpush
