#pragma once
/** @file The Notification Hubs service logic: one request in, one answer out (no I/O, so tests
 * drive it with plain request objects). */

#include "hubsim/checks.hpp"
#include "hubsim/faults.hpp"
#include "hubsim/options.hpp"
#include "hubsim/record.hpp"
#include "hubsim/responses.hpp"
#include "hubsim/route.hpp"
#include "hubsim/sas_check.hpp"
#include "hubsim/stats.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace nhpush::hubsim {

/** @brief The response type hubsim writes. */
using response = boost::beast::http::response<boost::beast::http::string_body>;

/**
 * @brief What every worker shares: the configuration and the few things that change at run time.
 *
 * Thread-safety: `config`, `id_prefix` and `authority` are immutable once serving starts; `faults`,
 * `stats` and `record` are safe to use from any thread.
 */
struct shared_state {
    /// Opens the record file if the config names one. @throws std::runtime_error if it cannot.
    shared_state(hubsim_config c, std::size_t workers);

    const hubsim_config config;
    fault_settings faults;
    stats_registry stats;
    std::unique_ptr<record_file> record;  ///< null without --record
    const std::string id_prefix;          ///< marks the notification ids of this process
    const std::uint64_t seed;             ///< config.seed, or a random one
    std::string authority;                ///< `host:port` served, for Location when Host is absent
};

/** @brief One answer and how to deliver it. */
struct reply {
    response res;
    std::chrono::milliseconds delay{0};  ///< wait before writing (latency fault)
    bool close_after = false;            ///< close without a TLS close_notify after writing
    bool drop = false;                   ///< write only part of the answer, then close
    /// Answer with RST_STREAM carrying this code instead of `res` (HTTP/1.1: close unanswered).
    std::optional<stream_reset_code> reset;
};

/** @brief The HTTP version a connection speaks. */
enum class http_protocol : std::uint8_t { http1, h2 };

/** @brief What the service remembers about one connection. */
struct connection_state {
    http_protocol protocol = http_protocol::http1;
    std::uint64_t answered = 0;  ///< Notification Hubs requests answered on it so far
};

/**
 * @brief Answers requests as Notification Hubs does, for one worker thread.
 *
 * Order of checks: route (404/405), api-version (400), SAS token (401), hub (404), injected
 * faults, then the request itself (400/413) and the answer (201, or 200 for cancel and details).
 * Admin requests (`/$stats`, `/$admin/faults`) need no token.
 * Not thread-safe: one per worker; it keeps its buffers between requests.
 */
class request_handler {
public:
    request_handler(shared_state& shared, std::size_t worker);

    /// Answers `req` into `out` (reset first). Never throws for anything a client sends.
    void handle(const request& req,
                connection_state& conn,
                std::chrono::system_clock::time_point now,
                reply& out);

    /// Answers 413 for a request whose body was too large to read; an HTTP/1.1 connection must close.
    void reject_too_large(unsigned http_version,
                          std::chrono::system_clock::time_point now,
                          reply& out,
                          http_protocol protocol = http_protocol::http1);

    /// This worker's counters.
    thread_stats& stats() noexcept { return stats_; }

private:
    void reset(const request& req, reply& out) const;
    void handle_hub(const request& req,
                    connection_state& conn,
                    std::chrono::system_clock::time_point now,
                    reply& out);
    void handle_admin(const request& req, reply& out);
    bool apply_faults(connection_state& conn, std::chrono::system_clock::time_point now, reply& out);
    void answer_notification(const request& req, std::chrono::system_clock::time_point now, reply& out);
    void answer_lookup(const request& req, std::chrono::system_clock::time_point now, reply& out);
    void accept(const request& req, std::chrono::system_clock::time_point now, reply& out);
    void answer_error(unsigned status,
                      std::string_view reason,
                      std::string_view message,
                      std::chrono::system_clock::time_point now,
                      reply& out,
                      std::chrono::seconds retry_after = std::chrono::seconds{0});
    bool hub_exists(std::string_view hub) const noexcept;
    std::string_view authority_of(const request& req) const noexcept;

    shared_state& shared_;
    thread_stats& stats_;
    sas_verifier verifier_;
    fault_view faults_;
    fault_rng rng_;
    id_generator ids_;
    route route_;
    accepted_notification accepted_;
    std::string location_;
    std::string record_line_;
};

}  // namespace nhpush::hubsim
