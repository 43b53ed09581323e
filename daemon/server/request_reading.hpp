#pragma once
/** @file How a session reads a request: the parser's limits, and the answer to one that cannot be read.
 * Apart from the session so that the fuzz target (fuzz/fuzz_http_request.cpp) parses as it does. */

#include "submission/api_error.hpp"
#include "config/config.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <optional>

namespace nhpush::server {

/** @brief The parser a session reads each request with. */
using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/** @brief Sets header_limit = max_header_bytes and body_limit = max_body_bytes on a fresh parser. */
void apply_request_limits(request_parser& parser, const config::daemon_config& limits);

/** @brief The answer to a request that could not be read, or nothing when the connection just ended. */
std::optional<api::api_error> read_failure(const boost::system::error_code& ec);

}  // namespace nhpush::server
