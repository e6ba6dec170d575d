#include "probes/rrsig.hpp"

namespace soawatch {

bool expires_later(uint32_t a, uint32_t b) {
    // RFC 1982 3.2 on 32-bit values: a is later than b when the step from b to a is below 2^31.
    const uint32_t forward = a - b;
    return forward != 0 && forward < 0x80000000u;
}

std::optional<RrsigTimes> soa_signature(const dns::Message& msg, std::string_view zone) {
    std::optional<RrsigTimes> best;
    for (const auto& rr : msg.answers) {
        if (rr.type != dns::rrtype::RRSIG || rr.rclass != dns::class_IN || !rr.rrsig ||
            rr.rrsig->type_covered != dns::rrtype::SOA || !dns::names_equal(rr.owner, zone))
            continue;
        const auto& sig = *rr.rrsig;
        if (best && !expires_later(sig.expiration, best->expiration)) continue;
        best = RrsigTimes{sig.inception, sig.expiration, sig.key_tag, sig.algorithm};
    }
    return best;
}

int64_t rrsig_time(uint32_t wire, int64_t now) {
    // The signed 32-bit distance from now, modulo 2^32: within +-2^31 seconds of now.
    const auto distance = static_cast<int32_t>(wire - static_cast<uint32_t>(now));
    return now + distance;
}

}  // namespace soawatch
