#include "redis_tls.hpp"

#include "child_process.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace nhpush::testing {

using namespace std::chrono;

namespace {

/// Runs `openssl WORDS… ARGS…` (`words` split at spaces; `args`, paths and names, taken whole); throws
/// with its output when it fails or takes longer than 30 s.
void openssl(std::string_view words, std::vector<std::string> args) {
    std::vector<std::string> all;
    for (std::size_t at = 0; at < words.size();) {
        const auto end = std::min(words.find(' ', at), words.size());
        all.emplace_back(words.substr(at, end - at));
        at = end + 1;
    }
    all.insert(all.end(), args.begin(), args.end());
    child_process p({.program = "/usr/bin/openssl", .args = std::move(all), .merge_stderr = true});
    const auto output = p.read_all(seconds{30});
    if (p.wait(seconds{5}) != 0) {
        throw std::runtime_error("openssl failed: " + output);
    }
}

}  // namespace

test_ca::test_ca(std::string dir, std::string name)
    : dir_(std::move(dir)), ca_{dir_ + "/" + name + "-ca.pem", dir_ + "/" + name + "-ca.key"} {
    const auto subject = "/CN=" + name + " test CA";
    openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1",
            {"-subj", subject, "-keyout", ca_.key_file, "-out", ca_.cert_file});
}

tls_identity test_ca::issue(const std::string& name, const std::string& subject_alt_name) const {
    const tls_identity id{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
    const auto request = dir_ + "/" + name + ".csr";
    const auto extensions = dir_ + "/" + name + ".ext";
    std::ofstream(extensions) << "subjectAltName = " << subject_alt_name << "\n";
    openssl("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes",
            {"-subj", "/CN=" + name, "-keyout", id.key_file, "-out", request});
    const auto& [ca, ca_key] = ca_;
    openssl("x509 -req -CAcreateserial -days 1",
            {"-CA", ca, "-CAkey", ca_key, "-in", request, "-extfile", extensions, "-out", id.cert_file});
    ::chmod(id.key_file.c_str(), 0600);  // nhpushd refuses a key file every user can read
    return id;
}

std::uint16_t enable_tls(redis_client& redis,
                         const tls_identity& server,
                         const std::string& client_ca_file,
                         bool require_client_certificates) {
    std::string last_error;
    // A port free a moment ago may be taken before Redis binds it: then another.
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto [fd, port] = bound_loopback_socket();
        ::close(fd);
        auto reply = redis.command({"CONFIG",
                                    "SET",
                                    "tls-cert-file",
                                    server.cert_file,
                                    "tls-key-file",
                                    server.key_file,
                                    "tls-ca-cert-file",
                                    client_ca_file,
                                    "tls-auth-clients",
                                    require_client_certificates ? "yes" : "no",
                                    "tls-port",
                                    std::to_string(port)});
        if (reply->type != REDIS_REPLY_ERROR) {
            return port;
        }
        last_error.assign(reply->str, reply->len);
    }
    throw std::runtime_error("redis-server did not open a TLS port: " + last_error);
}

silent_listener::silent_listener() {
    std::tie(fd_, port_) = bound_loopback_socket();
    if (::listen(fd_, 16) != 0) {
        ::close(fd_);
        throw std::runtime_error("cannot listen on a loopback socket");
    }
}

silent_listener::~silent_listener() {
    ::close(fd_);
}

}  // namespace nhpush::testing
