#include "agent/config/dnssec_mode.hpp"

namespace soawatch {

std::string_view dnssec_mode_name(DnssecMode mode) {
    return kDnssecModes[static_cast<std::size_t>(mode)].name;
}

std::optional<DnssecMode> parse_dnssec_mode(std::string_view text) {
    // YAML 1.2 core schema booleans (what yaml-cpp reads as true and false), and auto.
    for (const std::string_view t : {"true", "True", "TRUE", "yes", "on"})
        if (text == t) return DnssecMode::required;
    for (const std::string_view f : {"false", "False", "FALSE", "no", "off"})
        if (text == f) return DnssecMode::off;
    if (text == "auto") return DnssecMode::automatic;
    return std::nullopt;
}

std::string dnssec_mode_allowed() {
    return "allowed auto, true or false";
}

std::string dnssec_mode_problem(DnssecMode mode, unsigned edns_udp_size) {
    if (mode != DnssecMode::required || edns_udp_size > 0) return "";
    return "true needs EDNS (edns_udp_size 0 sends no OPT record, and DO travels in it: "
           "RFC 3225 3)";
}

}  // namespace soawatch
