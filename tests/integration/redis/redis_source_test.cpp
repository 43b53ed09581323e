// nhpushd's [sources.NAME] of type redis-stream against a real redis-server and nhpush-hubsim:
// several daemons share a stream, a daemon or Redis dies mid-stream, bad entries, hub refusals and
// a full queue; rediss:// (TLS) with a certificate that verifies and with ones that do not.
#include "hubsim_process.hpp"
#include "json_answers.hpp"
#include "nhpushd_process.hpp"
#include "redis_process.hpp"
#include "redis_tls.hpp"
#include "test_wait.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidjson/pointer.h>

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace nhpush::testing {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

constexpr std::string_view stream = "orders";

/// Deadlines grow with the sanitizers' slowness (the ctest TIMEOUT does too).
constexpr milliseconds scaled(milliseconds d) {
    return d * NHPUSH_TIME_SCALE;
}
constexpr std::string_view group = "nhpushd";

/// The [sources.orders] table, appended after [hubs.main] (the last table of the fixture's file).
std::string source_table_at(std::string_view url, std::string_view consumer, std::string_view extra = {}) {
    return fmt::format(
        "\n[sources.orders]\ntype = \"redis-stream\"\nurl = \"{}\"\nstream = \"{}\"\n"
        "consumer = \"{}\"\n{}\n",
        url,
        stream,
        consumer,
        extra);
}

std::string source_table(const redis_process& redis, std::string_view consumer, std::string_view extra = {}) {
    return source_table_at(redis.url(), consumer, extra);
}

std::string entry_id(std::size_t i) {
    return fmt::format("e-{}", i);
}

/// A valid notification with `id`, which also goes to the hub as X-Nhpush-Id: hubsim records it as
/// client_id.
std::string tracked_notification(const std::string& id) {
    return notification_json(fmt::format(R"("id":"{}","headers":{{"X-Nhpush-Id":"{}"}})", id, id));
}

/// XADDs entries `first` … `first + count - 1`, each a valid notification with the id e-N.
void produce(redis_client& r, std::size_t first, std::size_t count) {
    constexpr std::size_t chunk = 5'000;
    for (std::size_t start = first; start < first + count; start += chunk) {
        std::vector<std::vector<std::string>> commands;
        for (std::size_t i = start; i < std::min(first + count, start + chunk); ++i) {
            commands.push_back(
                {"XADD", std::string(stream), "*", "notification", tracked_notification(entry_id(i))});
        }
        for (const auto& reply : r.pipeline(commands)) {
            ASSERT_EQ(reply->type, REDIS_REPLY_STRING);
        }
    }
}

/// How often hubsim received each client id (X-Nhpush-Id), from its record file.
std::map<std::string, std::size_t> received_ids(const hubsim_process& hub) {
    std::map<std::string, std::size_t> ids;
    constexpr std::string_view key = R"("client_id":")";
    for (const auto& line : hub.record_lines()) {
        const auto at = line.find(key);
        if (at != std::string::npos) {
            const auto start = at + key.size();
            ++ids[line.substr(start, line.find('"', start) - start)];
        }
    }
    return ids;
}

std::uint64_t source_stat(const nhpushd_process& daemon, const char* pointer) {
    auto answer = daemon.client().get("/v1/stats");
    const auto doc = parse_json(answer.body);
    const auto* value = rapidjson::Pointer(pointer).Get(doc);
    return value != nullptr && value->IsUint64() ? value->GetUint64() : 0;
}

/// Every id e-0 … e-(count-1) arrived; the number of extra copies.
std::size_t expect_all_delivered(const std::map<std::string, std::size_t>& ids, std::size_t count) {
    std::size_t missing = 0;
    std::size_t duplicates = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto it = ids.find(entry_id(i));
        if (it == ids.end()) {
            ++missing;
        } else {
            duplicates += it->second - 1;
        }
    }
    EXPECT_EQ(missing, 0u) << "entries never delivered";
    return duplicates;
}

bool wait_pending_empty(redis_client& r, milliseconds timeout) {
    return poll_until([&] { return r.pending(std::string(stream), std::string(group)) == 0; }, timeout);
}

TEST(RedisSource, TwoDaemonsShareOneStreamOf50000Entries) {
    constexpr std::size_t count = 50'000;
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    nhpushd_process d1(hub, {.hub_extra = source_table(redis, "d1")});
    nhpushd_process d2(hub, {.hub_extra = source_table(redis, "d2")});
    const auto started = steady_clock::now();
    produce(r, 0, count);

    ASSERT_TRUE(hub.wait_for_record_lines(count, scaled(50s)))
        << hub.record_lines().size() << " of " << count;
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)))
        << "entries left unacknowledged: " << r.pending(std::string(stream), std::string(group)) << "\n"
        << d1.client().get("/v1/stats").body << "\n"
        << d2.client().get("/v1/stats").body << "\n"
        << d1.log() << d2.log();
    const auto elapsed = duration<double>(steady_clock::now() - started).count();
    EXPECT_EQ(expect_all_delivered(received_ids(hub), count), 0u) << "no daemon died: no duplicates";
    const auto read1 = source_stat(d1, "/sources/orders/read");
    const auto read2 = source_stat(d2, "/sources/orders/read");
    EXPECT_EQ(read1 + read2, count);
    EXPECT_GT(read1, 0u);
    EXPECT_GT(read2, 0u);
    EXPECT_EQ(source_stat(d1, "/sources/orders/acked") + source_stat(d2, "/sources/orders/acked"), count);
    std::printf("[ measure ] %zu entries in %.1f s (%.0f/s): d1 read %llu, d2 read %llu\n",
                count,
                elapsed,
                count / elapsed,
                static_cast<unsigned long long>(read1),
                static_cast<unsigned long long>(read2));
}

TEST(RedisSource, KilledDaemonsPendingEntriesAreClaimedByTheOther) {
    constexpr std::size_t count = 10'000;
    hubsim_process hub({.args = {"--latency", "5"}, .record = true});
    redis_process redis;
    redis_client r(redis.port());
    const auto extra = "claim_idle = 1000\n";
    nhpushd_process d1(hub, {.hub_extra = "queue_capacity = 200\n" + source_table(redis, "d1", extra)});
    nhpushd_process d2(hub, {.hub_extra = "queue_capacity = 200\n" + source_table(redis, "d2", extra)});
    produce(r, 0, count);
    ASSERT_TRUE(hub.wait_for_record_lines(count / 5, scaled(30s)));

    d1.signal(SIGKILL);
    ASSERT_TRUE(d1.wait_exit(scaled(10s)).has_value());
    // What the dead daemon held: read, maybe sent, never acknowledged.
    auto consumers = r.command({"XINFO", "CONSUMERS", std::string(stream), std::string(group)});
    std::uint64_t held_by_d1 = 0;
    for (std::size_t i = 0; i < consumers->elements; ++i) {
        const auto* c = consumers->element[i];
        if (std::string_view(c->element[1]->str, c->element[1]->len) == "d1") {
            held_by_d1 = static_cast<std::uint64_t>(c->element[3]->integer);
        }
    }

    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= count; }, scaled(40s)));
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    const auto duplicates = expect_all_delivered(received_ids(hub), count);
    EXPECT_LE(duplicates, held_by_d1) << "only what d1 held can be sent twice";
    EXPECT_GT(source_stat(d2, "/sources/orders/claimed"), 0u);
    std::printf("[ measure ] d1 held %llu entries when killed; %zu sent twice\n",
                static_cast<unsigned long long>(held_by_d1),
                duplicates);
}

TEST(RedisSource, RedisRestartedMidStreamLosesNoEntry) {
    constexpr std::size_t count = 10'000;
    hubsim_process hub({.args = {"--latency", "2"}, .record = true});
    redis_process redis({.appendonly = true});
    nhpushd_process d1(hub, {.hub_extra = "queue_capacity = 500\n" + source_table(redis, "d1")});
    {
        redis_client r(redis.port());
        produce(r, 0, count);
    }
    ASSERT_TRUE(hub.wait_for_record_lines(count / 5, scaled(30s)));
    redis.restart();  // SIGKILL: no shutdown, the AOF (fsync always) is all that survives
    ASSERT_TRUE(d1.wait_for_log("reading stream orders", 15s, 2)) << d1.log();

    redis_client r(redis.port());
    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= count; }, scaled(40s)));
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    expect_all_delivered(received_ids(hub), count);
    EXPECT_GE(source_stat(d1, "/sources/orders/reconnects"), 1u);
}

TEST(RedisSource, RedisOutageMarksHealthDegradedUntilItIsBack) {
    hubsim_process hub;
    redis_process redis;
    nhpushd_process d1(hub, {.hub_extra = source_table(redis, "d1")});
    ASSERT_TRUE(d1.wait_for_log("reading stream orders", scaled(10s)));
    EXPECT_EQ(text_at(d1.client().get("/healthz").body, "/status"), "ok");

    redis.kill();
    ASSERT_TRUE(poll_until([&] { return text_at(d1.client().get("/healthz").body, "/status") == "degraded"; },
                           scaled(10s)));
    const auto answer = d1.client().get("/healthz");
    EXPECT_EQ(answer.status, 200u) << "the socket still takes notifications";
    EXPECT_NE(answer.body.find("source orders"), std::string::npos) << answer.body;

    redis.start();
    ASSERT_TRUE(poll_until([&] { return text_at(d1.client().get("/healthz").body, "/status") == "ok"; },
                           scaled(15s)));
}

TEST(RedisSource, BadEntriesAndHubRefusalsGoToTheDeadStreamAndAreAcknowledged) {
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    // hubsim answers 400 to a direct send with an api-version before 2015-04; other sends are fine.
    nhpushd_process d1(hub,
                       {.hub_extra = "api_version = \"2014-09\"\n" +
                                     source_table(redis, "d1", "results_stream = \"orders:results\"\n")});
    const std::vector<std::pair<std::string, std::string>> entries = {
        {"notification", "not json"},
        {"other", "no notification field"},
        {"notification", R"({"hub":"nope","format":"template","payload":{"message":"hi"}})"},
        {"notification", notification_json(R"("device_handle":"abc123","id":"direct")")},
        {"notification", tracked_notification("good")},
    };
    for (const auto& [field, value] : entries) {
        ASSERT_EQ(r.command({"XADD", std::string(stream), "*", field, value})->type, REDIS_REPLY_STRING);
    }
    ASSERT_TRUE(poll_until(
        [&] {
            return r.integer({"XLEN", "orders:results"}) >= entries.size();
        },
        15s))
        << d1.log();
    ASSERT_TRUE(wait_pending_empty(r, scaled(5s)));

    const auto dead = r.range("orders:dead");
    ASSERT_EQ(dead.size(), 4u);
    const auto error_of = [&](std::size_t i) {
        for (const auto& [k, v] : dead[i].second) {
            if (k == "error") {
                return v;
            }
        }
        return std::string();
    };
    EXPECT_NE(error_of(0).find("invalid_json"), std::string::npos) << error_of(0);
    EXPECT_NE(error_of(1).find("no field 'notification'"), std::string::npos) << error_of(1);
    EXPECT_NE(error_of(2).find("unknown_hub"), std::string::npos) << error_of(2);
    EXPECT_NE(error_of(3).find("HTTP 400"), std::string::npos) << error_of(3);
    EXPECT_EQ(received_ids(hub).count("good"), 1u);
    EXPECT_EQ(source_stat(d1, "/sources/orders/dead"), 4u);
}

TEST(RedisSource, FullQueueStopsTheReading) {
    constexpr std::size_t capacity = 5;
    constexpr std::size_t count = 40;
    hubsim_process hub({.args = {"--latency", "300"}, .record = true});
    redis_process redis;
    redis_client r(redis.port());
    nhpushd_process d1(hub,
                       {.hub_extra = fmt::format("queue_capacity = {}\nmax_connections = 1\n", capacity) +
                                     source_table(redis, "d1")});
    produce(r, 0, count);
    // While the hub is slow, Redis hands over no more than the queue has room for.
    const auto until = steady_clock::now() + 1s;
    std::uint64_t most_pending = 0;
    while (steady_clock::now() < until && received_ids(hub).size() < count) {
        most_pending = std::max(most_pending, r.pending(std::string(stream), std::string(group)));
    }
    EXPECT_GT(most_pending, 0u);
    EXPECT_LE(most_pending, capacity);
    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= count; }, scaled(30s)));
    ASSERT_TRUE(wait_pending_empty(r, scaled(5s)));
    expect_all_delivered(received_ids(hub), count);
}

TEST(RedisSource, SigtermStopsReadingAndAcknowledgesWhatTheDrainSent) {
    constexpr std::size_t count = 2'000;
    hubsim_process hub({.args = {"--latency", "100"}, .record = true});
    redis_process redis;
    redis_client r(redis.port());
    const auto extra = "queue_capacity = 100\n" + source_table(redis, "d1", "claim_idle = 500\n");
    {
        nhpushd_process d1(hub, {.hub_extra = extra});
        produce(r, 0, count);
        ASSERT_TRUE(hub.wait_for_record_lines(200, scaled(20s)));
        ASSERT_EQ(d1.stop(), 0);
    }
    EXPECT_EQ(r.pending(std::string(stream), std::string(group)), 0u)
        << "what the drain sent is acknowledged; nothing read is left unsent";
    const auto sent_before = hub.record_lines().size();
    EXPECT_LT(sent_before, count) << "the reading stopped";

    nhpushd_process d2(hub, {.hub_extra = "queue_capacity = 100\n" + source_table(redis, "d2")});
    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= count; }, scaled(40s)));
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    EXPECT_EQ(expect_all_delivered(received_ids(hub), count), 0u) << "a clean stop sends nothing twice";
}

TEST(RedisSource, OwnPendingEntriesAreSentFirstAfterARestart) {
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    // Entries read by consumer d1 but never acknowledged, as if d1 had died before sending them.
    ASSERT_NE(r.command({"XGROUP", "CREATE", std::string(stream), std::string(group), "$", "MKSTREAM"})->type,
              REDIS_REPLY_ERROR);
    produce(r, 0, 3);
    r.command(
        {"XREADGROUP", "GROUP", std::string(group), "d1", "COUNT", "3", "STREAMS", std::string(stream), ">"});
    ASSERT_EQ(r.pending(std::string(stream), std::string(group)), 3u);

    nhpushd_process d1(hub, {.hub_extra = source_table(redis, "d1")});  // claim_idle is 60 s: no claim
    ASSERT_TRUE(hub.wait_for_record_lines(3, scaled(10s))) << d1.log();
    ASSERT_TRUE(wait_pending_empty(r, scaled(5s)));
    expect_all_delivered(received_ids(hub), 3);
}

TEST(RedisSource, AuthWithAPasswordFile) {
    hubsim_process hub({.record = true});
    redis_process redis({.password = "s3cret-redis-pass"});
    redis_client r(redis.port(), "s3cret-redis-pass");
    const auto file = redis.dir() + "/password";
    {
        std::FILE* f = std::fopen(file.c_str(), "w");
        std::fputs("s3cret-redis-pass\n", f);
        std::fclose(f);
        ::chmod(file.c_str(), 0600);
    }
    nhpushd_process d1(
        hub, {.hub_extra = source_table(redis, "d1", fmt::format("password_file = \"{}\"\n", file))});
    produce(r, 0, 2);
    ASSERT_TRUE(hub.wait_for_record_lines(2, scaled(10s))) << d1.log();
    EXPECT_EQ(d1.log().find("s3cret"), std::string::npos) << "the password is never logged";
}

}  // namespace
}  // namespace nhpush::testing

namespace nhpush::testing {
namespace {

/// Entries are acknowledged once spooled; a daemon killed with entries acknowledged but not sent
/// sends them from its spool after a restart.
TEST(RedisSourceWithSpool, AcknowledgedOnceSpooledAndSentAfterARestart) {
    constexpr std::size_t count = 5'000;
    hubsim_process hub({.args = {"--latency", "5"}, .record = true});
    redis_process redis;
    redis_client r(redis.port());
    const auto extra = "queue_capacity = 200\n" +
                       source_table(redis, "d1", "results_stream = \"orders:results\"\n") +
                       fmt::format("\n[spool]\ndir = \"{}/spool\"\nfsync = \"always\"\n", redis.dir());
    std::size_t acked_before_kill = 0;
    {
        nhpushd_process d1(hub, {.hub_extra = extra});
        produce(r, 0, count);
        ASSERT_TRUE(hub.wait_for_record_lines(count / 5, scaled(30s)))
            << d1.log() << d1.client().get("/v1/stats").body;
        d1.signal(SIGKILL);
        ASSERT_TRUE(d1.wait_exit(scaled(10s)).has_value());
        acked_before_kill = r.integer({"XLEN", "orders:results"});
    }
    nhpushd_process again(hub, {.hub_extra = extra});
    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= count; }, scaled(40s))) << again.log();
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    expect_all_delivered(received_ids(hub), count);
    std::size_t spooled = 0;
    for (const auto& [id, fields] : r.range("orders:results")) {
        for (const auto& [k, v] : fields) {
            // An entry spooled whose XACK the kill prevented is read again: a duplicate of its id.
            spooled += k == "outcome" && (v == "spooled" || v == "duplicate");
        }
    }
    EXPECT_GE(spooled, count) << "every entry was acknowledged as spooled";
    EXPECT_EQ(r.integer({"XLEN", "orders:dead"}), 0u);
    std::printf("[ measure ] %zu entries acknowledged (spooled) before the kill, %zu received in all\n",
                acked_before_kill,
                hub.record_lines().size());
}

}  // namespace
}  // namespace nhpush::testing

namespace nhpush::testing {
namespace {

/// `url = "rediss://127.0.0.1:PORT/0"` and the TLS keys naming `ca_file` (and a client identity).
std::string tls_source_table(std::uint16_t port,
                             std::string_view consumer,
                             const std::string& ca_file,
                             const tls_identity* client = nullptr) {
    auto keys = fmt::format("ca_file = \"{}\"\n", ca_file);
    if (client != nullptr) {
        keys += fmt::format("cert_file = \"{}\"\nkey_file = \"{}\"\n", client->cert_file, client->key_file);
    }
    return source_table_at(fmt::format("rediss://127.0.0.1:{}/0", port), consumer, keys);
}

std::string healthz(const nhpushd_process& daemon) {
    return daemon.client().get("/healthz").body;
}

/// The source keeps failing with `error` (in the log and /healthz, twice at least: it retries) and
/// reads nothing; the daemon still stops at once.
void expect_refused(nhpushd_process& daemon,
                    const hubsim_process& hub,
                    redis_client& r,
                    const std::string& error) {
    ASSERT_TRUE(daemon.wait_for_log(error, scaled(10s))) << daemon.log();
    ASSERT_TRUE(
        poll_until([&] { return source_stat(daemon, "/sources/orders/reconnects") >= 2; }, scaled(10s)))
        << daemon.log();
    const auto health = healthz(daemon);
    EXPECT_EQ(text_at(health, "/status"), "degraded");
    EXPECT_NE(health.find("source orders: not reading stream orders: " + error), std::string::npos) << health;
    EXPECT_EQ(source_stat(daemon, "/sources/orders/read"), 0u);
    EXPECT_TRUE(hub.record_lines().empty());
    EXPECT_EQ(r.pending(std::string(stream), std::string(group)), 0u);
    EXPECT_EQ(daemon.stop(scaled(10s)), 0) << "a source stuck in a failing connect does not hold up a stop";
}

TEST(RedisSourceTls, EntriesSentOverMutualTlsReachTheHubAndAreAcknowledged) {
    constexpr std::size_t count = 500;
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    const test_ca ca(redis.dir(), "test");
    const auto port = enable_tls(r, ca.issue("server", "IP:127.0.0.1"), ca.cert_file());
    const auto client = ca.issue("nhpushd", "DNS:nhpushd.test");  // Redis asks for one by default
    nhpushd_process d1(hub, {.hub_extra = tls_source_table(port, "d1", ca.cert_file(), &client)});
    ASSERT_TRUE(
        d1.wait_for_log(fmt::format("reading stream orders at 127.0.0.1:{} over TLS", port), scaled(10s)))
        << d1.log();
    produce(r, 0, count);
    ASSERT_TRUE(hub.wait_for_record_lines(count, scaled(20s))) << d1.log();
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    EXPECT_EQ(expect_all_delivered(received_ids(hub), count), 0u);

    // Redis drops the TLS connection: the source makes a new one, and the next entries arrive too.
    ASSERT_EQ(r.integer({"CLIENT", "KILL", "LADDR", fmt::format("127.0.0.1:{}", port)}), 1u);
    produce(r, count, count);
    ASSERT_TRUE(poll_until([&] { return received_ids(hub).size() >= 2 * count; }, scaled(20s))) << d1.log();
    ASSERT_TRUE(wait_pending_empty(r, scaled(10s)));
    EXPECT_EQ(expect_all_delivered(received_ids(hub), 2 * count), 0u);
    EXPECT_GE(source_stat(d1, "/sources/orders/reconnects"), 1u);
    EXPECT_EQ(source_stat(d1, "/sources/orders/acked"), 2 * count);
    EXPECT_EQ(text_at(healthz(d1), "/status"), "ok");
}

TEST(RedisSourceTls, ACertificateFromAnotherCaIsRefusedByName) {
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    const test_ca ca(redis.dir(), "server");
    const test_ca other(redis.dir(), "other");
    const auto port = enable_tls(r, ca.issue("server", "IP:127.0.0.1"), ca.cert_file(), false);
    produce(r, 0, 3);
    nhpushd_process d1(hub, {.hub_extra = tls_source_table(port, "d1", other.cert_file())});
    // OpenSSL's reason depends on the chain Redis sends (with its CA or without).
    expect_refused(
        d1, hub, r, fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed: ", port));
}

TEST(RedisSourceTls, ACertificateForAnotherNameIsRefusedByName) {
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    const test_ca ca(redis.dir(), "test");
    // Trusted, but for neither the address nor the name the daemons connect to.
    const auto port = enable_tls(r, ca.issue("server", "DNS:redis.example"), ca.cert_file(), false);
    produce(r, 0, 3);
    nhpushd_process by_address(hub, {.hub_extra = tls_source_table(port, "d1", ca.cert_file())});
    expect_refused(
        by_address,
        hub,
        r,
        fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed: IP address mismatch",
                    port));
    nhpushd_process by_name(
        hub,
        {.hub_extra = source_table_at(fmt::format("rediss://localhost:{}/0", port),
                                      "d2",
                                      fmt::format("ca_file = \"{}\"\n", ca.cert_file()))});
    expect_refused(
        by_name,
        hub,
        r,
        fmt::format("TLS handshake with localhost:{} failed: certificate verify failed: hostname mismatch",
                    port));
}

TEST(RedisSourceTls, AServerThatWantsAClientCertificateSaysSo) {
    hubsim_process hub({.record = true});
    redis_process redis;
    redis_client r(redis.port());
    const test_ca ca(redis.dir(), "test");
    const auto port = enable_tls(r, ca.issue("server", "IP:127.0.0.1"), ca.cert_file(), true);
    produce(r, 0, 3);
    nhpushd_process d1(hub, {.hub_extra = tls_source_table(port, "d1", ca.cert_file())});  // no cert_file
    // Over TLS 1.3 the refusal comes after the handshake, as an alert or a reset.
    expect_refused(d1, hub, r, fmt::format("connection to 127.0.0.1:{}: ", port));
    EXPECT_NE(
        d1.log().find("right after the TLS handshake: the server may want a client certificate it trusts "
                      "(cert_file, key_file)"),
        std::string::npos)
        << d1.log();
}

TEST(RedisSourceTls, AHandshakeWithNoAnswerTimesOut) {
    hubsim_process hub;
    silent_listener silent;
    nhpushd_process d1(
        hub,
        {.hub_extra = source_table_at(
             fmt::format("rediss://127.0.0.1:{}/0", silent.port()), "d1", "command_timeout = 300\n")});
    const auto error = fmt::format("TLS handshake with 127.0.0.1:{}: no answer within 300 ms", silent.port());
    ASSERT_TRUE(d1.wait_for_log(error, scaled(10s))) << d1.log();
    EXPECT_NE(healthz(d1).find(error), std::string::npos) << healthz(d1);
    EXPECT_EQ(d1.stop(scaled(10s)), 0);
}

}  // namespace
}  // namespace nhpush::testing
