#pragma once
/**
 * @file TLS for the Redis source's integration tests: a throwaway certificate authority made with the
 * openssl command, a TLS port opened on a running redis-server, and a port that never answers.
 *
 * @code
 *   nhpush::testing::redis_process redis;
 *   nhpush::testing::redis_client r(redis.port());        // the test's own commands stay plain
 *   nhpush::testing::test_ca ca(redis.dir(), "ca");
 *   const auto port = nhpush::testing::enable_tls(r, ca.issue("server", "IP:127.0.0.1"), ca.cert_file());
 *   // the daemon gets url = "rediss://127.0.0.1:PORT/0", ca_file = ca.cert_file(), …
 * @endcode
 */

#include "redis_process.hpp"

#include <cstdint>
#include <string>

namespace nhpush::testing {

/** @brief A PEM certificate and its private key (mode 0600), as files. */
struct tls_identity {
    std::string cert_file;
    std::string key_file;
};

/** @brief A certificate authority in `dir` (NAME-ca.pem, NAME-ca.key), valid for a day. */
class test_ca {
public:
    /// @throws std::runtime_error if openssl fails or takes longer than 30 s.
    test_ca(std::string dir, std::string name);

    const std::string& cert_file() const noexcept { return ca_.cert_file; }

    /**
     * @brief A certificate signed by this CA, with `subject_alt_name` (e.g. "IP:127.0.0.1" or
     * "DNS:redis.example"), in NAME.pem and NAME.key. @throws std::runtime_error if openssl fails.
     */
    tls_identity issue(const std::string& name, const std::string& subject_alt_name) const;

private:
    std::string dir_;
    tls_identity ca_;
};

/**
 * @brief Opens a TLS port on a running redis-server (CONFIG SET, Redis 7) serving `server`, and
 * returns it. Its plain port stays open for the test's own commands (hiredis 0.14 has no TLS).
 * `client_ca_file`: the CA client certificates must chain to; with `require_client_certificates`
 * (Redis's default, `tls-auth-clients yes`) a client without one is refused.
 * @throws std::runtime_error if Redis refuses (e.g. it is built without TLS).
 */
std::uint16_t enable_tls(redis_client& redis,
                         const tls_identity& server,
                         const std::string& client_ca_file,
                         bool require_client_certificates = true);

/**
 * @brief A socket listening on 127.0.0.1 that never accepts: the kernel completes TCP connections
 * to it and nothing ever answers (a TLS handshake there waits for ever). Closed when destroyed.
 */
class silent_listener {
public:
    silent_listener();
    ~silent_listener();
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;

    std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace nhpush::testing
