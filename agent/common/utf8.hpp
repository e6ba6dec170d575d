// UTF-8 well-formedness, shared by the log writer and the Prometheus text exporter: both pass
// well-formed sequences through and replace or escape the other bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace soawatch {

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode 15, table 3-7; RFC 3629:
// no overlong forms, no surrogates, nothing past U+10FFFF), 1 for an ASCII byte, or 0 when the
// bytes there are not one. Requires i < s.size().
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k, unsigned char lo, unsigned char hi) {
        return k < s.size() && byte(k) >= lo && byte(k) <= hi;
    };
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1, 0x80, 0xBF) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
        const unsigned char hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
        return left >= 3 && cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;  // nothing past U+10FFFF
        return left >= 4 && cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) &&
                       cont(i + 3, 0x80, 0xBF)
                   ? 4
                   : 0;
    }
    return 0;
}

}  // namespace soawatch
