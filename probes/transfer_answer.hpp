// The first message of the answer to a transfer request, checked: the pure part of the transfer
// probe. Bytes in, outcome out; no I/O. The prober, the unit tests and the transfer_answer fuzz
// target call these.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "probes/transfer_observation.hpp"
#include "probes/tsig.hpp"

namespace soawatch {

inline constexpr uint16_t kRrTypeIxfr = 251;  // RFC 1995
inline constexpr uint16_t kRrTypeAxfr = 252;  // RFC 5936

// The AXFR request (RFC 5936 2.1.1): one question (zone, AXFR, IN), no RD, no EDNS. Empty when
// the zone name is invalid.
std::vector<uint8_t> build_axfr_request(uint16_t id, const std::string& zone);
// The IXFR request (RFC 1995 3): one question (zone, IXFR, IN) and, in the authority section,
// the zone's SOA with the serial the client has. Only the serial matters to the server; the
// other SOA fields are the root name and zeros. Empty when the zone name is invalid.
std::vector<uint8_t> build_ixfr_request(uint16_t id, const std::string& zone, uint32_t serial);

// Classifies the first message of the answer to an AXFR for `zone` sent with ID `id`. Fixed
// order, first failure wins: parse, ID, QR, opcode, question, rcode, first answer record.
// REFUSED and NOTAUTH (RFC 5936 2.2.1: "may" refuse with either) are `refused`; NOERROR whose
// first record is the zone's SOA is `open` (RFC 5936 2.2: the first record of an AXFR is the
// SOA). Sets result, detail, rcode and serial of `obs`.
void classify_axfr_answer(std::span<const uint8_t> wire, const std::string& zone, uint16_t id,
                          TransferObservation& obs);

// Classifies the first message of the answer to a signed IXFR: the same checks as the AXFR's,
// and the TSIG of the answer verified against `key` and the request MAC at `now` (seconds since
// the epoch). A TSIG error reported by the server wins over the rcode (BIND answers NOTAUTH with
// BADKEY or BADSIG; RFC 8945 5.3.2). `ok` needs NOERROR, the zone's SOA first and a verified TSIG.
void classify_signed_ixfr_answer(std::span<const uint8_t> wire, const std::string& zone,
                                 uint16_t id, const tsig::Key& key,
                                 std::span<const uint8_t> request_mac, uint64_t now,
                                 TransferObservation& obs);

// A query ID nobody off the path can guess (RFC 5452 4.3); transfers are rare, so one
// getrandom(2) call each.
uint16_t random_query_id();

// Seconds since the epoch: TSIG's time signed (RFC 8945 4.3.3).
uint64_t unix_seconds(Clock::time_point t);

}  // namespace soawatch
