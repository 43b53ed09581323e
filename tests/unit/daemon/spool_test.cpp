// The spool: its records, its segment files (recovery after a crash and after damage), and how it
// hands notifications to the sender within its memory window. Files live in a temporary directory.
#include "spool/spool.hpp"
#include "spool/record.hpp"
#include "spool/segment_log.hpp"

#include <gtest/gtest.h>

#include <boost/crc.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace nhpush::spool {
namespace {

namespace fs = std::filesystem;

accepted_record accepted(std::string id, std::string hub = "main") {
    return {
        .id = id,
        .hub = std::move(hub),
        .accepted_at_ms = 1'700'000'000'000,
        .deadline_ms = 1'700'000'060'000,
        .submission = fmt::format(R"({{"hub":"main","id":"{}","format":"template","payload":"{{}}"}})", id)};
}

final_record final_of(const std::string& id, std::uint64_t segment, std::string hub = "main") {
    return {
        .id = id, .hub = std::move(hub), .segment = segment, .sent = true, .http_status = 201, .attempts = 1};
}

/// A fresh directory under the system's temporary one, removed at the end.
class temp_dir {
public:
    temp_dir()
        : path_(fs::temp_directory_path() / fmt::format("nhpush-spool-test-{}", std::random_device{}())) {
        fs::create_directories(path_);
    }
    ~temp_dir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string framed(const record& r) {
    std::string out;
    encode(r, out);
    return out;
}

TEST(spool_record, round_trips_every_kind) {
    for (const record& r : {record{accepted("a1")},
                            record{final_of("a1", 7)},
                            record{attempts_record{.id = "a1", .hub = "main", .attempts = 3}}}) {
        const auto bytes = framed(r);
        auto d = decode(bytes);
        ASSERT_TRUE(std::holds_alternative<decoded>(d));
        EXPECT_EQ(std::get<decoded>(d).value, r);
        EXPECT_EQ(std::get<decoded>(d).frame_bytes, bytes.size());
    }
}

TEST(spool_record, crc32c_matches_the_standard_check_value) {
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's CRC-32C check value
}

// The format's checksum is Boost.CRC's CRC-32C (spools written before ISA-L computed it must still
// read): both agree on every length and content.
TEST(spool_record, crc32c_agrees_with_boost_crc_on_random_bytes) {
    std::mt19937 random(12);
    for (int i = 0; i < 2000; ++i) {
        std::string bytes(random() % 1500, '\0');
        for (auto& c : bytes) {
            c = static_cast<char>(random());
        }
        boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> reference;
        reference.process_bytes(bytes.data(), bytes.size());
        ASSERT_EQ(crc32c(bytes), reference.checksum()) << bytes.size() << " bytes";
    }
}

TEST(spool_record, every_cut_of_a_record_is_incomplete_and_every_flipped_byte_is_damage) {
    const auto bytes = framed(accepted("n-42"));
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        EXPECT_TRUE(std::holds_alternative<incomplete>(decode(std::string_view(bytes).substr(0, cut))) ||
                    std::holds_alternative<damaged>(decode(std::string_view(bytes).substr(0, cut))))
            << "cut at " << cut;
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x5a);
        EXPECT_FALSE(std::holds_alternative<decoded>(decode(bad))) << "flipped byte " << i;
    }
}

TEST(spool_record, a_huge_length_is_damage_not_a_wait_for_more) {
    std::string bytes(frame_header_bytes, '\xff');
    EXPECT_TRUE(std::holds_alternative<damaged>(decode(bytes)));
}

std::vector<record> recover_all(segment_log& log,
                                const fs::path& damaged,
                                std::vector<recovery_note>* notes = nullptr) {
    std::vector<record> out;
    auto n = log.recover(damaged, [&](record&& r, std::uint64_t) { out.push_back(std::move(r)); });
    if (notes != nullptr) {
        *notes = std::move(n);
    }
    return out;
}

TEST(spool_segment_log, records_survive_a_reopen_and_segments_roll_over) {
    temp_dir dir;
    std::vector<record> written;
    {
        segment_log log(dir.path() / "hub", 1024, false);
        recover_all(log, dir.path() / "damaged");
        for (int i = 0; i < 40; ++i) {
            written.push_back(accepted(fmt::format("n{}", i)));
            log.append(framed(written.back()));
        }
        EXPECT_GT(log.active_segment(), 3u) << "1 KiB segments hold a few records each";
    }
    segment_log again(dir.path() / "hub", 1024, false);
    EXPECT_EQ(recover_all(again, dir.path() / "damaged"), written);
}

// An append of several buffers that the disk takes only in part (here: a file-size limit in the
// middle of the second buffer) is cut off whole: the next append follows the last whole record.
TEST(spool_segment_log, an_append_written_only_in_part_is_cut_off_whole) {
    temp_dir dir;
    const record first = accepted("first");
    const record torn_a = accepted("torn-a");
    const record torn_b = accepted("torn-b");
    const record after = accepted("after");
    {
        segment_log log(dir.path() / "hub", 1 << 20, false);
        recover_all(log, dir.path() / "damaged");
        log.append(framed(first));
        const auto a = framed(torn_a);
        const auto b = framed(torn_b);
        rlimit saved{};
        ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = saved;
        small.rlim_cur = static_cast<rlim_t>(log.end().offset + a.size() + b.size() / 2);
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
        const std::string_view parts[] = {a, b};
        EXPECT_THROW(log.append(parts), std::system_error);
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, old_handler);
        log.append(framed(after));
    }
    segment_log again(dir.path() / "hub", 1 << 20, false);
    EXPECT_EQ(recover_all(again, dir.path() / "damaged"), (std::vector<record>{first, after}));
}

// The append that fills a segment starts the next without syncing the full one (a sync takes
// milliseconds, and the append holds its hub's lock): the syncer's next sync covers it, once.
TEST(spool_segment_log, a_retired_segment_is_left_to_the_syncer_once) {
    temp_dir dir;
    segment_log log(dir.path() / "hub", 256, true);
    recover_all(log, dir.path() / "damaged");
    const auto first = log.active_file();
    while (log.active_segment() == 1) {
        log.append(framed(accepted("n")));
    }
    std::vector<std::shared_ptr<segment_file>> files;
    log.files_to_sync(files);
    EXPECT_EQ(files, (std::vector<std::shared_ptr<segment_file>>{first, log.active_file()}));
    files.clear();
    log.files_to_sync(files);
    EXPECT_EQ(files, std::vector<std::shared_ptr<segment_file>>{log.active_file()}) << "handed over once";

    segment_log unsynced(dir.path() / "never", 256, false);  // fsync = "never"
    recover_all(unsynced, dir.path() / "damaged");
    while (unsynced.active_segment() == 1) {
        unsynced.append(framed(accepted("n")));
    }
    files.clear();
    unsynced.files_to_sync(files);
    EXPECT_EQ(files, std::vector<std::shared_ptr<segment_file>>{unsynced.active_file()});
}

TEST(spool_segment_log, a_torn_tail_is_cut_and_the_records_before_it_are_kept) {
    temp_dir dir;
    std::uintmax_t good_size = 0;
    {
        segment_log log(dir.path() / "hub", 1 << 20, false);
        recover_all(log, dir.path() / "damaged");
        log.append(framed(accepted("kept")));
        good_size = log.end().offset;
        log.append(framed(accepted("torn")));
    }
    const auto file = dir.path() / "hub" / "00000000000000000001.seg";
    fs::resize_file(file, good_size + 5);  // the crash tore the second record
    segment_log again(dir.path() / "hub", 1 << 20, false);
    std::vector<recovery_note> notes;
    const auto records = recover_all(again, dir.path() / "damaged", &notes);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(std::get<accepted_record>(records[0]).id, "kept");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_FALSE(notes[0].damage);
    EXPECT_NE(notes[0].text.find("cut short"), std::string::npos) << notes[0].text;
    // Appends go on after it, and a second recovery reads both.
    again.append(framed(accepted("after")));
    segment_log third(dir.path() / "hub", 1 << 20, false);
    const auto all = recover_all(third, dir.path() / "damaged");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(std::get<accepted_record>(all[1]).id, "after");
}

TEST(spool_segment_log, a_damaged_segment_in_the_middle_is_copied_aside_and_the_rest_recovered) {
    temp_dir dir;
    {
        segment_log log(dir.path() / "hub", 200, false);
        recover_all(log, dir.path() / "damaged");
        for (int i = 0; i < 12; ++i) {
            log.append(framed(accepted(fmt::format("n{}", i))));
        }
    }
    const auto second = dir.path() / "hub" / "00000000000000000002.seg";
    {
        std::fstream f(second, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(segment_magic.size() + 20));
        f.put('\x7f');
    }
    segment_log again(dir.path() / "hub", 200, false);
    std::vector<recovery_note> notes;
    const auto records = recover_all(again, dir.path() / "damaged", &notes);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_TRUE(notes[0].damage);
    EXPECT_TRUE(fs::exists(dir.path() / "damaged" / second.filename()));
    std::set<std::string> ids;
    for (const auto& r : records) {
        ids.insert(std::get<accepted_record>(r).id);
    }
    EXPECT_TRUE(ids.contains("n0"));
    EXPECT_TRUE(ids.contains("n11")) << "the segments after the damaged one are read";
    EXPECT_LT(ids.size(), 12u);
}

/// Collects what a spool hands over.
struct handed {
    std::vector<handoff> list;
    spool::send_function function() {
        return [this](handoff&& h) { list.push_back(std::move(h)); };
    }
};

spool_config small_config(const fs::path& dir, std::size_t window, std::size_t segment_bytes = 1 << 20) {
    return {.dir = dir.string(),
            .fsync = fsync_mode::never,
            .segment_bytes = segment_bytes,
            .memory_window = window};
}

TEST(spool_window, beyond_the_window_notifications_wait_on_disk_and_come_back_in_order) {
    temp_dir dir;
    spool s(small_config(dir.path(), 2));
    handed h;
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start(h.function());
    std::vector<admission> admitted;
    for (int i = 0; i < 5; ++i) {
        admitted.push_back(s.accept(accepted(fmt::format("n{}", i)), false));
    }
    EXPECT_TRUE(admitted[0].send_now);
    EXPECT_TRUE(admitted[1].send_now);
    EXPECT_FALSE(admitted[2].send_now);
    EXPECT_TRUE(h.list.empty());
    s.finished(final_of("n0", admitted[0].segment));
    EXPECT_TRUE(h.list.empty()) << "a place in the window is freed once the final record is written";
    s.write_finals();
    ASSERT_EQ(h.list.size(), 1u);
    EXPECT_EQ(h.list[0].record, accepted("n2"));
    s.finished(final_of("n1", admitted[1].segment));
    s.finished(final_of("n2", h.list[0].segment));
    s.write_finals();
    ASSERT_EQ(h.list.size(), 3u);
    EXPECT_EQ(h.list[1].record.id, "n3");
    EXPECT_EQ(h.list[2].record.id, "n4");
}

TEST(spool_window, a_waiting_client_is_sent_at_once_and_not_twice) {
    temp_dir dir;
    spool s(small_config(dir.path(), 1));
    handed h;
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start(h.function());
    const auto first = s.accept(accepted("n0"), false);
    EXPECT_FALSE(s.accept(accepted("n1"), false).send_now);
    EXPECT_TRUE(s.accept(accepted("waiting"), true).send_now);
    s.finished(final_of("n0", first.segment));
    s.write_finals();
    EXPECT_TRUE(h.list.empty()) << "the waiting client's notification holds the window";
    s.finished(final_of("waiting", first.segment));
    s.write_finals();
    ASSERT_EQ(h.list.size(), 1u);
    EXPECT_EQ(h.list[0].record.id, "n1");
    s.finished(final_of("n1", h.list[0].segment));
    s.write_finals();
    EXPECT_EQ(h.list.size(), 1u) << "the cursor skips the one sent ahead";
}

TEST(spool_window, a_submission_stays_on_disk_and_is_read_back_for_a_dead_letter_or_a_resend) {
    temp_dir dir;
    spool s(small_config(dir.path(), 10));
    handed h;
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start(h.function());
    s.accept(accepted("n0"), false);
    const auto r = accepted("n1");
    const auto a = s.accept(r, false);
    ASSERT_TRUE(a.send_now);
    // What the caller keeps while it sends: the record without its submission, and where it is.
    handoff sending{.record = {.id = r.id, .hub = r.hub, .accepted_at_ms = r.accepted_at_ms},
                    .segment = a.segment,
                    .offset = a.offset};
    EXPECT_EQ(s.submission_of(sending), r.submission);
    s.hand_back(handoff(sending), true);  // refused by a full queue, say: sent again from the spool
    ASSERT_EQ(h.list.size(), 1u);
    EXPECT_EQ(h.list[0].record.submission, r.submission) << "the send function parses it again";
    EXPECT_EQ(h.list[0].offset, a.offset);
    handoff wrong = sending;
    wrong.record.id = "another";
    EXPECT_FALSE(s.submission_of(wrong).has_value()) << "never another notification's submission";
}

TEST(spool_recovery, unfinished_notifications_come_back_after_a_crash_and_finished_ones_do_not) {
    temp_dir dir;
    {
        spool s(small_config(dir.path(), 100));
        s.recover([](const auto&) {}, [](const auto&) {});
        s.start([](handoff&&) {});
        const auto a = s.accept(accepted("done"), false);
        s.accept(accepted("pending-1"), false);
        const auto stopped = s.accept(accepted("cut-by-stop"), false);
        s.accept(accepted("pending-2", "other"), false);
        s.finished(final_of("done", a.segment));
        // A stop cut it short after two attempts: kept for next time, with them.
        s.kept({.record = accepted("cut-by-stop"), .segment = stopped.segment, .attempts = 2});
    }  // as if killed: nothing more is written
    spool s(small_config(dir.path(), 100));
    std::vector<std::string> finals;
    std::vector<std::string> unfinished;
    const auto summary = s.recover([&](const final_record& f) { finals.push_back(f.id); },
                                   [&](const accepted_record& r) { unfinished.push_back(r.id); });
    EXPECT_EQ(finals, std::vector<std::string>{"done"});
    std::sort(unfinished.begin(), unfinished.end());
    EXPECT_EQ(unfinished, (std::vector<std::string>{"cut-by-stop", "pending-1", "pending-2"}));
    EXPECT_EQ(summary.unfinished, 3u);
    handed h;
    s.start(h.function());
    std::map<std::string, std::uint32_t> sent;  // id: attempts made before
    for (const auto& x : h.list) {
        sent[x.record.id] = x.attempts;
    }
    EXPECT_EQ(sent,
              (std::map<std::string, std::uint32_t>{{"cut-by-stop", 2}, {"pending-1", 0}, {"pending-2", 0}}))
        << "each comes back once, the one a stop cut short with the attempts it had made";
}

TEST(spool_recovery, segments_whose_notifications_are_all_final_are_deleted) {
    temp_dir dir;
    spool s(small_config(dir.path(), 1000, 1 << 16));
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start([](handoff&&) {});
    std::vector<std::pair<std::string, std::uint64_t>> open;
    for (int i = 0; i < 2000; ++i) {
        const auto id = fmt::format("n{}", i);
        open.emplace_back(id, s.accept(accepted(id), false).segment);
        if (open.size() == 500) {
            for (const auto& [done, segment] : open) {
                s.finished(final_of(done, segment));
            }
            open.clear();
        }
    }
    const auto figures = s.figures();
    ASSERT_EQ(figures.size(), 1u);
    EXPECT_LE(figures[0].segments, 2u) << "only the active segment (and the one before it) remain";
}

// The corruption harness: records spread over several segments, then one file damaged at a random
// offset (a flipped byte or a cut): every record before the damage must be recovered.
TEST(spool_recovery, damage_at_random_offsets_loses_nothing_before_it) {
    std::mt19937 random(20261130);
    for (int round = 0; round < 60; ++round) {
        temp_dir dir;
        std::vector<std::pair<fs::path, std::vector<std::pair<std::uint64_t, std::string>>>> layout;
        {
            segment_log log(dir.path() / "hubs" / "main", 2048, false);
            log.recover(dir.path() / "damaged", [](record&&, std::uint64_t) {});
            for (int i = 0; i < 60; ++i) {
                const auto id = fmt::format("r{}-{}", round, i);
                const auto bytes = framed(accepted(id));
                const auto at = log.append(bytes);
                const auto path = dir.path() / "hubs" / "main" / fmt::format("{:020}.seg", at.segment);
                if (layout.empty() || layout.back().first != path) {
                    layout.push_back({path, {}});
                }
                layout.back().second.emplace_back(at.offset + bytes.size(), id);  // where it ends
            }
        }
        const auto& [victim, records_in_victim] = layout[random() % layout.size()];
        const auto size = fs::file_size(victim);
        const auto offset = random() % size;
        if (random() % 2 == 0) {
            fs::resize_file(victim, offset);
        } else {
            std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
            f.seekg(static_cast<std::streamoff>(offset));
            const char c = static_cast<char>(f.get());
            f.seekp(static_cast<std::streamoff>(offset));
            f.put(static_cast<char>(c ^ 0x21));
        }
        std::set<std::string> expected;
        for (const auto& [path, records] : layout) {
            for (const auto& [end, id] : records) {
                if (path != victim || end <= offset) {
                    expected.insert(id);
                }
            }
        }
        spool s(small_config(dir.path(), 1000, 2048));
        std::set<std::string> recovered;
        s.recover([](const auto&) {}, [&](const accepted_record& r) { recovered.insert(r.id); });
        for (const auto& id : expected) {
            EXPECT_TRUE(recovered.contains(id)) << "round " << round << ": " << id << " lost; damage at byte "
                                                << offset << " of " << victim.filename();
        }
    }
}

}  // namespace
}  // namespace nhpush::spool

namespace nhpush::spool {
namespace {

// A batch (an NDJSON request's lines) is written once per hub, each notification held to its own
// hub's capacity, in order.
TEST(spool_batch, each_notification_of_a_batch_is_held_to_its_hubs_capacity_in_order) {
    temp_dir dir;
    std::vector<accepted_record> records;
    for (int i = 0; i < 5; ++i) {
        records.push_back(accepted(fmt::format("m{}", i)));
        if (i < 2) {
            records.push_back(accepted(fmt::format("o{}", i), "other"));
        }
    }
    {
        spool s(small_config(dir.path(), 100));
        s.recover([](const auto&) {}, [](const auto&) {});
        s.start([](handoff&&) {});
        std::vector<intake> batch;
        for (const auto& r : records) {
            batch.push_back({.record = fields_of(r), .capacity = 3});
        }
        const auto admitted = s.accept(batch);
        std::vector<std::string> refused;
        for (std::size_t i = 0; i < admitted.size(); ++i) {
            if (admitted[i].full()) {
                refused.push_back(records[i].id);
            } else {
                EXPECT_TRUE(admitted[i].accepted() && admitted[i].send_now) << records[i].id;
            }
        }
        EXPECT_EQ(refused, (std::vector<std::string>{"m3", "m4"}));
    }
    spool s(small_config(dir.path(), 100));
    std::vector<std::string> unfinished;
    s.recover([](const auto&) {},
              [&](const accepted_record& r) { unfinished.push_back(r.hub + "/" + r.id); });
    std::sort(unfinished.begin(), unfinished.end());
    EXPECT_EQ(unfinished,
              (std::vector<std::string>{"main/m0", "main/m1", "main/m2", "other/o0", "other/o1"}));
}

// Final records wait in memory for the next write; with no submission coming, the syncer thread
// writes them within moments.
TEST(spool_batch, a_final_record_is_written_even_when_nothing_else_is) {
    temp_dir dir;
    spool s(small_config(dir.path(), 100));
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start([](handoff&&) {});
    const auto a = s.accept(accepted("alone"), false);
    const auto before = s.figures().front().bytes;
    s.finished(final_of("alone", a.segment));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (s.figures().front().bytes == before && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    EXPECT_GT(s.figures().front().bytes, before) << "the final record was never written";
}

// A write that fails (here: past a file-size limit) refuses the whole batch of that hub, accepts
// none of it, keeps the final records that waited, and the next write that succeeds clears it.
TEST(spool_batch, a_failed_write_refuses_the_batch_and_loses_no_final_record) {
    temp_dir dir;
    {
        spool s(small_config(dir.path(), 100));
        s.recover([](const auto&) {}, [](const auto&) {});
        s.start([](handoff&&) {});
        const auto a = s.accept(accepted("done"), false);
        s.finished(final_of("done", a.segment));
        const auto refused_ids = {accepted("x0"), accepted("x1"), accepted("x2")};
        std::vector<intake> batch;
        for (const auto& r : refused_ids) {
            batch.push_back({.record = fields_of(r)});
        }
        rlimit saved{};
        ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = saved;
        small.rlim_cur = static_cast<rlim_t>(s.figures().front().bytes);  // no byte more
        ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
        const auto admitted = s.accept(batch);
        const auto problem = s.problem();
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, old_handler);
        for (const auto& x : admitted) {
            EXPECT_EQ(x.outcome, admission::verdict::unwritable);
            EXPECT_FALSE(x.problem.empty());
        }
        EXPECT_FALSE(problem.empty()) << "the spool reports why it cannot be written";
        EXPECT_TRUE(s.accept(accepted("after"), false).accepted());
        EXPECT_EQ(s.problem(), "") << "a write that succeeds clears the problem";
    }
    spool s(small_config(dir.path(), 100));
    std::vector<std::string> finals;
    std::vector<std::string> unfinished;
    s.recover([&](const final_record& f) { finals.push_back(f.id); },
              [&](const accepted_record& r) { unfinished.push_back(r.id); });
    EXPECT_EQ(finals, std::vector<std::string>{"done"});
    EXPECT_EQ(unfinished, std::vector<std::string>{"after"}) << "nothing of the refused batch was kept";
}

TEST(spool_window, queue_capacity_bounds_what_waits_on_disk_too) {
    temp_dir dir;
    spool s(small_config(dir.path(), 1));
    s.recover([](const auto&) {}, [](const auto&) {});
    s.start([](handoff&&) {});
    const auto first = s.accept(accepted("n0"), false, 2);
    EXPECT_FALSE(s.accept(accepted("n1"), false, 2).full());
    EXPECT_TRUE(s.accept(accepted("n2"), false, 2).full());
    s.finished(final_of("n0", first.segment));
    EXPECT_EQ(s.figures().front().outstanding, 1u) << "a reported final counts before it is written";
    EXPECT_FALSE(s.accept(accepted("n2"), false, 2).full()) << "a final result frees a place";
}

}  // namespace
}  // namespace nhpush::spool

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace nhpush::spool {
namespace {

// Every request for a flush is followed by a flush, whether the syncer sleeps (and is woken) or
// ticks (final records kept coming, so it flushes on a timer and is not woken): a lost wake would
// leave a request waiting here until the deadline.
TEST(spool_group_commit, every_flush_request_is_followed_by_a_flush) {
    std::atomic<int> flushes{0};
    group_commit commit(
        fsync_mode::never,
        std::chrono::milliseconds{100},
        std::chrono::milliseconds{1},
        std::chrono::milliseconds{2},
        [&] { flushes.fetch_add(1); },
        [] { return std::vector<std::shared_ptr<segment_file>>{}; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    const auto until = [&](auto done) {
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
        return done();
    };
    int answered = 0;
    for (int i = 0; i < 200; ++i) {
        if (i % 2 == 0) {
            // Half of the requests find it asleep (its ticks found nothing), half find it ticking.
            ASSERT_TRUE(until([&] { return commit.sleeping_between_flushes(); }));
        }
        const int before = flushes.load();
        commit.request_flush();
        answered += until([&] { return flushes.load() > before; }) ? 1 : 0;
    }
    EXPECT_EQ(answered, 200) << "a request for a flush went unanswered";
}

// Every waiter of every group completes once, with the syncs' result: many waiters share a sync.
TEST(spool_group_commit, every_waiter_is_completed_once_after_a_sync) {
    temp_dir dir;
    segment_log log(dir.path() / "hub", 1 << 20, true);
    log.recover(dir.path() / "damaged", [](record&&, std::uint64_t) {});
    group_commit commit(
        fsync_mode::always,
        std::chrono::milliseconds{100},
        std::chrono::milliseconds{2},
        std::chrono::milliseconds{2},
        [] {},
        [&] {
            std::vector<std::shared_ptr<segment_file>> files;
            log.files_to_sync(files);
            return files;
        });
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);  // never out of work while the syncer posts
    std::size_t completed = 0;
    std::size_t failed = 0;
    constexpr std::size_t waiters = 3000;
    for (std::size_t i = 0; i < waiters; ++i) {
        log.append(framed(accepted(fmt::format("n{}", i))));
        commit.async_wait_durable(commit.note_append(),
                                  boost::asio::bind_executor(io, [&](boost::system::error_code ec) {
                                      ++completed;
                                      failed += ec ? 1 : 0;
                                  }));
        if (i % 500 == 0) {
            io.poll();  // some complete while others are still being added
        }
    }
    // The syncer thread posts the completions: the loop runs until all came, or 10 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (completed < waiters && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds{100});
    }
    EXPECT_EQ(completed, waiters);
    EXPECT_EQ(failed, 0u);
}

}  // namespace
}  // namespace nhpush::spool
