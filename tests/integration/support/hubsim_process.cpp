#include "hubsim_process.hpp"

#include "test_wait.hpp"

#include <nhpush/sas_token.hpp>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#ifndef NHPUSH_HUBSIM_PATH
#error "NHPUSH_HUBSIM_PATH must name the nhpush-hubsim binary"
#endif

namespace nhpush::testing {

namespace http = boost::beast::http;
using namespace std::chrono;

namespace {

constexpr std::string_view listening_prefix = "listening on 127.0.0.1:";

}  // namespace

std::string hubsim_process::default_binary() {
    return NHPUSH_HUBSIM_PATH;
}

hubsim_process::hubsim_process(hubsim_options options)
    : options_(std::move(options)), dir_(make_temp_dir("nhpush-hubsim")) {
    const bool own_cert = !options_.tls_cert_file.empty();
    cert_file_ = own_cert ? options_.tls_cert_file : dir_ + "/hubsim-cert.pem";
    std::vector<std::string> args = {"--listen", "127.0.0.1:0"};
    if (own_cert) {
        args.insert(args.end(), {"--cert", cert_file_, "--tls-key", options_.tls_key_file});
    } else {
        args.insert(args.end(), {"--cert-out", cert_file_});
    }
    args.insert(args.end(),
                {"--key-name",
                 options_.key_name,
                 "--key",
                 options_.key,
                 "--threads",
                 std::to_string(options_.threads)});
    if (options_.record) {
        record_file_ = dir_ + "/record.ndjson";
        args.insert(args.end(), {"--record", record_file_});
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());
    child_ = std::make_unique<child_process>(child_process::options{
        .program = options_.binary.empty() ? default_binary() : options_.binary, .args = std::move(args)});
    const auto line = child_->read_line(options_.start_timeout);
    if (!line || !line->starts_with(listening_prefix)) {
        child_->signal(SIGKILL);
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("nhpush-hubsim did not start; its first line: " + line.value_or("(none)"));
    }
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(listening_prefix.size())));
}

hubsim_process::~hubsim_process() {
    if (!stopped_) {
        stop();
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::optional<int> hubsim_process::stop(milliseconds timeout) {
    admin_client_.reset();
    child_->signal(SIGTERM);
    output_ = child_->read_all(timeout);
    auto status = child_->wait(timeout);
    if (!status) {
        child_->signal(SIGKILL);
        child_->wait(seconds{5});
    }
    stopped_ = true;
    return status;
}

std::string hubsim_process::endpoint() const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/";
}

std::string hubsim_process::connection_string() const {
    return "Endpoint=sb://127.0.0.1:" + std::to_string(port_) + "/;SharedAccessKeyName=" + options_.key_name +
           ";SharedAccessKey=" + options_.key;
}

std::string hubsim_process::sas_token(std::string_view hub, seconds lifetime, std::string_view key) const {
    const auto expiry = duration_cast<seconds>(system_clock::now().time_since_epoch() + lifetime).count();
    auto resource = "https://127.0.0.1:" + std::to_string(port_);
    if (!hub.empty()) {
        resource.append("/").append(hub);
    }
    return make_sas_token(
        options_.key_name, key.empty() ? std::string_view(options_.key) : key, resource, expiry);
}

https_client hubsim_process::client(tls_versions versions) const {
    return https_client(port_, cert_file_, "127.0.0.1", versions);
}

http_response hubsim_process::admin(http::verb method, std::string target, std::string body) const {
    if (!admin_client_) {
        admin_client_ = std::make_unique<https_client>(client());
    }
    auto req = make_request(method, std::move(target), std::move(body));
    if (!req.body().empty()) {
        req.set(http::field::content_type, "application/json");
    }
    return admin_client_->request(std::move(req));
}

std::string hubsim_process::stats_json() const {
    return admin(http::verb::get, "/$stats").body();
}

std::uint64_t hubsim_process::stat(std::string_view json_pointer) const {
    rapidjson::Document doc;
    doc.Parse(stats_json().c_str());
    const rapidjson::Pointer pointer(json_pointer.data(), json_pointer.size());
    const auto* v = pointer.Get(doc);
    return v != nullptr && v->IsUint64() ? v->GetUint64() : 0;
}

bool hubsim_process::wait_for_stat(std::string_view json_pointer,
                                   std::uint64_t at_least,
                                   milliseconds timeout) const {
    return poll_until([&] { return stat(json_pointer) >= at_least; }, timeout);
}

void hubsim_process::set_faults(std::string_view json) const {
    const auto res = admin(http::verb::post, "/$admin/faults", std::string(json));
    if (res.result_int() != 200) {
        throw std::runtime_error("POST /$admin/faults failed: " + res.body());
    }
}

void hubsim_process::patch_faults(std::string_view json) const {
    const auto res = admin(http::verb::patch, "/$admin/faults", std::string(json));
    if (res.result_int() != 200) {
        throw std::runtime_error("PATCH /$admin/faults failed: " + res.body());
    }
}

std::string hubsim_process::faults_json() const {
    return admin(http::verb::get, "/$admin/faults").body();
}

std::vector<std::string> hubsim_process::record_lines() const {
    std::vector<std::string> lines;
    std::ifstream in(record_file_);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

bool hubsim_process::wait_for_record_lines(std::size_t n, milliseconds timeout) const {
    return poll_until([&] { return record_lines().size() >= n; }, timeout);
}

}  // namespace nhpush::testing
