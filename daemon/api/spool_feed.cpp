#include "api/spool_feed.hpp"

#include "submission/submission.hpp"

#include <chrono>
#include <optional>

namespace nhpush::api {

spool::spool::send_function make_spool_feed(hubs::hub_registry& registry,
                                            hubs::notification_dispatcher& dispatcher) {
    return [&registry, &dispatcher](spool::handoff&& h) {
        const auto live = registry.current();
        thread_local std::optional<submission_parser> parser;
        thread_local std::uint64_t parser_generation = 0;
        if (!parser || parser_generation != live->generation) {
            parser.emplace(live->hub_names);
            parser_generation = live->generation;
        }
        // Parsed in place. The handoff lets it go: a dead letter reads it back from the spool.
        std::string text = std::move(h.record.submission);
        const auto accepted_at =
            std::chrono::system_clock::time_point(std::chrono::milliseconds(h.record.accepted_at_ms));
        auto parsed = parser->parse(text, accepted_at);
        auto* slot = live->find(h.record.hub);
        if (auto* s = std::get_if<submission>(&parsed)) {
            dispatcher.send_spooled(slot, std::move(h), std::move(s->notification), {});
        } else {
            dispatcher.send_spooled(slot, std::move(h), std::nullopt, std::get<api_error>(parsed).message);
        }
    };
}

}  // namespace nhpush::api
