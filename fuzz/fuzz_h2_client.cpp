// Fuzzes the sender's HTTP/2 client session (lib/src/sender/h2_session.hpp) with the bytes of a
// hub: three requests (streams 1, 3, 5) are sent, then the input arrives in reads of the size its
// first byte picks, with the session's output written and its events taken after each read; a
// byte of value 0xfe in the first position also cancels stream 3 midway.

#include "fuzz_check.hpp"

#include "sender/h2_session.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <variant>
#include <vector>

namespace http = boost::beast::http;
using namespace nhpush::detail;

namespace {

nhpush::hub_request make_request(std::string body) {
    nhpush::hub_request req{
        body.empty() ? http::verb::get : http::verb::post, "/hub/messages?api-version=2020-06", 11};
    req.set(http::field::host, "ns.servicebus.windows.net");
    req.set(http::field::authorization, "SharedAccessSignature sr=x&sig=y&se=1&skn=z");
    req.set(http::field::connection, "keep-alive");
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

void write_all(h2_client_session& client) {
    for (auto out = client.pending_output(); !out.empty(); out = client.pending_output()) {
        client.consumed(out.size());
    }
}

// Every event names a stream that is still expected, once.
void check_events(h2_client_session& client,
                  std::set<std::int32_t>& expected,
                  std::vector<h2_event>& events) {
    client.take_events(events);
    for (const auto& e : events) {
        const auto id = std::visit([](const auto& v) { return v.stream_id; }, e);
        NHPUSH_FUZZ_CHECK(expected.erase(id) == 1);
        if (const auto* answer = std::get_if<h2_answer>(&e)) {
            NHPUSH_FUZZ_CHECK(answer->message.body().size() <= 4096);
            NHPUSH_FUZZ_CHECK(answer->message.result_int() >= 200 && answer->message.result_int() <= 999);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t read_size = data[0] % 64 + 1;
    const bool cancel_midway = data[0] == 0xfe;
    std::span<const char> input(reinterpret_cast<const char*>(data) + 1, size - 1);

    h2_client_session client{
        h2_limits{.max_streams = 8, .max_response_bytes = 4096, .max_header_bytes = 2048}};
    std::set<std::int32_t> expected;
    for (const char* body : {R"({"aps":{}})", "", "<toast/>"}) {
        expected.insert(client.submit(make_request(body)));
    }
    write_all(client);

    std::vector<h2_event> events;
    while (!input.empty()) {
        const auto n = std::min(read_size, input.size());
        const auto ec = client.receive(input.first(n));
        input = input.subspan(n);
        write_all(client);
        check_events(client, expected, events);
        if (ec) {
            NHPUSH_FUZZ_CHECK(!client.alive() && !client.can_submit() && !client.error_detail().empty());
            break;
        }
        if (cancel_midway && input.size() < size / 2 && expected.contains(3)) {
            client.cancel(3);
            expected.erase(3);
        }
        NHPUSH_FUZZ_CHECK(client.open_streams() <= 3);
        NHPUSH_FUZZ_CHECK(!client.can_submit() ||
                          client.open_streams() <
                              std::min<std::size_t>(8, client.peer_max_concurrent_streams()));
    }
    // The end of a connection: a PING and a GOAWAY go out, nothing more is reported.
    client.ping();
    client.shutdown();
    write_all(client);
    check_events(client, expected, events);
    NHPUSH_FUZZ_CHECK(!client.can_submit());
    return 0;
}
