// Listens for DNS NOTIFY (RFC 1996) on UDP and TCP (agent/notify_tcp.*), answers each one for a
// watched zone (section 4.7), and hands the zone to the scheduler so it is re-probed at once.
// NOTIFY is unauthenticated: it only moves a check earlier, and at most one NOTIFY per zone and
// second reaches the scheduler (the others are answered and counted as ignored), so a flood of
// forged ones costs at most one extra round of queries per zone and second. A repeated one is not
// lost, though: one per zone is handed on when the second is over (and counted as accepted when it
// comes), as it may announce a second change soon after the first (the fast re-probes of the first
// may be over).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config/endpoint.hpp"
#include "agent/notify_tcp.hpp"
#include "probes/event_loop.hpp"
#include "probes/observation.hpp"
#include "probes/unique_fd.hpp"

namespace soawatch {

class NotifyListener {
  public:
    // Returns true when the zone is watched (the NOTIFY is then answered NOERROR).
    using Handler = std::function<bool(const std::string& zone, Instant when)>;

    // Binds the UDP socket and the TCP one on the same port; throws std::runtime_error with a
    // one-line reason when it cannot.
    NotifyListener(EventLoop& loop, const Endpoint& listen, Handler handler);
    ~NotifyListener();
    NotifyListener(const NotifyListener&) = delete;
    NotifyListener& operator=(const NotifyListener&) = delete;

    uint16_t port() const { return port_; }
    uint64_t accepted() const { return accepted_; }
    uint64_t ignored() const { return ignored_; }

    // A NOTIFY for a zone handed to the scheduler less than this long ago is not handed again
    // before this long has passed.
    static constexpr std::chrono::seconds kMinNotifyGap{1};

  private:
    void on_readable();
    // One message from either transport: decoded, rate-limited, handed on; the answer (empty
    // for what is not a NOTIFY: never answered).
    std::vector<uint8_t> respond(std::span<const uint8_t> message);
    bool repeated(const std::string& zone, MonoClock::time_point now);
    // Hands `zone` on when its gap ends (once, however many repeats came), timed from `when`.
    // True when this repeat is the one to be handed on (none was waiting for the zone yet).
    bool defer(const std::string& zone, Instant when);

    EventLoop& loop_;
    Handler handler_;
    UniqueFd fd_;
    uint16_t port_ = 0;
    uint64_t accepted_ = 0;
    uint64_t ignored_ = 0;
    std::unordered_map<std::string, MonoClock::time_point> last_handled_;  // watched zones only
    std::unordered_map<std::string, EventLoop::TimerId> deferred_;  // a repeat waits (per zone)
    std::unique_ptr<NotifyTcpServer> tcp_;
};

}  // namespace soawatch
