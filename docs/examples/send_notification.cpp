// Sends one apple notification and one template notification with the nhpush library, then prints
// the outcomes. Build: part of the normal build (target nhpush-example-send).
// Run:   nhpush-example-send "$NH_CONNECTION_STRING" myhub [ca_file]

#include <nhpush/notification_hub.hpp>
#include <nhpush/worker_pool.hpp>

#include <boost/asio/use_future.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " CONNECTION_STRING HUB [CA_FILE]\n";
        return 2;
    }
    nhpush::hub_client_config config;
    config.max_connections = 2;
    if (argc > 3) {
        config.ca_file = argv[3];  // e.g. nhpush-hubsim's certificate
    }
    nhpush::worker_pool pool(1);
    nhpush::notification_hub hub(pool, argv[1], argv[2], config);

    // With a future: waits here for the final result.
    auto apple = hub.send_apple_notification(
        R"({"aps":{"alert":"Hello from nhpush"}})", "sports || news", boost::asio::use_future);
    // With a callback: runs on one of the pool's threads.
    std::promise<void> done;
    hub.send_template_notification(
        R"({"greeting_en":"Hello","greeting_fr":"Salut"})",
        "",
        [&done](boost::system::error_code ec, nhpush::send_result r) {
            std::cout << "template: " << (ec ? ec.message() : "sent, id " + r.notification_id) << "\n";
            done.set_value();
        });
    const nhpush::send_result result = apple.get();
    std::cout << "apple: "
              << (result.error ? result.error.message() + ": " + result.error_detail
                               : "sent, id " + result.notification_id)
              << "\n";
    done.get_future().wait();
    hub.stop(std::chrono::seconds{5});
    return result.error ? 1 : 0;
}
