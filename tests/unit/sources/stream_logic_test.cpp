// The Redis Stream source's decisions, without sockets: replies are built by hiredis's own reader
// from RESP text, as they arrive from Redis.
#include "sources/stream_logic.hpp"
#include "config/config.hpp"
#include "hubs/notification_dispatcher.hpp"
#include "sources/redis_connection.hpp"

#include <nhpush/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace nhpush::sources {
namespace {

/// The reply hiredis's reader makes of `resp`.
reply_ptr reply_of(const std::string& resp) {
    std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), &redisReaderFree);
    redisReaderFeed(reader.get(), resp.data(), resp.size());
    void* r = nullptr;
    EXPECT_EQ(redisReaderGetReply(reader.get(), &r), REDIS_OK);
    return reply_ptr(static_cast<redisReply*>(r));
}

std::string bulk(const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

/// `[id, [field, value, …]]`
std::string entry(const std::string& id, std::initializer_list<std::string> fields) {
    std::string out = "*2\r\n" + bulk(id) + "*" + std::to_string(fields.size()) + "\r\n";
    for (const auto& f : fields) {
        out += bulk(f);
    }
    return out;
}

TEST(ReadCount, IsTheRoomLeftInTheQueueAtMostTheBatch) {
    EXPECT_EQ(read_count(1000, 0, 0, 256), 256u);
    EXPECT_EQ(read_count(1000, 900, 0, 256), 100u);
    EXPECT_EQ(read_count(1000, 900, 40, 256), 60u) << "entries held for a retry take room too";
    EXPECT_EQ(read_count(1000, 1000, 0, 256), 0u) << "a full queue: no XREADGROUP";
    EXPECT_EQ(read_count(1000, 1200, 0, 256), 0u);
}

TEST(ParseReadReply, TakesEachEntrysIdAndNotificationField) {
    const auto r = reply_of("*1\r\n*2\r\n" + bulk("orders") + "*2\r\n" +
                            entry("1-0", {"notification", R"({"hub":"main"})"}) +
                            entry("1-1", {"other", "x", "notification", "{}"}));
    const auto parsed = parse_read_reply(r.get());
    ASSERT_TRUE(std::holds_alternative<std::vector<stream_entry>>(parsed));
    const auto& entries = std::get<std::vector<stream_entry>>(parsed);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0], (stream_entry{"1-0", R"({"hub":"main"})"}));
    EXPECT_EQ(entries[1], (stream_entry{"1-1", "{}"}));
}

TEST(ParseReadReply, NilIsNoEntryAndAnEntryWithoutTheFieldHasNoNotification) {
    EXPECT_TRUE(std::get<std::vector<stream_entry>>(parse_read_reply(reply_of("*-1\r\n").get())).empty());
    const auto r = reply_of("*1\r\n*2\r\n" + bulk("orders") + "*2\r\n" + entry("2-0", {"other", "x"}) +
                            "*2\r\n" + bulk("2-1") + "*-1\r\n");  // deleted since it was read
    const auto entries = std::get<std::vector<stream_entry>>(parse_read_reply(r.get()));
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_FALSE(entries[0].notification);
    EXPECT_FALSE(entries[1].notification);
}

TEST(ParseReadReply, AnErrorOrAnotherShapeIsAMessage) {
    EXPECT_EQ(std::get<std::string>(parse_read_reply(reply_of("-NOGROUP No such key\r\n").get())),
              "NOGROUP No such key");
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_read_reply(reply_of(":1\r\n").get())));
}

TEST(ParseClaimReply, TakesTheCursorAndTheEntries) {
    const auto r =
        reply_of("*3\r\n" + bulk("5-0") + "*1\r\n" + entry("3-0", {"notification", "{}"}) + "*0\r\n");
    const auto batch = std::get<claim_batch>(parse_claim_reply(r.get()));
    EXPECT_EQ(batch.next_cursor, "5-0");
    ASSERT_EQ(batch.entries.size(), 1u);
    EXPECT_EQ(batch.entries[0].id, "3-0");
}

TEST(NotificationId, TheObjectsIdWinsOverTheEntryId) {
    EXPECT_EQ(notification_id("order-17", "1-0"), "order-17");
    EXPECT_EQ(notification_id("", "1-0"), "1-0");
}

TEST(FateOf, SentIsAckedRefusalsAndFailuresDecideTheRest) {
    EXPECT_EQ(fate_of({}, false), entry_fate::ack);
    EXPECT_EQ(fate_of(errc::queue_full, true), entry_fate::retry);
    EXPECT_EQ(fate_of(errc::shutting_down, true), entry_fate::leave_pending);
    EXPECT_EQ(fate_of(errc::shutting_down, false), entry_fate::leave_pending);
    EXPECT_EQ(fate_of(errc::deadline_expired, false), entry_fate::dead);
    EXPECT_EQ(fate_of(hubs::dispatch_errc::duplicate_id, true), entry_fate::duplicate)
        << "an entry read again after a crash: already queued or sent";
    EXPECT_EQ(fate_of(hubs::dispatch_errc::spool_unavailable, true), entry_fate::leave_pending);
}

TEST(WriteBackCommands, CopiesComeBeforeTheOneXack) {
    const write_back_keys keys{"orders", "nhpushd", "orders:dead", "orders:results", "host-a"};
    const std::vector<finished_entry> done = {
        {"1-0", "a", entry_fate::ack, 201, "", ""},
        {"1-1", "b", entry_fate::dead, 400, "hub said no (HTTP 400)", R"({"hub":"main"})"},
    };
    const auto commands = write_back_commands(keys, done);
    ASSERT_EQ(commands.size(), 4u);
    EXPECT_EQ(commands[0][0], "XADD");
    EXPECT_EQ(commands[0][1], "orders:results");
    EXPECT_EQ(commands[1][1], "orders:dead");
    EXPECT_EQ(commands[2][1], "orders:results");
    EXPECT_EQ(commands[2][7], "consumer");
    EXPECT_EQ(commands[2][8], "host-a");
    EXPECT_EQ(commands[3], (std::vector<std::string>{"XACK", "orders", "nhpushd", "1-0", "1-1"}));
    EXPECT_TRUE(write_back_commands(keys, {}).empty());
}

TEST(RedisUrl, HostPortAndDatabase) {
    EXPECT_EQ(config::parse_redis_url("redis://127.0.0.1:6380/2"), (config::redis_url{"127.0.0.1", 6380, 2}));
    EXPECT_EQ(config::parse_redis_url("redis://redis.internal"),
              (config::redis_url{"redis.internal", 6379, 0}));
    EXPECT_FALSE(config::parse_redis_url("http://127.0.0.1"));
    EXPECT_FALSE(config::parse_redis_url("redis://:secret@127.0.0.1")) << "passwords come from password_*";
    EXPECT_FALSE(config::parse_redis_url("redis://127.0.0.1:0"));
    EXPECT_FALSE(config::parse_redis_url("redis://127.0.0.1/x"));
}

std::string config_error_of(const std::string& source_lines) {
    const std::string toml =
        "[hubs.main]\nhub = \"h\"\nconnection_string_env = \"CS\"\n[sources.orders]\n" + source_lines;
    try {
        config::parse_config(toml);
    } catch (const config::config_error& e) {
        return e.what();
    }
    return "";
}

TEST(SourceConfig, BadValuesNameTheirKey) {
    const std::string ok = "type = \"redis-stream\"\nurl = \"redis://127.0.0.1:6379/0\"\nstream = \"s\"\n";
    EXPECT_EQ(config_error_of(ok), "");
    EXPECT_EQ(config_error_of("url = \"redis://h\"\nstream = \"s\"\n"),
              "sources.orders.type must be \"redis-stream\"");
    EXPECT_EQ(config_error_of("type = \"redis-stream\"\nurl = \"tcp://h\"\nstream = \"s\"\n"),
              "sources.orders.url must be redis://HOST:PORT/DB or rediss://HOST:PORT/DB for TLS (PORT and "
              "/DB optional)");
    EXPECT_EQ(config_error_of("type = \"redis-stream\"\nurl = \"rediss://h\"\nstream = \"s\"\n"), "")
        << "TLS, verified against the system store";
    EXPECT_EQ(config_error_of("type = \"redis-stream\"\nurl = \"redis://h\"\n"),
              "sources.orders.stream is required (1 to 512 bytes)");
    EXPECT_EQ(config_error_of(ok + "password_env = \"A\"\npassword_file = \"/f\"\n"),
              "sources.orders: give at most one of password_file, password_env, password_credential");
    EXPECT_EQ(config_error_of(ok + "claim_idle = 5\n"),
              "sources.orders.claim_idle must be between 100 and 86400000 milliseconds");
    EXPECT_EQ(config_error_of(ok + "colour = 1\n"), "unknown key sources.orders.colour");
}

}  // namespace
}  // namespace nhpush::sources
