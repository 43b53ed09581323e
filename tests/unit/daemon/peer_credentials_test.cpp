#include "server/peer_credentials.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using namespace nhpush::server;

namespace {

TEST(peer_credentials, empty_lists_let_everyone_in) {
    EXPECT_TRUE(peer_allowed({1, 1000, 1000}, {}, {}));
}

TEST(peer_credentials, uid_or_gid_lets_a_peer_in) {
    const std::vector<uid_t> uids{1000};
    const std::vector<gid_t> gids{998};
    EXPECT_TRUE(peer_allowed({1, 1000, 5}, uids, gids));
    EXPECT_TRUE(peer_allowed({1, 7, 998}, uids, gids));
    EXPECT_FALSE(peer_allowed({1, 7, 5}, uids, gids));
    EXPECT_FALSE(peer_allowed({1, 7, 5}, uids, {}));
    EXPECT_TRUE(peer_allowed({1, 0, 998}, {}, gids));
}

TEST(peer_credentials, the_kernel_reports_our_own_process_on_a_socketpair) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    const auto peer = read_peer_credentials(fds[0]);
    ::close(fds[0]);
    ::close(fds[1]);
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->uid, ::getuid());
    EXPECT_EQ(peer->gid, ::getgid());
    EXPECT_EQ(peer->pid, ::getpid());
    EXPECT_FALSE(read_peer_credentials(-1));
}

}  // namespace
