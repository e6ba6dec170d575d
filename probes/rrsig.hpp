// The RRSIG over a zone's SOA (RFC 4034 3) that an SOA answer carries when the query set DO
// (RFC 3225): which one soawatch reads, and how its 32-bit times become times on the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "probes/dns_wire.hpp"

namespace soawatch {

// The validity period of one RRSIG(SOA), as answered (RFC 4034 3.1.5: seconds since the epoch
// modulo 2^32), with the key that made it. Times on the clock: rrsig_time() below.
struct RrsigTimes {
    uint32_t inception = 0;
    uint32_t expiration = 0;
    uint16_t key_tag = 0;
    uint8_t algorithm = 0;
    bool operator==(const RrsigTimes&) const = default;
};

// The RRSIG covering SOA owned by `zone` (class IN) in the answer section of `msg`. With several
// (two keys or algorithms during a rollover), the one that expires last in RFC 1982 order: a
// validator needs one valid signature (RFC 4035 5.3), so that one bounds how long the answer
// validates. None when the answer carries no such RRSIG (an unsigned zone, DO not set, a server
// that drops signatures).
std::optional<RrsigTimes> soa_signature(const dns::Message& msg, std::string_view zone);

// True when the 32-bit RRSIG time `a` is later than `b` in RFC 1982 order: of several
// RRSIG(SOA), soa_signature keeps the first that expires after every one before it.
bool expires_later(uint32_t a, uint32_t b);

// RFC 4034 3.1.5: a 32-bit RRSIG time means the moment, of all those equal to it modulo 2^32,
// closest to `now` (RFC 1982 serial arithmetic around now); seconds since the epoch. Correct
// for times within 68 years of now, which every signature in use is.
int64_t rrsig_time(uint32_t wire, int64_t now);

}  // namespace soawatch
