#include "spool/dead_letters.hpp"

#include <nhpush/error.hpp>

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace nhpush;
using namespace nhpush::spool;
using std::chrono::seconds;
using std::chrono::system_clock;

// ---- which final results are dead letters ----

struct classification_case {
    boost::system::error_code ec;
    bool dead;
};

TEST(FailsForGood, EveryFinalFailureButWhatAStopOrAClientLeaves) {
    const std::vector<classification_case> table = {
        {{}, false},
        {errc::hub_rejected, true},
        {errc::retries_exhausted, true},
        {errc::deadline_expired, true},
        {errc::read_timeout, true},
        {errc::connect_timeout, true},
        {errc::tls_verify_failed, true},
        {errc::protocol_error, true},
        {errc::send_path_failed, true},
        {boost::asio::error::connection_refused, true},
        {errc::shutting_down, false},
        {errc::outcome_unknown, false},
        {errc::cancelled, false},
        {errc::queue_full, false},
        {errc::invalid_notification, true},  // as a final result: read back from the spool, no longer valid
    };
    for (const auto& c : table) {
        EXPECT_EQ(fails_for_good(c.ec), c.dead) << c.ec.message();
    }
}

// ---- a line ----

dead_letter sample(std::string id = "n-1") {
    dead_letter l;
    l.id = std::move(id);
    l.hub = "main";
    l.submission = R"({"hub":"main","format":"apple","payload":{"aps":{"alert":"hi"}}})";
    l.reason = "hub_rejected";
    l.http_status = 400;
    l.error_code = "BadRequest";
    l.error_detail = "The payload is invalid";
    l.attempts = 1;
    l.accepted_at = system_clock::time_point{seconds{1'780'000'000}};
    l.failed_at = system_clock::time_point{seconds{1'780'000'002}};
    return l;
}

TEST(DeadLetterLine, EmbedsTheSubmissionAsJsonNotAsAString) {
    const auto line = encode_line(sample());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_NE(line.find(R"("submission":{"hub":"main","format":"apple","payload":{"aps":{"alert":"hi"}}})"),
              std::string::npos)
        << line;
    EXPECT_NE(line.find(R"("accepted_at":"2026-05-28T20:26:40Z")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("reason":"hub_rejected","http_status":400)"), std::string::npos) << line;
}

TEST(DeadLetterLine, RoundTrips) {
    const auto letter = sample();
    const auto line = encode_line(letter);
    EXPECT_EQ(decode_line(std::string_view(line).substr(0, line.size() - 1)), letter);
}

TEST(DeadLetterLine, ASubmissionOverSeveralLinesStaysOneLine) {
    auto letter = sample();
    letter.submission = "{\n  \"hub\": \"main\",\r\n  \"payload\": \"x\"\n}";
    const auto line = encode_line(letter);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    EXPECT_EQ(decode_line(line)->submission, R"({"hub":"main","payload":"x"})");
}

TEST(DeadLetterLine, ASubmissionThatIsNotJsonIsKeptAsAString) {
    auto letter = sample();
    letter.submission = "{not json";
    const auto decoded = decode_line(encode_line(letter));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->submission, "{not json");
}

TEST(DeadLetterLine, TornOrForeignLinesAreNotDeadLetters) {
    const auto line = encode_line(sample());
    EXPECT_FALSE(decode_line(std::string_view(line).substr(0, line.size() / 2)));
    EXPECT_FALSE(decode_line(""));
    EXPECT_FALSE(decode_line("[]"));
    EXPECT_FALSE(decode_line(R"({"id":"x"})"));
}

// ---- the file ----

class DeadLetterFile : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("nhpush-dead-letters-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path file() const { return dir_ / std::string(dead_letters_file_name); }

    std::vector<std::string> ids(const dead_letter_page& page) {
        std::vector<std::string> out;
        for (const auto& l : page.letters) {
            out.push_back(l.id);
        }
        return out;
    }

    std::vector<std::string> logged_;
    log::daemon_log log_{log_level::debug,
                         [this](log_level, std::string_view message) { logged_.emplace_back(message); }};
    std::filesystem::path dir_;
};

TEST_F(DeadLetterFile, ListsNewestFirstInPages) {
    dead_letters store(dir_, 1 << 20, log_);
    for (int i = 1; i <= 5; ++i) {
        ASSERT_TRUE(store.append(sample("n-" + std::to_string(i))));
    }
    auto first = store.list(2);
    EXPECT_EQ(ids(first), (std::vector<std::string>{"n-5", "n-4"}));
    EXPECT_TRUE(first.more);
    auto second = store.list(2, "n-4");
    EXPECT_EQ(ids(second), (std::vector<std::string>{"n-3", "n-2"}));
    EXPECT_TRUE(second.more);
    auto last = store.list(2, "n-2");
    EXPECT_EQ(ids(last), (std::vector<std::string>{"n-1"}));
    EXPECT_FALSE(last.more);
    EXPECT_EQ(store.list(10).letters.front(), sample("n-5"));
    EXPECT_TRUE(store.list(2, "gone").letters.empty()) << "after a letter no longer there: nothing";
}

TEST_F(DeadLetterFile, TakeRemovesOneLetterAndKeepsTheOthers) {
    dead_letters store(dir_, 1 << 20, log_);
    for (const auto* id : {"a", "b", "c"}) {
        store.append(sample(id));
    }
    const auto taken = store.take("b");
    ASSERT_TRUE(taken);
    EXPECT_EQ(*taken, sample("b"));
    EXPECT_FALSE(store.take("b"));
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"c", "a"}));
}

TEST_F(DeadLetterFile, PurgeEmptiesTheFile) {
    dead_letters store(dir_, 1 << 20, log_);
    store.append(sample("a"));
    store.append(sample("b"));
    EXPECT_EQ(store.purge(), 2u);
    EXPECT_TRUE(store.list(10).letters.empty());
    EXPECT_EQ(store.size_bytes(), 0u);
    EXPECT_TRUE(store.append(sample("c")));
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"c"}));
}

TEST_F(DeadLetterFile, PastItsBoundNewLettersAreCountedAsDroppedAndTheOldestKept) {
    const auto line_size = encode_line(sample("n-1")).size();
    dead_letters store(dir_, 2 * line_size, log_);
    EXPECT_TRUE(store.append(sample("n-1")));
    EXPECT_TRUE(store.append(sample("n-2")));
    EXPECT_FALSE(store.append(sample("n-3")));
    EXPECT_EQ(store.dropped(), 1u);
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"n-2", "n-1"}));
    ASSERT_FALSE(logged_.empty());
    EXPECT_NE(logged_.back().find("the file is full"), std::string::npos) << logged_.back();
    // Room again after a requeue.
    store.take("n-1");
    EXPECT_TRUE(store.append(sample("n-3")));
}

TEST_F(DeadLetterFile, ATornLastLineIsCutAtStartAndLogged) {
    {
        dead_letters store(dir_, 1 << 20, log_);
        store.append(sample("a"));
    }
    const auto whole = encode_line(sample("b"));
    {
        std::ofstream out(file(), std::ios::app | std::ios::binary);
        out << whole.substr(0, whole.size() / 2);  // a crash in the middle of an append
    }
    dead_letters store(dir_, 1 << 20, log_);
    ASSERT_EQ(logged_.size(), 1u);
    EXPECT_NE(logged_[0].find("torn"), std::string::npos) << logged_[0];
    EXPECT_TRUE(store.append(sample("c")));
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"c", "a"}));
}

TEST_F(DeadLetterFile, ADamagedLineInTheMiddleIsSkippedWithALogLine) {
    {
        dead_letters store(dir_, 1 << 20, log_);
        store.append(sample("a"));
    }
    {
        std::ofstream out(file(), std::ios::app | std::ios::binary);
        out << "{\"id\":\"x\",garbage\n";
    }
    dead_letters store(dir_, 1 << 20, log_);
    store.append(sample("b"));
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"b", "a"}));
    ASSERT_FALSE(logged_.empty());
    EXPECT_NE(logged_.back().find("line 2"), std::string::npos) << logged_.back();
}

TEST_F(DeadLetterFile, AnAppendUnderWayIsNotListedNorLogged) {
    dead_letters store(dir_, 1 << 20, log_);
    store.append(sample("a"));
    {
        std::ofstream out(file(), std::ios::app | std::ios::binary);
        out << encode_line(sample("b")).substr(0, 20);  // another thread's write, half visible
    }
    EXPECT_EQ(ids(store.list(10)), (std::vector<std::string>{"a"}));
    EXPECT_TRUE(logged_.empty());
}

TEST_F(DeadLetterFile, AnEmptyOrMissingFileListsNothing) {
    dead_letters store(dir_, 1 << 20, log_);
    const auto page = store.list(10);
    EXPECT_TRUE(page.letters.empty());
    EXPECT_FALSE(page.more);
    EXPECT_FALSE(store.take("x"));
    EXPECT_EQ(store.purge(), 0u);
}

}  // namespace
