// What a recursive resolver's answer to one discovery lookup (a zone's NS, an NS name's A or
// AAAA) says: the values at the name asked, after any CNAME chain in the answer, or why there
// are none. Discovery (probes/discovery.cpp) caches the result.
//
// Most answers are plain: NOERROR, the records of the type asked at the name asked, maybe glue
// and an OPT record. Those are read in one walk over the message that checks every name and
// record the way parse_message does and decodes only the values (one NS answer per discovered
// zone: decoding every record of it into strings was a tenth of a round's instructions). Anything
// else (a CNAME at the name, an error rcode, TC, a malformed message) gets the full reading
// through parse_message, which names the error. Both readings give the same result (the
// lookup_answer fuzz target compares them).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace soawatch {

struct LookupAnswer {
    enum class Outcome : uint8_t {
        values,    // NOERROR: `values` (maybe none: NODATA)
        nxdomain,  // the name does not exist
        failed,    // the resolver failed: an error rcode, a malformed or truncated answer
    };
    Outcome outcome = Outcome::failed;
    // NS: the targets, canonical (lower case, trailing dot), in the answer's order; A, AAAA:
    // the addresses as text. Each once.
    std::vector<std::string> values;
    uint32_t min_ttl = UINT32_MAX;  // over the records taken and the CNAMEs followed to them
    std::string error;              // for people, when not `values`
};

// Reads `wire` as the answer to the lookup of (`name`, `type`): `name` canonical, `name_wire`
// the same name in uncompressed wire form (encode_name's), or empty for the full reading only.
// `type` is the type asked: NS, A or AAAA read quickly; any other the full way.
LookupAnswer read_lookup_answer(std::span<const uint8_t> wire, const std::string& name,
                                std::span<const uint8_t> name_wire, uint16_t type);

}  // namespace soawatch
