// Boost's assertions, in builds that keep them (the sanitizer and fuzz builds; Release defines
// NDEBUG and has none). BOOST_ENABLE_ASSERT_DEBUG_HANDLER routes them here.

#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Beast 1.81's parse_chunk_header asserts `n >= 5` when the final chunk of a chunked body arrives
// a byte at a time ('0\r\n', '\r', '\n'), although the code after it handles the short input by
// asking for more. Upstream removed the assertion as wrong (boostorg/beast#2861, Boost 1.86);
// fuzz_http_request found it. Every other assertion still aborts.
bool is_known_wrong(std::string_view expr, std::string_view file) {
    return expr == "n >= 5" && file.ends_with("boost/beast/http/impl/basic_parser.ipp");
}

[[noreturn]] void report(
    char const* expr, char const* msg, char const* function, char const* file, long line) {
    std::fprintf(stderr,
                 "%s:%ld: %s: Assertion `%s' failed%s%s\n",
                 file,
                 line,
                 function,
                 expr,
                 msg != nullptr ? ": " : "",
                 msg != nullptr ? msg : "");
    std::abort();
}

}  // namespace

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    if (!is_known_wrong(expr, file)) {
        report(expr, nullptr, function, file, line);
    }
}

void assertion_failed_msg(
    char const* expr, char const* msg, char const* function, char const* file, long line) {
    if (!is_known_wrong(expr, file)) {
        report(expr, msg, function, file, line);
    }
}

}  // namespace boost
