// The delegation check of a zone in the JSON API (docs/API.md, "delegation"): both sides' NS
// sets, the glue, each server's answer and the findings with their names, side and addresses.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/delegation_status.hpp"
#include "agent/optional_moment.hpp"

namespace soawatch {

// null while the check is off or has not finished.
nlohmann::json delegation_to_json(const DelegationAudit* audit, OptionalTime checked_at);

}  // namespace soawatch
