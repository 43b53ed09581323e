#pragma once
/** @file A small blocking HTTPS/1.1 client for tests: verifies the server's certificate against a CA
 * file, keeps its connection alive between requests, and never waits past a deadline. */

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace nhpush::testing {

/** @brief The request and response types of https_client. */
using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/** @brief Which TLS versions a client offers. */
enum class tls_versions { any, tls12_only, tls13_only };

/**
 * @brief One kept-alive HTTPS connection to `host:port` (connected on first use, reconnected
 * after the server closed it). Verifies the certificate chain and the host name (or IP).
 * Not thread-safe.
 */
class https_client {
public:
    https_client(std::uint16_t port,
                 std::string ca_file,
                 std::string host = "127.0.0.1",
                 tls_versions versions = tls_versions::any);
    ~https_client();
    https_client(https_client&&) noexcept;

    /// Sends `req` (Host and Content-Length are filled in) and reads the answer.
    /// @returns the error of the first step that failed (then the connection is closed).
    boost::system::error_code send(http_request req,
                                   http_response& res,
                                   std::chrono::milliseconds timeout = std::chrono::seconds{10});

    /// send() that throws std::runtime_error on any error.
    http_response request(http_request req, std::chrono::milliseconds timeout = std::chrono::seconds{10});

    /// Waits for the server to close the idle connection; true if it did within `timeout`.
    bool wait_closed_by_server(std::chrono::milliseconds timeout);

    /// True while a connection is open.
    bool connected() const noexcept;

    /// How many TCP connections this client has opened.
    unsigned connections_opened() const noexcept;

    /// The TLS version of the current connection, e.g. "TLSv1.3"; empty when not connected.
    std::string tls_version() const;

    /// Closes the connection (the next request opens a new one).
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/** @brief `GET target` with no other header. */
http_request make_get(std::string target);

/** @brief A request with a method, target and body (no headers yet). */
http_request make_request(boost::beast::http::verb method, std::string target, std::string body = {});

}  // namespace nhpush::testing
