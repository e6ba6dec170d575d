#include "probes/nsid.hpp"

#include <algorithm>
#include <array>

namespace soawatch {

SharedNsid SharedNsid::of(std::string_view octets) {
    SharedNsid nsid;
    if (octets.empty()) return nsid;
    // Each event loop thread probes its own zones: a per-thread handful needs no lock.
    thread_local std::array<std::shared_ptr<const std::string>, 8> recent;
    thread_local std::size_t next = 0;
    for (const auto& known : recent) {
        if (known && *known == octets) {
            nsid.octets_ = known;
            return nsid;
        }
    }
    nsid.octets_ = std::make_shared<const std::string>(octets);
    recent[next] = nsid.octets_;
    next = (next + 1) % recent.size();
    return nsid;
}

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
