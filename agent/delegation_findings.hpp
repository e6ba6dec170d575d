// The delegation check's findings (pure): from the answers of the parent's servers and the
// zone's own (a DelegationAudit with its observations filled in), the parent's and the zone's NS
// sets and the problems between them, one DelegationFinding each (docs/REPLICATION.md,
// "Delegation"). And the findings in a zone's verdict and reasons.
#pragma once

#include <string>

#include "agent/delegation_status.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// Whether `name` is `zone` or below it: an in-zone (in-bailiwick) NS name, whose addresses the
// zone itself serves and the parent must carry as glue (RFC 1034 4.2.1, RFC 9471).
bool is_in_zone(const std::string& name, const std::string& zone);

// Sets parent_ns, parent_glue, child_ns and findings of `audit` from its observations and
// unresolved names. `zone` is canonical.
void find_delegation_problems(DelegationAudit& audit, const std::string& zone);

// Adds a reason per finding of the zone's delegation check, and makes an OK zone a WARNING.
// Call after apply_transfer_findings (which resets the reasons to the evaluator's own).
void apply_delegation_findings(ZoneStatus& status);

}  // namespace soawatch
