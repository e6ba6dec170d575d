// What one transfer audit probe of one address saw: an unsigned AXFR (is the zone open to
// anyone?) or a TSIG-signed IXFR of the hidden primary (does it serve the secondaries' key?).
// Probes return these plain structs; the agent never touches packets.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "probes/observation.hpp"

namespace soawatch {

enum class TransferKind {
    axfr,         // AXFR over TCP without TSIG (RFC 5936): should be refused
    signed_ixfr,  // IXFR for the current serial signed with the secondaries' key (RFC 1995, 8945)
};
std::string_view transfer_kind_name(TransferKind kind);  // "axfr", "signed_ixfr"

// The outcome of one transfer probe. One table (transfer_result_name) serves metrics, logs, the
// API, the page and alerts.
enum class TransferResult {
    refused,             // REFUSED or NOTAUTH (without a TSIG error), or the server closed
    open,                // axfr: the first message carries the zone's SOA (the zone is served)
    ok,                  // signed_ixfr: served, and the answer's TSIG verifies with the key
    badkey,              // signed_ixfr: the server does not know the key (TSIG error BADKEY)
    badsig,              // signed_ixfr: the MAC does not verify, on the server's side or ours
    badtime,             // signed_ixfr: clocks more than the fudge apart (BADTIME, either side)
    unsigned_answer,     // signed_ixfr: an answer without our key's TSIG (RFC 8945 5.3.2)
    timeout,             // no first message within the timeout (a silent or paused server)
    connection_refused,  // TCP RST: nothing listens there
    network_error,       // any other socket error
    bad_rcode,           // another rcode (SERVFAIL, NOTIMP, FORMERR, ...)
    no_soa,              // NOERROR whose first message does not start with the zone's SOA
    malformed,           // unparsable, wrong ID, wrong question, not a response
};
inline constexpr std::size_t kTransferResults = 13;
std::string_view transfer_result_name(TransferResult result);  // "refused", "open", ...

struct TransferObservation {
    std::string zone;  // canonical
    ProbeTarget target;
    TransferKind kind = TransferKind::axfr;
    TransferResult result = TransferResult::timeout;
    std::string detail;                    // the specifics: rcode, TSIG error, parse error
    std::optional<unsigned> rcode;         // when a message was read
    std::optional<uint32_t> serial;        // the SOA serial of the first message, when there
    std::chrono::duration<double> rtt{0};  // connect to first message (or failure)
    Clock::time_point at;
};

}  // namespace soawatch
