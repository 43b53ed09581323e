#pragma once
/** @file The recent-results table behind `GET /v1/notifications/{id}`. */

#include <nhpush/notification_hub.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nhpush::hubs {

/** @brief Where a notification is: waiting in its hub's queue (or being sent), or finished. */
enum class notification_state { queued, sent, failed };

/** @brief The wire name of a state: "queued", "sent", "failed". */
std::string_view to_string(notification_state state) noexcept;

/** @brief The wire name of why a notification was not sent ("hub_rejected", "read_timeout", …). */
std::string_view reason_name(const boost::system::error_code& ec);

/** @brief What the daemon knows of one notification: its hub, its state and, once finished, its result. */
struct result_record {
    std::string hub;  ///< the [hubs.NAME] it was submitted to
    notification_state state = notification_state::queued;
    std::string reason;  ///< why it failed (reason_name); empty otherwise
    unsigned http_status = 0;
    bool unexpected_status = false;
    int attempts = 0;
    std::string notification_id;
    std::string tracking_id;
    std::string error_code;
    std::string error_detail;
    bool scheduled = false;  ///< sent with schedule_at: the hub holds it until then (it can be cancelled)

    /// The record of a finished notification.
    static result_record finished(std::string_view hub,
                                  const boost::system::error_code& ec,
                                  const send_result& result);

    bool operator==(const result_record&) const = default;
};

/**
 * @brief A bounded id → result_record table.
 *
 * Queued notifications are always kept (their number is bounded by the hubs' queue capacities); of
 * the finished ones, the last `capacity` are kept and the oldest forgotten first. Capacity 0 turns the
 * table off: nothing is stored and find() finds nothing. claim() refuses an id the table holds.
 *
 * Thread-safety: every member may be called from any thread. The table is split into stripes, each
 * with its own lock, so the workers rarely wait for each other; with stripes, "oldest first" holds per
 * stripe, so the bound is kept exactly but the order of forgetting is approximate.
 */
class recent_results {
public:
    explicit recent_results(std::size_t capacity);
    ~recent_results();
    recent_results(const recent_results&) = delete;
    recent_results& operator=(const recent_results&) = delete;

    /** @brief Changes how many finished notifications are kept (a reload); may forget some at once. */
    void set_capacity(std::size_t capacity);

    /**
     * @brief Records `id` as queued to `hub`, pending, unless the table knows it already (queued,
     * in flight or a recent result): then changes nothing and returns that notification's record.
     *
     * Atomic: of concurrent claims of one id exactly one gets nullopt. The winner settles its claim
     * with confirm() once the notification is queued, or forget() when it was refused; a claim of an
     * id whose claim is pending waits for that (a moment: the hand-over to the queue never blocks), so
     * nobody is told "already queued" about a notification that is then refused. With capacity 0
     * every claim succeeds.
     * `wait_for_pending` false: a pending claim is taken as the holder (queued on its hub) instead of
     * waited for; a caller that holds claims of its own must not wait (two of them could wait on
     * each other).
     */
    std::optional<result_record> claim(std::string_view id,
                                       std::string_view hub,
                                       bool wait_for_pending = true);

    /** @brief Settles a pending claim of `id`: the notification was queued. */
    void confirm(std::string_view id);

    /** @brief Records the final result of `id`. */
    void finished(std::string_view id, result_record record);

    /** @brief Forgets `id` (a submission that was refused at once: settles its pending claim). */
    void forget(std::string_view id);

    /** @brief The record of `id`, if it is known. */
    std::optional<result_record> find(std::string_view id) const;

    /** @brief Entries held now, queued and finished. */
    std::size_t size() const;

private:
    struct stripe;
    stripe& stripe_of(std::string_view id) const;
    std::size_t stripe_capacity(std::size_t capacity) const noexcept;

    std::uint32_t hub_index(std::string_view hub);
    std::string hub_name(std::uint32_t index) const;

    std::vector<std::unique_ptr<stripe>> stripes_;
    std::atomic<std::size_t> capacity_;
    mutable std::mutex hubs_mutex_;
    std::vector<std::string> hub_names_;  // every hub a queued notification named, by index
};

}  // namespace nhpush::hubs
