// Request target → operation.

#include "hubsim/route.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace nhpush::hubsim {
namespace {

using boost::beast::http::verb;

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// Picks the operation for the path's segments (views into route::path).
operation classify(verb method, const std::string_view* seg, std::size_t n, bool& merge) {
    auto want = [&](verb v, operation op) { return method == v ? op : operation::bad_method; };
    if (n == 1 && seg[0] == "$stats") {
        return want(verb::get, operation::get_stats);
    }
    if (n == 2 && seg[0] == "$admin" && seg[1] == "faults") {
        merge = method == verb::patch;
        return method == verb::get                             ? operation::get_faults
               : method == verb::post || method == verb::patch ? operation::set_faults
                                                               : operation::bad_method;
    }
    if (n < 2 || seg[0].empty() || seg[0].front() == '$') {
        return operation::unknown_path;
    }
    if (iequals(seg[1], "messages")) {
        if (n == 2) {
            return want(verb::post, operation::send);
        }
        if (n == 3 && iequals(seg[2], "$batch")) {
            return want(verb::post, operation::batch_send);
        }
        if (n == 3) {
            return want(verb::get, operation::get_details);
        }
    } else if (iequals(seg[1], "schedulednotifications")) {
        if (n == 2) {
            return want(verb::post, operation::schedule);
        }
        if (n == 3) {
            return want(verb::delete_, operation::cancel_scheduled);
        }
    }
    return operation::unknown_path;
}

}  // namespace

bool parse_route(verb method, std::string_view target, route& out) {
    out.op = operation::unknown_path;
    out.merge = out.direct = out.test = false;
    out.path.clear();
    out.hub.clear();
    out.id.clear();
    out.api_version.clear();
    // Clients may send the absolute form (`POST https://host/hub/messages?…`); the Python sample does.
    auto url =
        target.starts_with('/') ? boost::urls::parse_origin_form(target) : boost::urls::parse_uri(target);
    if (!url) {
        return false;
    }
    // Decode the path once; remember where each segment starts.
    std::array<std::size_t, 5> starts{};
    std::size_t n = 0;
    for (auto seg : url->encoded_segments()) {
        if (n == starts.size()) {
            return true;  // deeper than any resource: unknown_path
        }
        out.path.push_back('/');
        starts[n++] = out.path.size();
        const auto decoded = *seg;
        out.path.append(decoded.begin(), decoded.end());
    }
    if (n > 0 && starts[n - 1] == out.path.size()) {
        --n;  // a trailing slash
    }
    std::array<std::string_view, 5> seg{};
    for (std::size_t i = 0; i < n; ++i) {
        const auto end = i + 1 < n ? starts[i + 1] - 1 : out.path.size();
        seg[i] = std::string_view(out.path).substr(starts[i], end - starts[i]);
        if (i + 1 == n && !seg[i].empty() && seg[i].back() == '/') {
            seg[i].remove_suffix(1);
        }
    }
    out.op = classify(method, seg.data(), n, out.merge);
    if (n >= 1) {
        out.hub.assign(seg[0]);
    }
    if (n == 3) {
        out.id.assign(seg[2]);
    }
    for (auto p : url->encoded_params()) {
        if (p.key == "api-version") {
            out.api_version.assign(p.value.data(), p.value.size());
        } else if (p.key == "direct") {
            out.direct = true;
        } else if (p.key == "test") {
            out.test = true;
        }
    }
    return true;
}

}  // namespace nhpush::hubsim
