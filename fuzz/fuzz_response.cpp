// Fuzzes response classification (lib: classify_response) over a hub answer parsed from the bytes by
// Beast's response_parser with the sender's limits (status line, headers such as Retry-After,
// Location and TrackingId, and an XML body), plus the helpers it uses.

#include "fuzz_check.hpp"

#include <nhpush/notification_hub.hpp>
#include <nhpush/response.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace http = boost::beast::http;
using nhpush::fuzz::fixed_now;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view wire(reinterpret_cast<const char*>(data), size);

    // The helpers, on the raw bytes too: they see header values and bodies of any content.
    (void)nhpush::parse_retry_after(wire, fixed_now);
    (void)nhpush::notification_id_from_location(wire);
    (void)nhpush::parse_test_send_outcome(wire);

    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(nhpush::hub_client_config{}.max_response_bytes);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (ec == http::error::need_more && parser.got_some()) {
        parser.put_eof(ec);  // the hub closed the connection (put_eof needs some bytes first)
    }
    if (ec || !parser.is_done()) {
        return 0;
    }
    const auto& res = parser.get();
    const auto r = nhpush::classify_response(res, fixed_now);
    NHPUSH_FUZZ_CHECK(r.status == res.result_int());
    NHPUSH_FUZZ_CHECK((r.kind == nhpush::response_kind::success) == (r.status / 100 == 2));
    NHPUSH_FUZZ_CHECK(!r.retry_after || r.retry_after->count() >= 0);
    return 0;
}
