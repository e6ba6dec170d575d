#include "agent/common/base64.hpp"

#include <cstdint>

namespace soawatch {

namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int pad = 0;
        uint32_t group = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=' && last && j >= 2) {
                ++pad;
                group <<= 6;
                continue;
            }
            const int v = base64_value(c);
            if (v < 0 || pad > 0) return std::nullopt;  // '=' only at the very end
            group = (group << 6) | static_cast<uint32_t>(v);
        }
        out.push_back(static_cast<char>((group >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((group >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(group & 0xff));
    }
    return out;
}

}  // namespace soawatch
