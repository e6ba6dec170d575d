#include "probes/nsid.hpp"

#include <algorithm>

namespace soawatch {

bool nsid_is_text(std::string_view octets) {
    return !octets.empty() && std::all_of(octets.begin(), octets.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u <= 0x7e;
    });
}

std::string nsid_hex(std::string_view octets) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(octets.size() * 2);
    for (const char c : octets) {
        const auto u = static_cast<unsigned char>(c);
        out += digits[u >> 4];
        out += digits[u & 0x0f];
    }
    return out;
}

std::string nsid_display(std::string_view octets) {
    return nsid_is_text(octets) ? std::string(octets) : nsid_hex(octets);
}

}  // namespace soawatch
