#include "agent/zone_status.hpp"

namespace soawatch {

static_assert(
    [] {
        for (std::size_t i = 0; i < kServerStates.size(); ++i)
            if (static_cast<std::size_t>(kServerStates[i].state) != i) return false;
        for (std::size_t i = 0; i < kVerdicts.size(); ++i)
            if (static_cast<std::size_t>(kVerdicts[i].verdict) != i) return false;
        return true;
    }(),
    "each table is in enum order");

std::string_view server_state_name(ServerState s) {
    const auto i = static_cast<std::size_t>(s);
    return i < kServerStates.size() ? kServerStates[i].name : "unknown";
}

std::string describe_server(const NameserverStatus& s) {
    if (s.is_primary) return "primary " + s.target.address;
    if (s.target.nameserver.empty()) return s.target.address;
    return s.target.nameserver + " (" + s.target.address + ")";
}

std::string_view verdict_name(Verdict v) {
    const auto i = static_cast<std::size_t>(v);
    return i < kVerdicts.size() ? kVerdicts[i].name : "UNKNOWN";
}

}  // namespace soawatch
