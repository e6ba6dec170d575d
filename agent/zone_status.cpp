#include "agent/zone_status.hpp"

#include "probes/rrsig.hpp"

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

std::optional<NameserverStatus::Signature> NameserverStatus::signature() const {
    if (!rrsig || !last_success) return std::nullopt;
    // RFC 4034 3.1.5: each 32-bit time is the moment closest to when the answer came.
    const int64_t at =
        std::chrono::duration_cast<std::chrono::seconds>(last_success->time_since_epoch()).count();
    return Signature{rrsig_time(rrsig->inception, at), rrsig_time(rrsig->expiration, at),
                     rrsig->key_tag, rrsig->algorithm};
}

std::string describe_server(const NameserverStatus& s) {
    if (s.is_primary) return "primary " + s.target->address;
    if (s.target->nameserver.empty()) return s.target->address;
    return s.target->nameserver + " (" + s.target->address + ")";
}

std::string_view verdict_name(Verdict v) {
    const auto i = static_cast<std::size_t>(v);
    return i < kVerdicts.size() ? kVerdicts[i].name : "UNKNOWN";
}

}  // namespace soawatch
