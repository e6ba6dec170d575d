// Big-endian octets for tests that build DNS records by hand (RFC 1035 2.3.2: network order).
#pragma once

#include <cstdint>
#include <vector>

namespace soawatch::test {

using Bytes = std::vector<uint8_t>;

inline void u16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void u32(Bytes& b, uint32_t v) {
    u16(b, static_cast<uint16_t>(v >> 16));
    u16(b, static_cast<uint16_t>(v));
}
inline void append(Bytes& b, const Bytes& more) {
    b.insert(b.end(), more.begin(), more.end());
}

}  // namespace soawatch::test
