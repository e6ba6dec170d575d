// The quick reading of the answer an SOA probe nearly always gets: authoritative, NOERROR, the
// zone's SOA. It walks the message once, checks every name and record the way parse_message
// does, and decodes only what the observation keeps (the SOA, the RRSIG(SOA) times, EXPIRE and
// NSID); owner names are compared with the zone in wire form. Anything else is left to
// classify_soa_response's full reading, which names the error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "probes/observation.hpp"

namespace soawatch {

// At most this many records in one answer to an SOA query (questions included). A real one
// holds a handful (the SOA, NS in authority, glue, OPT); more only costs parsing time and memory.
inline constexpr std::size_t kMaxSoaAnswerRecords = 1024;

// Reads `wire` as the answer to the SOA query for the zone whose name in wire form is
// `zone_wire` (a valid uncompressed name, as in the query: encode_name's). When
// classify_soa_response would find no error in it, sets answered, rcode, authoritative, soa,
// soa_ttl, expire_remaining, nsid and rrsig of `obs` exactly as that does and returns true.
// Otherwise returns false with `obs` untouched.
bool read_usable_soa_answer(std::span<const uint8_t> wire, std::span<const uint8_t> zone_wire,
                            SoaObservation& obs);

}  // namespace soawatch
