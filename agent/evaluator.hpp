// The Evaluator: a pure function from (previous ZoneStatus, this round's observations) to the new
// ZoneStatus. No I/O, no clock: time comes from the observations, so tests replay rounds exactly.
#pragma once

#include "agent/zone_check.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// Without a hidden primary, the reference moves back to an older serial only when every
// nameserver address (none unusable) has answered that same older serial for this many rounds
// in a row: a deliberate rollback (a zone restored from an older copy), not a server that
// dropped a probe.
inline constexpr unsigned kReferenceRollbackRounds = 3;

// How the verdict weighs lost redundancy (global.min_usable_nameservers and its severity).
struct VerdictPolicy {
    unsigned min_usable_nameservers = 2;
    bool below_min_usable_is_critical = true;  // false: WARNING
};
VerdictPolicy verdict_policy(const GlobalConfig& global);

// `previous` may be null (first round). The rules, also in the README:
// - reference: the hidden primary's serial when configured (its last known serial while it is
//   unreachable), else the newest serial (RFC 1982) seen: kept across rounds in which the
//   servers that have it are unusable, moved forward by any newer serial, and moved back only
//   by a deliberate rollback (kReferenceRollbackRounds above);
// - each address: in_sync, behind by N steps, ahead, incomparable (RFC 1982 undefined) or
//   unusable with its error kind; lag = time since it first lacked the reference;
// - propagation: when the reference moves, each address that did not yet have the new serial is
//   timed from the serial's first sighting (or the NOTIFY that announced it) to its arrival;
// - verdict: CRITICAL when a configured primary is unusable or no nameserver is usable; below
//   policy.min_usable_nameservers NS names with a usable address, CRITICAL or WARNING as the
//   policy says; WARNING when any address is behind, ahead, incomparable or unusable, or an NS
//   name has no address; UNKNOWN when no nameserver address is known, unless a CRITICAL reason
//   holds (an unusable primary is CRITICAL whether the NS set was found or not); OK otherwise.
ZoneStatus evaluate(const ZoneStatus* previous, const ZoneCheckResult& result,
                    const VerdictPolicy& policy = {});

}  // namespace soawatch
