#pragma once
/** @file What the spool's cursor hands over (a notification read back from disk) goes to its hub. */

#include "hubs/hub_registry.hpp"
#include "hubs/notification_dispatcher.hpp"
#include "spool/spool.hpp"

namespace nhpush::api {

/**
 * @brief The spool's send function: parses the spooled submission with the same parser as the
 * socket (validated against the time it was accepted) and sends it to its hub in the configuration
 * in force; one that no longer parses, or whose hub is gone, gets a final failure saying why.
 * Thread-safe: each thread keeps its own parser.
 */
spool::spool::send_function make_spool_feed(hubs::hub_registry& registry,
                                            hubs::notification_dispatcher& dispatcher);

}  // namespace nhpush::api
