#pragma once
/** @file hubsim's configuration and its command line (pure: no I/O). */

#include "hubsim/faults.hpp"
#include "hubsim/sas_check.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::hubsim {

/** @brief A command line a person must correct; the message says what to change. */
struct usage_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/** @brief A broken HTTP/2 peer hubsim can play, to test a client's defences. */
enum class h2_misbehavior : std::uint8_t {
    none,
    no_settings,       ///< never send SETTINGS (nor anything else), never answer
    huge_headers,      ///< answer with a header block larger than 64 KiB
    zero_window,       ///< SETTINGS_INITIAL_WINDOW_SIZE 0, never a WINDOW_UPDATE; bodies never answered
    reset_mid_stream,  ///< send the response HEADERS, then RST_STREAM INTERNAL_ERROR before the body
};

/** @brief The HTTP/2 side of hubsim (fixed at start). */
struct http2_config {
    bool serve_h2 = true;                             ///< select `h2` when the client offers it by ALPN
    bool serve_http1 = true;                          ///< serve HTTP/1.1 (ALPN `http/1.1` or none)
    std::uint32_t max_streams = 100;                  ///< SETTINGS_MAX_CONCURRENT_STREAMS
    std::uint32_t goaway_after = 0;                   ///< GOAWAY after this many streams; 0: never
    h2_misbehavior misbehave = h2_misbehavior::none;  ///< a broken peer to play; none by default
    bool operator==(const http2_config&) const = default;
};

/** @brief `no-settings`, `huge-headers`, … as the command line spells a misbehavior. */
std::string_view to_string(h2_misbehavior m) noexcept;

/** @brief Everything nhpush-hubsim runs with. */
struct hubsim_config {
    std::string listen_host = "127.0.0.1";   ///< a loopback IP address (127.0.0.0/8 or ::1)
    std::uint16_t listen_port = 0;           ///< 0: the OS picks a free port
    std::string cert_file;                   ///< PEM certificate (chain); empty: generate one
    std::string key_file;                    ///< PEM private key of cert_file
    std::string cert_out;                    ///< where to write the generated certificate
    std::vector<credential> credentials;     ///< accepted access policies; at least one
    std::vector<std::string> hubs;           ///< hubs that exist; empty: any hub name exists
    fault_config faults;                     ///< faults injected from the start
    std::optional<std::uint64_t> seed;       ///< random seed of fault decisions; none: random
    unsigned threads = 0;                    ///< worker threads; 0: one per core
    std::string record_file;                 ///< NDJSON record of accepted notifications; empty: none
    std::chrono::seconds idle_timeout{240};  ///< a kept-alive connection idle this long is closed
    http2_config http2;                      ///< protocols served and HTTP/2 behaviour
};

/** @brief What the command line asks for. */
struct command_line {
    enum class action { run, help, version } what = action::run;
    hubsim_config config;
};

/**
 * @brief Reads the arguments (without the program name).
 *
 * `--key` is the SAS key when it directly follows `--key-name NAME`, and the TLS private key file
 * otherwise (as in `--cert FILE --key FILE`); `--sas-key` and `--tls-key` say it explicitly.
 * @throws usage_error naming the option that is wrong or missing.
 */
command_line parse_command_line(std::span<const std::string> args);

/** @brief The `--help` text, documenting every option. */
std::string_view help_text() noexcept;

}  // namespace nhpush::hubsim
