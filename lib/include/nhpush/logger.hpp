#pragma once
/** @file The logger the library takes: a level and a sink. */

#include <fmt/format.h>

#include <functional>
#include <string_view>

namespace nhpush {

/** @brief Severity, ordered; values are syslog priorities. */
enum class log_level { error = 3, warning = 4, info = 6, debug = 7 };

/**
 * @brief A level and a sink; messages below the level are not even formatted.
 *
 * The sink may be called from any of the sender's threads at once; it must be thread-safe.
 * Nothing the library logs contains a SAS key or a token signature.
 */
struct logger {
    log_level level = log_level::warning;
    std::function<void(log_level, std::string_view)> sink;

    bool enabled(log_level l) const noexcept {
        return sink && static_cast<int>(l) <= static_cast<int>(level);
    }

    template <class... Args>
    void log(log_level l, fmt::format_string<Args...> format, Args&&... args) const {
        if (enabled(l)) {
            sink(l, fmt::format(format, std::forward<Args>(args)...));
        }
    }
};

}  // namespace nhpush
