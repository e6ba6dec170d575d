// RFC 1982 serial number arithmetic for 32-bit SOA serials.
#pragma once

#include <cstdint>

namespace soawatch {

enum class SerialOrder { equal, less, greater, undefined };

// RFC 1982 section 3.2: s1 < s2 when (s1 < s2 and s2 - s1 < 2^31) or (s1 > s2 and s1 - s2 > 2^31).
// When the two differ by exactly 2^31 the comparison is undefined: report it, never guess.
constexpr SerialOrder compare_serials(uint32_t s1, uint32_t s2) {
    if (s1 == s2) return SerialOrder::equal;
    const uint32_t forward = s2 - s1;  // modulo 2^32
    if (forward == 0x80000000u) return SerialOrder::undefined;
    return forward < 0x80000000u ? SerialOrder::less : SerialOrder::greater;
}

// How many increments take `from` to `to` (modulo 2^32). Meaningful when from < to.
constexpr uint32_t serial_steps(uint32_t from, uint32_t to) {
    return to - from;
}

}  // namespace soawatch
