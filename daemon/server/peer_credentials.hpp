#pragma once
/** @file Who is on the other end of a Unix socket connection, and whether they may submit. */

#include <sys/types.h>

#include <optional>
#include <span>

namespace nhpush::server {

/** @brief The credentials the kernel recorded for a peer when it connected (SO_PEERCRED). */
struct peer_credentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;  ///< the peer's primary group
};

/** @brief The peer of connected socket `fd`, or nullopt if the kernel cannot say. */
std::optional<peer_credentials> read_peer_credentials(int fd) noexcept;

/**
 * @brief Whether a peer may submit: always when both lists are empty; otherwise when its uid is in
 * `uids` or its gid in `gids`. Pure.
 */
bool peer_allowed(const peer_credentials& peer,
                  std::span<const uid_t> uids,
                  std::span<const gid_t> gids) noexcept;

}  // namespace nhpush::server
