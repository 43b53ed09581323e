#include "server/unix_listener.hpp"

#include "server/peer_credentials.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nhpush::server {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using boost::system::error_code;
using namespace std::chrono;

namespace {

std::runtime_error socket_error(const std::string& path, std::string_view what, int err) {
    return std::runtime_error(fmt::format("daemon.socket {}: {}: {}", path, what, std::strerror(err)));
}

/// True when a process accepts connections on the socket file `path`.
bool someone_listens(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw socket_error(path, "socket", errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), std::min(path.size(), sizeof addr.sun_path - 1));
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::close(fd);
    if (rc == 0) {
        return true;
    }
    if (err == ECONNREFUSED || err == ENOENT) {
        return false;
    }
    throw socket_error(path, "cannot tell whether the existing socket is in use", err);
}

/// Sets the umask for the scope: the socket file is created inaccessible, then chmod-ed.
class umask_scope {
public:
    explicit umask_scope(mode_t mask) noexcept : saved_(::umask(mask)) {}
    ~umask_scope() { ::umask(saved_); }
    umask_scope(const umask_scope&) = delete;
    umask_scope& operator=(const umask_scope&) = delete;

private:
    mode_t saved_;
};

}  // namespace

unix_listener::unix_listener(asio::io_context& ioc,
                             const config::daemon_config& config,
                             std::optional<int> inherited,
                             const log::daemon_log& log)
    : acceptor_(ioc), log_(log), path_(config.socket) {
    if (inherited) {
        acceptor_.assign(local(), *inherited);
        activated_ = true;
        return;
    }
    create(config);
}

void unix_listener::create(const config::daemon_config& config) {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            throw std::runtime_error(fmt::format(
                "daemon.socket {}: the path exists and is not a socket; remove it or choose another", path_));
        }
        if (someone_listens(path_)) {
            throw std::runtime_error(fmt::format(
                "daemon.socket {}: another process listens on it (is nhpushd already running?)", path_));
        }
        if (::unlink(path_.c_str()) != 0) {
            throw socket_error(path_, "cannot remove the stale socket file", errno);
        }
        log_.log(log_level::info, "removed the stale socket file {}", path_);
    }
    error_code ec;
    acceptor_.open(local(), ec);
    if (!ec) {
        umask_scope mask(0777);
        acceptor_.bind(local::endpoint(path_), ec);
    }
    if (ec) {
        throw std::runtime_error(fmt::format("daemon.socket {}: cannot create it: {}", path_, ec.message()));
    }
    created_file_ = true;
    if (::chmod(path_.c_str(), config.socket_mode) != 0) {
        throw socket_error(path_, "chmod", errno);
    }
    if (::stat(path_.c_str(), &st) == 0) {
        inode_ = st.st_ino;
    }
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error(fmt::format("daemon.socket {}: listen: {}", path_, ec.message()));
    }
}

unix_listener::~unix_listener() {
    if (loop_done_) {
        stop();
    }
    struct stat st {};
    // Remove only the file this listener created, not one a newer process put in its place.
    if (created_file_ && ::stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) {
        ::unlink(path_.c_str());
    }
}

std::string unix_listener::description() const {
    return activated_ ? fmt::format("the socket systemd passed ({})", path_) : path_;
}

void unix_listener::start(worker_pool& pool, api::api_services& services, session_tracker& tracker) {
    loop_done_ =
        asio::co_spawn(acceptor_.get_executor(), accept_loop(pool, services, tracker), asio::use_future);
}

void unix_listener::stop() {
    if (!loop_done_) {
        return;
    }
    asio::post(acceptor_.get_executor(), [this] {
        error_code ignored;
        acceptor_.close(ignored);
    });
    try {
        loop_done_->get();
    } catch (const std::exception& e) {
        log_.log(log_level::error, "the accept loop ended with an error: {}", e.what());
    }
    loop_done_.reset();
}

asio::awaitable<void> unix_listener::accept_loop(worker_pool& pool,
                                                 api::api_services& services,
                                                 session_tracker& tracker) {
    std::size_t next = 0;
    for (;;) {
        auto& context = pool.context(next++ % pool.size());
        auto [ec, socket] = co_await acceptor_.async_accept(context, asio::as_tuple(asio::use_awaitable));
        if (!acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            std::uint64_t suppressed = 0;
            if (accept_warnings_.allow(steady_clock::now(), suppressed)) {
                log_.log(log_level::warning,
                         "accepting a client failed: {}{}",
                         ec.message(),
                         log::suppressed_note(suppressed));
            }
            // Out of descriptors: pause rather than spin until sessions end.
            if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
                asio::steady_timer pause(acceptor_.get_executor(), milliseconds{100});
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            continue;
        }
        admit(local::socket(std::move(socket)), services, tracker);
    }
}

void unix_listener::admit(local::socket socket, api::api_services& services, session_tracker& tracker) {
    const auto live = services.registry.current();
    const auto& limits = live->daemon;
    std::uint64_t suppressed = 0;
    if (tracker.size() >= limits.max_clients) {
        services.counters.connections_refused_max_clients.fetch_add(1, std::memory_order_relaxed);
        if (refusal_warnings_.allow(steady_clock::now(), suppressed)) {
            log_.log(log_level::warning,
                     "refused a client: {} connections are open (daemon.max_clients){}",
                     limits.max_clients,
                     log::suppressed_note(suppressed));
        }
        return;  // the socket closes here
    }
    if (!limits.allowed_uids.empty() || !limits.allowed_gids.empty()) {
        const auto peer = read_peer_credentials(socket.native_handle());
        if (!peer || !peer_allowed(*peer, limits.allowed_uids, limits.allowed_gids)) {
            services.counters.connections_refused_peer.fetch_add(1, std::memory_order_relaxed);
            if (refusal_warnings_.allow(steady_clock::now(), suppressed)) {
                log_.log(log_level::warning,
                         "refused a client: uid {} gid {} (pid {}) is not in daemon.allowed_uids or "
                         "daemon.allowed_gids{}",
                         peer ? std::to_string(peer->uid) : "?",
                         peer ? std::to_string(peer->gid) : "?",
                         peer ? std::to_string(peer->pid) : "?",
                         log::suppressed_note(suppressed));
            }
            return;
        }
    }
    services.counters.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    start_session(std::move(socket), services, tracker);
}

}  // namespace nhpush::server
