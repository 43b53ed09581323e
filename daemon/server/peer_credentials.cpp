#include "server/peer_credentials.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace nhpush::server {

std::optional<peer_credentials> read_peer_credentials(int fd) noexcept {
    ucred cred{};
    socklen_t size = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0 || size != sizeof cred) {
        return std::nullopt;
    }
    return peer_credentials{cred.pid, cred.uid, cred.gid};
}

bool peer_allowed(const peer_credentials& peer,
                  std::span<const uid_t> uids,
                  std::span<const gid_t> gids) noexcept {
    if (uids.empty() && gids.empty()) {
        return true;
    }
    return std::find(uids.begin(), uids.end(), peer.uid) != uids.end() ||
           std::find(gids.begin(), gids.end(), peer.gid) != gids.end();
}

}  // namespace nhpush::server
