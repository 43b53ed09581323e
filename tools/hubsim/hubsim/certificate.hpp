#pragma once
/** @file A self-signed TLS certificate for loopback, made at start with the OpenSSL 3 API. */

#include <chrono>
#include <string>

namespace nhpush::hubsim {

/** @brief A certificate and its private key, both PEM. */
struct pem_certificate {
    std::string certificate;
    std::string private_key;  ///< never written anywhere by hubsim
};

/**
 * @brief Makes a self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost.
 *
 * Subject and issuer `CN=nhpush-hubsim`; SAN `IP:127.0.0.1, IP:::1, DNS:localhost`; serverAuth;
 * valid from an hour ago for `validity`. Clients trust it by taking the certificate itself as
 * their CA file.
 * @throws std::runtime_error if OpenSSL fails.
 */
pem_certificate make_self_signed_certificate(std::chrono::hours validity = std::chrono::hours{24 * 30});

}  // namespace nhpush::hubsim
