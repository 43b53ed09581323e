// Micro-benchmarks of the per-notification protocol work, in nanoseconds per operation, so
// regressions show: validation, token cache hit, request building, response classification.

#include <nhpush/notification.hpp>
#include <nhpush/request.hpp>
#include <nhpush/response.hpp>
#include <nhpush/sas_token.hpp>

#include <benchmark/benchmark.h>
#include <boost/beast/http/parser.hpp>

namespace {

using namespace nhpush;

notification apple_200_bytes() {
    notification n;
    n.format = notification_format::apple;
    n.payload = R"({"aps":{"alert":")" + std::string(178, 'x') + R"("}})";
    n.tags = "(sports || news) && !muted";
    n.headers = {{"apns-push-type", "alert"}, {"apns-priority", "10"}};
    return n;
}

void prepare_apple_notification(benchmark::State& state) {
    const auto prototype = apple_200_bytes();
    const auto now = std::chrono::system_clock::now();
    for (auto _ : state) {
        auto n = prototype;
        benchmark::DoNotOptimize(prepare_notification(n, now));
    }
}
BENCHMARK(prepare_apple_notification);

void validate_tag_expression_of_six_tags(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(validate_tag_expression("(a || b) && (c || d) && !(e || f)"));
    }
}
BENCHMARK(validate_tag_expression_of_six_tags);

void token_cache_hit(benchmark::State& state) {
    sas_token_cache cache("DefaultFullSharedAccessSignature", "key=");
    const std::string uri = "https://ns.servicebus.windows.net/hub";
    cache.get(uri);
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.get(uri));
    }
}
BENCHMARK(token_cache_hit);

void sign_sas_token(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            make_sas_token("rule", "key=", "https://ns.servicebus.windows.net/hub", 1767225600));
    }
}
BENCHMARK(sign_sas_token);

void build_apple_send_request(benchmark::State& state) {
    const auto ep = make_hub_endpoint(
        parse_connection_string(
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=k"),
        "hub");
    const auto n = apple_200_bytes();
    const std::string auth = make_sas_token("n", "k", ep.resource_uri, 1767225600);
    hub_request req;
    for (auto _ : state) {
        build_send_request(ep, n, auth, req);
        benchmark::DoNotOptimize(req);
    }
}
BENCHMARK(build_apple_send_request);

void parse_and_classify_created(benchmark::State& state) {
    constexpr std::string_view raw =
        "HTTP/1.1 201 Created\r\n"
        "Location: "
        "https://ns.servicebus.windows.net/hub/messages/3910748287917574712-6b13?api-version=2020-06\r\n"
        "TrackingId: 0f4c5a4d-aaaa-bbbb-cccc-1234567890ab\r\n"
        "Content-Length: 0\r\n\r\n";
    const auto now = std::chrono::system_clock::now();
    for (auto _ : state) {
        boost::beast::http::response_parser<boost::beast::http::string_body> parser;
        boost::system::error_code ec;
        parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
        benchmark::DoNotOptimize(classify_response(parser.get(), now));
    }
}
BENCHMARK(parse_and_classify_created);

}  // namespace

BENCHMARK_MAIN();
