// The DNSSEC rules of the built-in alerts (SignatureExpiringSoon, SignatureExpired,
// SignatureValidityBelowExpire): one condition per address whose RRSIG(SOA) the evaluator found
// wanting (agent/signatures.hpp), with the times a person needs.
#pragma once

#include <vector>

#include "agent/alerting/alert_rules.hpp"

namespace soawatch {

// Appends the conditions of the enabled signature rules that hold for `zone`.
void signature_alerts(const ZoneStatus& zone, const AlertRuleSet& rules, Clock::time_point now,
                      std::vector<AlertCondition>& out);

}  // namespace soawatch
