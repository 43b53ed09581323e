// Fuzzes how nhpushd reads a request from a client (daemon/server/http_session.cpp): the same Beast
// request_parser with the same limits (server::apply_request_limits, default daemon_config), fed the
// way the session's reads feed it (header first, then the body eagerly) in chunks whose size the
// first byte picks; then the failure is mapped as the session maps it (server::read_failure).

#include "fuzz_check.hpp"

#include "server/request_reading.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t chunk = 1 + data[0] % 64 * 16;  // 1, 17, … 1009 bytes a read
    const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

    const nhpush::config::daemon_config limits{};
    nhpush::server::request_parser parser;
    nhpush::server::apply_request_limits(parser, limits);

    std::string buffer;  // what was received and not yet consumed, as in the session's flat_buffer
    std::size_t received = 0;
    boost::system::error_code ec;
    while (!parser.is_done()) {
        // async_read_header parses only the header; async_read then parses the body eagerly.
        parser.eager(parser.is_header_done());
        if (!buffer.empty()) {
            const auto used = parser.put(boost::asio::buffer(buffer), ec);
            buffer.erase(0, used);
            if (ec == http::error::need_more) {
                ec = {};
            } else if (ec) {
                break;
            } else if (used > 0) {
                continue;
            }
        }
        if (received == wire.size()) {
            // The client closed the connection; as Beast's read does: put_eof only after some bytes.
            if (parser.got_some()) {
                parser.put_eof(ec);
            } else {
                ec = http::error::end_of_stream;
            }
            break;
        }
        const auto n = std::min(chunk, wire.size() - received);
        buffer.append(wire.substr(received, n));
        received += n;
    }

    if (!ec && parser.is_done()) {
        const auto& req = parser.get();
        NHPUSH_FUZZ_CHECK(req.body().size() <= limits.max_body_bytes);
    } else if (const auto failure = nhpush::server::read_failure(ec)) {
        NHPUSH_FUZZ_CHECK(!failure->message.empty());
    }
    return 0;
}
