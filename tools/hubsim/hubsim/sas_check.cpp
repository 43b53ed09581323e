// SAS token verification as the service does it (nh-rest.md §7.1).

#include "hubsim/sas_check.hpp"

#include <nhpush/sas_token.hpp>

#include <openssl/crypto.h>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <cctype>

namespace nhpush::hubsim {
namespace {

constexpr std::string_view scheme_prefix = "SharedAccessSignature ";

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

void lower_in_place(std::string& s) noexcept {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
}

/// Percent-decodes `text` (a `+` stays a `+`, as the service reads it); false if malformed.
bool pct_decode(std::string_view text, std::string& out) {
    auto pct = boost::urls::make_pct_string_view(text);
    if (!pct) {
        return false;
    }
    out.assign(pct->decoded_size(), '\0');
    pct->decode({}, boost::urls::string_token::assign_to(out));
    return true;
}

struct token_fields {
    std::string_view sr, sig, se, skn;
};

bool split_token(std::string_view authorization, token_fields& f) {
    if (!istarts_with(authorization, scheme_prefix)) {
        return false;
    }
    auto rest = authorization.substr(scheme_prefix.size());
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            return false;
        }
        const auto name = part.substr(0, eq);
        const auto value = part.substr(eq + 1);
        std::string_view* slot = name == "sr"    ? &f.sr
                                 : name == "sig" ? &f.sig
                                 : name == "se"  ? &f.se
                                 : name == "skn" ? &f.skn
                                                 : nullptr;
        if (slot != nullptr) {
            if (!slot->empty()) {
                return false;  // a field given twice is ambiguous
            }
            *slot = value;
        }
    }
    return !f.sr.empty() && !f.sig.empty() && !f.se.empty() && !f.skn.empty();
}

bool parse_expiry(std::string_view se, std::int64_t& out) {
    if (se.empty() || se.size() > 15) {
        return false;
    }
    std::int64_t v = 0;
    for (char c : se) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

std::string base64_hmac_sha256(std::string_view key, std::string_view sr, std::string_view se) {
    std::string data;
    data.reserve(sr.size() + 1 + se.size());
    data.append(sr).append(1, '\n').append(se);
    return nhpush::hmac_sha256_base64(key, data);
}

/// Fills the audience of `claims` from the decoded sr; false if it is not an http(s) URL.
bool parse_audience(std::string_view decoded_sr, sas_claims& claims) {
    auto url = boost::urls::parse_uri(decoded_sr);
    if (!url || !(iequals(url->scheme(), "https") || iequals(url->scheme(), "http")) ||
        !url->has_authority()) {
        return false;
    }
    claims.audience_host = url->encoded_host();
    lower_in_place(claims.audience_host);
    claims.audience_port = url->port();
    claims.audience_path.clear();
    for (auto seg : url->encoded_segments()) {
        const auto decoded = *seg;
        if (decoded.empty()) {
            continue;
        }
        claims.audience_path.push_back('/');
        claims.audience_path.append(decoded.begin(), decoded.end());
    }
    lower_in_place(claims.audience_path);
    return true;
}

}  // namespace

std::string_view reason_code(auth_failure f) noexcept {
    switch (f) {
        case auth_failure::none:
            return "None";
        case auth_failure::missing_token:
            return "MissingToken";
        case auth_failure::malformed_token:
            return "MalformedToken";
        case auth_failure::unknown_key_name:
            return "UnknownKeyName";
        case auth_failure::invalid_signature:
            return "InvalidSignature";
        case auth_failure::expired_token:
            return "ExpiredToken";
        case auth_failure::invalid_audience:
            return "InvalidAudience";
    }
    return "Unknown";
}

std::string_view reason_message(auth_failure f) noexcept {
    switch (f) {
        case auth_failure::none:
            return "The token is valid.";
        case auth_failure::missing_token:
            return "The Authorization header is missing.";
        case auth_failure::malformed_token:
            return "The token is not a SharedAccessSignature with sr, sig, se and skn.";
        case auth_failure::unknown_key_name:
            return "The token names an unknown shared access key.";
        case auth_failure::invalid_signature:
            return "The token has an invalid signature.";
        case auth_failure::expired_token:
            return "The token is expired.";
        case auth_failure::invalid_audience:
            return "The token's audience does not cover the request URL.";
    }
    return "Unknown.";
}

auth_failure verify_signature(std::string_view authorization,
                              std::span<const credential> keys,
                              sas_claims& out) {
    if (authorization.empty()) {
        return auth_failure::missing_token;
    }
    token_fields f;
    std::string key_name, sig, decoded_sr;
    if (!split_token(authorization, f) || !parse_expiry(f.se, out.expiry) || !pct_decode(f.skn, key_name) ||
        !pct_decode(f.sig, sig) || !pct_decode(f.sr, decoded_sr)) {
        return auth_failure::malformed_token;
    }
    const auto key =
        std::find_if(keys.begin(), keys.end(), [&](const credential& c) { return c.key_name == key_name; });
    if (key == keys.end()) {
        return auth_failure::unknown_key_name;
    }
    const auto expected = base64_hmac_sha256(key->key, f.sr, f.se);
    if (expected.size() != sig.size() || CRYPTO_memcmp(expected.data(), sig.data(), sig.size()) != 0) {
        return auth_failure::invalid_signature;
    }
    return parse_audience(decoded_sr, out) ? auth_failure::none : auth_failure::invalid_audience;
}

auth_failure check_scope(const sas_claims& claims,
                         std::string_view host,
                         std::string_view path,
                         std::int64_t now_unix) {
    if (claims.expiry <= now_unix) {
        return auth_failure::expired_token;
    }
    std::string_view host_port = "443";
    if (const auto colon = host.rfind(':');
        colon != std::string_view::npos && host.find(']', colon) == host.npos) {
        host_port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    if (!iequals(host, claims.audience_host) ||
        (!claims.audience_port.empty() && claims.audience_port != host_port)) {
        return auth_failure::invalid_audience;
    }
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    const auto& scope = claims.audience_path;
    const bool covered = path.size() >= scope.size() && iequals(path.substr(0, scope.size()), scope) &&
                         (path.size() == scope.size() || path[scope.size()] == '/');
    return covered ? auth_failure::none : auth_failure::invalid_audience;
}

auth_failure sas_verifier::check(std::string_view authorization,
                                 std::string_view host,
                                 std::string_view path,
                                 std::int64_t now_unix) {
    for (const auto& e : cache_) {
        if (!e.authorization.empty() && e.authorization == authorization) {
            return check_scope(e.claims, host, path, now_unix);
        }
    }
    sas_claims claims;
    if (const auto f = verify_signature(authorization, keys_, claims); f != auth_failure::none) {
        return f;
    }
    auto& slot = cache_[next_slot_];
    next_slot_ = (next_slot_ + 1) % cache_.size();
    slot.authorization.assign(authorization);
    slot.claims = claims;
    return check_scope(claims, host, path, now_unix);
}

}  // namespace nhpush::hubsim
