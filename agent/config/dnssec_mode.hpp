// `dnssec:` (global and per zone) and `soawatch check --dnssec`: whether SOA probes set DO
// (RFC 3225) and read the RRSIG(SOA) each address serves. One parser for both (docs/CONFIG.md).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

enum class DnssecMode {
    // The default. DO is set on every EDNS probe: it costs no byte in the query (a flag bit in
    // the OPT record) and none in an unsigned zone's answer (measured in docs/REPLICATION.md), so
    // no probe-once-and-remember state is needed. The zone counts as signed when an answer
    // carries RRSIG(SOA); then an address that answers without one is named.
    automatic,
    // The zone must be signed: an answer without RRSIG(SOA) is a finding even when no address
    // signs. Needs EDNS (DO travels in the OPT record).
    required,
    // No DO: the answers carry no signatures (smaller answers for a signed zone).
    off,
};

struct DnssecModeInfo {
    DnssecMode mode;
    std::string_view name;  // as written in the config and on the command line
};
inline constexpr std::array<DnssecModeInfo, 3> kDnssecModes{{
    {DnssecMode::automatic, "auto"},
    {DnssecMode::required, "true"},
    {DnssecMode::off, "false"},
}};
static_assert(kDnssecModes.back().mode == DnssecMode::off, "the table covers the enum");

std::string_view dnssec_mode_name(DnssecMode mode);
// "auto", "true" or "false" (YAML's other spellings of a boolean too); none otherwise.
std::optional<DnssecMode> parse_dnssec_mode(std::string_view text);
// The message for a value parse_dnssec_mode refuses.
std::string dnssec_mode_allowed();
// Why a mode cannot be used with this EDNS size, or "": DO needs the OPT record (RFC 3225 3).
std::string dnssec_mode_problem(DnssecMode mode, unsigned edns_udp_size);

}  // namespace soawatch
