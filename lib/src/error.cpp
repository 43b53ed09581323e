#include "nhpush/error.hpp"

namespace nhpush {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nhpush"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::resolve_timeout:
                return "timed out resolving the hub's host name";
            case errc::connect_timeout:
                return "timed out connecting to the hub";
            case errc::handshake_timeout:
                return "timed out in the TLS handshake with the hub";
            case errc::write_timeout:
                return "timed out writing the request to the hub";
            case errc::read_timeout:
                return "timed out waiting for the hub's response";
            case errc::connection_closed:
                return "the hub closed the connection before answering";
            case errc::queue_full:
                return "the send queue is full";
            case errc::deadline_expired:
                return "the notification's deadline passed before it was sent";
            case errc::shutting_down:
                return "the sender is shutting down";
            case errc::hub_rejected:
                return "the hub rejected the notification";
            case errc::retries_exhausted:
                return "the hub kept failing until the retry limit was reached";
            case errc::invalid_notification:
                return "the notification is invalid";
            case errc::tls_verify_failed:
                return "the hub's TLS certificate could not be verified";
            case errc::outcome_unknown:
                return "the sender stopped while the request was on the wire; the hub may have accepted it";
            case errc::send_path_failed:
                return "an unexpected error on the send path";
            case errc::protocol_error:
                return "the hub broke the HTTP/2 protocol";
            case errc::cancelled:
                return "the notification was cancelled while still queued; it was never sent";
        }
        return "unknown nhpush error";
    }
};

}  // namespace

const boost::system::error_category& nhpush_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), nhpush_category()};
}

}  // namespace nhpush
