// Fuzzes hubsim's SAS token check (tools/hubsim/hubsim/sas_check.hpp): the bytes are an Authorization
// value, a Host and a path, separated by newlines. verify_signature + check_scope and the caching
// sas_verifier agree, and the verifier answers the same question the same way twice.

#include "fuzz_check.hpp"

#include "hubsim/sas_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hubsim = nhpush::hubsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    auto next = [&rest] {
        const auto nl = rest.find('\n');
        const auto part = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        return part;
    };
    const auto authorization = next();
    const auto host = next();
    const auto path = rest;
    constexpr std::int64_t now = 1'700'000'000;

    const std::vector<hubsim::credential> keys = {{"Listen", "listen-key"},
                                                  {"DefaultFullSharedAccessSignature", "full-key="}};
    hubsim::sas_claims claims;
    auto expected = hubsim::verify_signature(authorization, keys, claims);
    if (expected == hubsim::auth_failure::none) {
        expected = hubsim::check_scope(claims, host, path, now);
    }
    if (authorization.empty()) {
        NHPUSH_FUZZ_CHECK(expected != hubsim::auth_failure::none);
    }
    NHPUSH_FUZZ_CHECK(!hubsim::reason_code(expected).empty() || expected == hubsim::auth_failure::none);

    hubsim::sas_verifier verifier(keys);
    const auto first = verifier.check(authorization, host, path, now);
    const auto second = verifier.check(authorization, host, path, now);  // from the cache this time
    NHPUSH_FUZZ_CHECK(first == second);
    if (!authorization.empty()) {
        NHPUSH_FUZZ_CHECK(first == expected);
    }
    return 0;
}
