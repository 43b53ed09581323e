#pragma once
/** @file Checking `SharedAccessSignature` tokens the way Notification Hubs does (pure: no I/O). */

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::hubsim {

/** @brief One access policy: a key name and its key (used as written, not base64-decoded). */
struct credential {
    std::string key_name;
    std::string key;
};

/** @brief Why a request was not authorized, or none. */
enum class auth_failure : std::uint8_t {
    none,
    missing_token,      ///< no Authorization header
    malformed_token,    ///< not `SharedAccessSignature` with sr, sig, se and skn
    unknown_key_name,   ///< skn names no configured policy
    invalid_signature,  ///< sig is not the HMAC of `sr + "\n" + se` under the key
    expired_token,      ///< se is not in the future
    invalid_audience    ///< sr does not cover the request's host and path
};

/** @brief Number of auth_failure values (for counters indexed by it). */
inline constexpr std::size_t auth_failure_count = 7;

/** @brief The reason word that starts the 401 Detail, e.g. `InvalidSignature`. */
std::string_view reason_code(auth_failure f) noexcept;

/** @brief A sentence explaining `f`, e.g. `The token has an invalid signature.` */
std::string_view reason_message(auth_failure f) noexcept;

/** @brief What a token with a valid signature grants. */
struct sas_claims {
    std::int64_t expiry = 0;    ///< se, seconds since the epoch
    std::string audience_host;  ///< sr's host, lower-cased
    std::string audience_port;  ///< sr's port, empty when sr names none
    std::string audience_path;  ///< sr's decoded path, lower-cased, without a trailing `/`
};

/**
 * @brief Parses an Authorization value and verifies its signature.
 *
 * The fields may come in any order; `sig` and `skn` are percent-decoded, and the HMAC-SHA256 keyed
 * with the UTF-8 bytes of the key is recomputed over the `sr` text exactly as sent, a newline, and
 * the `se` text. Time and audience are checked separately by check_scope().
 * @returns none with `out` filled, or the failure.
 */
auth_failure verify_signature(std::string_view authorization,
                              std::span<const credential> keys,
                              sas_claims& out);

/**
 * @brief Checks that claims allow a request at `now_unix` for `host` (the Host header, `host[:port]`)
 * and `path` (the request's decoded path).
 *
 * sr's scheme may be http or https; host and path compare case-insensitively; a port in sr must
 * match the Host's port (443 when the Host names none); sr's path covers itself and everything
 * below it (a token for `/hub` is valid for `/hub/messages` but not for `/hub2`).
 */
auth_failure check_scope(const sas_claims& claims,
                         std::string_view host,
                         std::string_view path,
                         std::int64_t now_unix);

/**
 * @brief verify_signature() + check_scope() with a small cache of verified tokens.
 *
 * Clients reuse one token for many requests, so the signature is recomputed only for a token not
 * seen recently. Not thread-safe: one per worker thread.
 */
class sas_verifier {
public:
    explicit sas_verifier(std::vector<credential> keys) : keys_(std::move(keys)) {}

    /// Checks one request's Authorization value (empty when the header is absent).
    auth_failure check(std::string_view authorization,
                       std::string_view host,
                       std::string_view path,
                       std::int64_t now_unix);

private:
    struct entry {
        std::string authorization;
        sas_claims claims;
    };
    std::vector<credential> keys_;
    std::array<entry, 4> cache_;
    std::size_t next_slot_ = 0;
};

}  // namespace nhpush::hubsim
