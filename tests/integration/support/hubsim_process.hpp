#pragma once
/**
 * @file A running nhpush-hubsim for integration tests.
 *
 * @code
 *   nhpush::testing::hubsim_process hub({.args = {"--fail-429", "0.5"}, .record = true});
 *   // hub.connection_string() → "Endpoint=sb://127.0.0.1:PORT/;SharedAccessKeyName=…;SharedAccessKey=…"
 *   // hub.cert_file()          → the generated certificate: nhpush's ca_file, NODE_EXTRA_CA_CERTS
 *   hub.set_faults(R"({"fail_503": 1})");         // from now on every send answers 503
 *   ASSERT_TRUE(hub.wait_for_stat("/accepted", 10, std::chrono::seconds{5}));
 *   auto lines = hub.record_lines();              // one JSON object per accepted notification
 * @endcode
 */

#include "child_process.hpp"
#include "https_client.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nhpush::testing {

/** @brief How to start hubsim. */
struct hubsim_options {
    /// Extra command-line arguments: faults (`--fail-429 0.5`), `--hub NAME`, `--seed N`, …
    std::vector<std::string> args;
    /// The access policy hubsim accepts (connection_string() uses it).
    std::string key_name = "DefaultFullSharedAccessSignature";
    std::string key = "aHVic2ltLXRlc3Qta2V5LTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA==";
    /// Pass `--record FILE` (a file in the fixture's temp directory, see record_file()).
    bool record = false;
    /// Worker threads (`--threads`).
    unsigned threads = 2;
    /// How long to wait for the `listening on` line.
    std::chrono::milliseconds start_timeout{15000};
    /// The binary; empty means the one this build made.
    std::string binary;
    /// A certificate and key to serve (`--cert/--tls-key`); empty: hubsim generates one.
    std::string tls_cert_file;
    std::string tls_key_file;
};

/**
 * @brief Starts nhpush-hubsim on 127.0.0.1 with port 0 and a generated certificate, waits for its
 * `listening on 127.0.0.1:PORT` line, and stops it (SIGTERM, then waits) when destroyed.
 *
 * Everything lives in a temp directory that is removed afterwards. Not thread-safe.
 * @throws std::runtime_error from the constructor if hubsim does not start.
 */
class hubsim_process {
public:
    explicit hubsim_process(hubsim_options options = {});
    ~hubsim_process();
    hubsim_process(const hubsim_process&) = delete;
    hubsim_process& operator=(const hubsim_process&) = delete;

    /// The port hubsim listens on.
    std::uint16_t port() const noexcept { return port_; }
    /// `https://127.0.0.1:PORT/`
    std::string endpoint() const;
    /// The PEM certificate hubsim serves (also its own CA).
    const std::string& cert_file() const noexcept { return cert_file_; }
    /// The record file (empty unless options.record).
    const std::string& record_file() const noexcept { return record_file_; }
    /// The temp directory (removed by the destructor), for the test's own files.
    const std::string& temp_dir() const noexcept { return dir_; }
    const std::string& key_name() const noexcept { return options_.key_name; }
    const std::string& key() const noexcept { return options_.key; }

    /// `Endpoint=sb://127.0.0.1:PORT/;SharedAccessKeyName=…;SharedAccessKey=…`
    std::string connection_string() const;

    /// An Authorization value for `https://127.0.0.1:PORT/{hub}` (the namespace root if `hub` is
    /// empty), signed with `key` (default: the right one), expiring `lifetime` from now.
    std::string sas_token(std::string_view hub,
                          std::chrono::seconds lifetime = std::chrono::hours{1},
                          std::string_view key = {}) const;

    /// A client for this hubsim that trusts its certificate.
    https_client client(tls_versions versions = tls_versions::any) const;

    /// GET /$stats, the JSON text.
    std::string stats_json() const;
    /// One counter of /$stats by JSON pointer (e.g. `/answers_by_status/201`); 0 if absent.
    std::uint64_t stat(std::string_view json_pointer) const;
    /// Polls /$stats until the counter is at least `at_least`; false if `timeout` passes first.
    bool wait_for_stat(std::string_view json_pointer,
                       std::uint64_t at_least,
                       std::chrono::milliseconds timeout) const;

    /// POST /$admin/faults: replaces the faults (fields not given are off). Throws unless 200.
    void set_faults(std::string_view json) const;
    /// PATCH /$admin/faults: changes only the fields given. Throws unless 200.
    void patch_faults(std::string_view json) const;
    /// GET /$admin/faults, the JSON text.
    std::string faults_json() const;

    /// The record file's lines so far.
    std::vector<std::string> record_lines() const;
    /// Polls the record file until it has at least `n` lines; false if `timeout` passes first.
    bool wait_for_record_lines(std::size_t n, std::chrono::milliseconds timeout) const;

    /// SIGTERM, then waits for the exit; returns the exit status (or nullopt on timeout).
    /// Afterwards output() holds what hubsim printed after the listening line (the summary).
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds{10});
    /// hubsim's stdout after the listening line, once stopped.
    const std::string& output() const noexcept { return output_; }

    /// The path of the nhpush-hubsim binary this build made.
    static std::string default_binary();

private:
    http_response admin(boost::beast::http::verb method, std::string target, std::string body = {}) const;

    hubsim_options options_;
    std::string dir_;
    std::string cert_file_;
    std::string record_file_;
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
    mutable std::unique_ptr<https_client> admin_client_;
    std::string output_;
    bool stopped_ = false;
};

}  // namespace nhpush::testing
