// The answer to one SOA probe, checked: the pure part of the SOA probe. It takes the bytes a
// nameserver sent and turns them into the fields of a SoaObservation (error kind, rcode, AA,
// SOA). No I/O: the prober, the unit tests and the soa_response fuzz target all call it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "probes/observation.hpp"

namespace soawatch {

// Classifies one DNS response to an SOA query for `zone` (canonical). Checks run in a fixed
// order and the first failure wins (parse, QR, opcode, question, TC, rcode, AA, SOA). Sets
// error, detail, answered, rcode, authoritative, transport, soa, soa_ttl, expire_remaining, nsid
// and rrsig of `obs`; `soa` is set exactly when error is none, rrsig only then too. Returns true
// when a UDP answer is truncated (TC set, or a datagram of 512 bytes or more cut before its end)
// and must be asked again over TCP (RFC 7766 section 5); `obs` then holds no error.
bool classify_soa_response(std::span<const uint8_t> wire, const std::string& zone,
                           Transport transport, SoaObservation& obs);
// The same, with the zone's name also in wire form (uncompressed, as in the query: the prober's
// SoaQuery has it), which spares encoding it for every answer. Usable answers are read by
// read_usable_soa_answer (probes/soa_answer_reader.hpp), the rest in full; an empty zone_wire
// reads every answer in full (the soa_response fuzz target checks that both agree).
bool classify_soa_response(std::span<const uint8_t> wire, const std::string& zone,
                           std::span<const uint8_t> zone_wire, Transport transport,
                           SoaObservation& obs);

}  // namespace soawatch
