// What one SOA probe of one nameserver address saw. Probes return these plain structs; the
// agent never touches packets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "probes/dns_wire.hpp"
#include "probes/nsid.hpp"
#include "probes/rrsig.hpp"

namespace soawatch {

using Clock = std::chrono::system_clock;
using MonoClock = std::chrono::steady_clock;

// A moment as both clocks saw it. Durations (lag, propagation, check time) come from the
// monotonic clock, which an NTP step cannot move (a step of the wall clock would make them
// negative or huge); the wall clock is only for timestamps shown to people.
struct Instant {
    Clock::time_point wall{};
    MonoClock::time_point mono{};
    static Instant now() { return at(MonoClock::now()); }
    // The moment `mono`, with its wall clock time from the clocks' offset (wall_at).
    static Instant at(MonoClock::time_point mono);
    bool operator==(const Instant&) const = default;
};

// The wall clock time of the monotonic moment `mono`: from the offset between the two clocks,
// which each thread reads again once its last reading is 100 ms away (a step of the wall clock
// shows within 100 ms; slewing moves it microseconds in that time). A timestamp then costs one
// clock read, not two: clock reads were 4% of a round's CPU on a VM where each costs tens of
// nanoseconds (docs/PERFORMANCE.md, "Where a round's time goes now").
Clock::time_point wall_at(MonoClock::time_point mono);
inline Instant Instant::at(MonoClock::time_point mono) {
    return {wall_at(mono), mono};
}

// Seconds from `from` to `to` on the monotonic clock; 0 when `to` is not later.
inline double seconds_between(const Instant& from, const Instant& to) {
    const std::chrono::duration<double> d = to.mono - from.mono;
    return d.count() > 0 ? d.count() : 0.0;
}

// Why a probe gave no usable SOA. Each has its own counter (soawatch_probe_errors_total{reason}).
enum class ProbeError : uint8_t {
    none,
    timeout,             // no answer within the timeout on any try (a paused or filtered server)
    connection_refused,  // ICMP port unreachable / TCP RST: nothing listens there
    network_error,       // any other socket error (no route, address family unavailable)
    refused,             // rcode REFUSED
    servfail,            // rcode SERVFAIL
    nxdomain,            // rcode NXDOMAIN: the server does not know the zone exists
    bad_rcode,           // any other non-NOERROR rcode (FORMERR, NOTIMP, NOTAUTH, ...)
    not_authoritative,   // NOERROR without the AA bit: a lame delegation
    no_soa,              // authoritative NOERROR whose answer holds no SOA for the zone
    malformed,           // the answer could not be parsed or contradicts itself
    truncated,           // TC set over TCP too (RFC 7766: the answer cannot be had)
};

inline constexpr std::size_t kProbeErrorKinds = 12;  // enum values, none included
std::string_view probe_error_name(ProbeError e);     // "timeout", "connection_refused", ...
inline constexpr ProbeError all_probe_errors[] = {
    ProbeError::timeout,   ProbeError::connection_refused, ProbeError::network_error,
    ProbeError::refused,   ProbeError::servfail,           ProbeError::nxdomain,
    ProbeError::bad_rcode, ProbeError::not_authoritative,  ProbeError::no_soa,
    ProbeError::malformed, ProbeError::truncated,
};

enum class Transport : uint8_t { udp, tcp };

// One nameserver address to ask. `nameserver` is the NS host name it came from (empty when the
// address was given directly).
struct ProbeTarget {
    std::string nameserver;
    std::string address;  // textual IPv4 or IPv6
    uint16_t port = 53;
    bool operator==(const ProbeTarget&) const = default;
};

// The name a target goes by in metric and alert labels: its NS name, or its address when it was
// given directly. One definition, so alerts and metrics about a nameserver carry the same label.
inline std::string_view nameserver_label(const ProbeTarget& target) {
    return target.nameserver.empty() ? std::string_view(target.address)
                                     : std::string_view(target.nameserver);
}

struct SoaObservation {
    std::string zone;  // canonical (lower case, trailing dot)
    ProbeTarget target;
    ProbeError error = ProbeError::none;
    std::string detail;     // human-readable specifics of the error ("rcode FORMERR", parse error)
    bool answered = false;  // some DNS response was received (even an error rcode)
    unsigned rcode = 0;     // when answered
    bool authoritative = false;            // AA bit, when answered
    Transport transport = Transport::udp;  // of the final answer
    bool fell_back_to_tcp = false;         // the UDP answer was truncated (TC) and TCP was used
    std::optional<dns::SoaRdata> soa;      // present exactly when error == none
    uint32_t soa_ttl = 0;
    // EDNS EXPIRE (RFC 7314): the query carried the option (EDNS on), and the seconds before
    // this server would expire the zone, when a usable answer carried the option.
    bool expire_asked = false;
    std::optional<uint32_t> expire_remaining;
    // NSID (RFC 5001): the identity of the instance that answered, octets as received (see
    // dns::Message::edns_nsid), from any answer that parsed, an error rcode included: behind an
    // anycast address it tells which instance refused or lags. Empty when the answer had none.
    SharedNsid nsid;
    // DNSSEC (RFC 4034, 3225): the query set DO, and the RRSIG(SOA) a usable answer carried
    // (probes/rrsig.hpp picks one). Without DO, or from an unsigned zone, none.
    bool dnssec_asked = false;
    std::optional<RrsigTimes> rrsig;
    std::chrono::duration<double> rtt{0};  // of the try that answered (UDP + TCP when fallen back)
    unsigned tries = 0;                    // queries sent (1 + retries used)
    Instant at;                            // when the answer (or the final failure) came
    bool usable() const { return error == ProbeError::none; }
};

}  // namespace soawatch
