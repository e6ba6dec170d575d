// The built-in alert rules as a pure function of one zone's status: which conditions hold now,
// each with the words a person needs (summary, description with serials and lag). Whether a
// condition has held long enough to fire is the AlertEngine's business, not this file's.
#pragma once

#include <string>
#include <vector>

#include "agent/config/alert_config.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

struct AlertCondition {
    AlertRule rule = AlertRule::zone_serial_mismatch;
    // Empty for the zone-wide rules (ZoneSerialMismatch); otherwise the NS name (or the address
    // where there is none, as in the metrics) and the address.
    std::string nameserver;
    std::string address;
    std::string nsid;         // AnycastInstanceBehind: the lagging instance (as metrics show it)
    std::string summary;      // one line
    std::string description;  // plain sentences: serials, lag, what it means
};

// The conditions of every enabled rule that hold for `zone` at `now` (normally its last check).
// A condition of `rule`, labelled with the nameserver and address of `s` (none when null); the
// texts are the caller's.
AlertCondition alert_condition(AlertRule rule, const NameserverStatus* s);

std::vector<AlertCondition> evaluate_alert_rules(const ZoneStatus& zone, const AlertRuleSet& rules,
                                                 Clock::time_point now);

}  // namespace soawatch
