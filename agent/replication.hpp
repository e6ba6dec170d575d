// Replication health beyond the serial, for the Evaluator: each secondary's own refresh clock
// from its EDNS EXPIRE answer (RFC 7314), and the reference SOA's other fields and timers. A
// secondary cut off from its primary keeps serving the current serial of a zone that does not
// change, looks in sync, and stops answering when the SOA expire time runs out; its EXPIRE
// answer shows the cut from the first missed refresh on. Pure functions, no clock: time comes
// from the statuses.
#pragma once

#include <string>
#include <vector>

#include "agent/config/alert_config.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// Per address (rows already evaluated, `previous` the zone's last status or null): keeps the
// EXPIRE answer, the refresh age, when the zone would expire there and whether it has, and the
// conditions of SecondaryRefreshFailing and of the EXPIRE-based ZoneExpiryRisk.
void track_expire(const ZoneStatus* previous, ZoneStatus& zone, const AlertRuleSet& rules);

// The SOA beyond the serial: fields of the servers at the reference serial against the
// reference SOA, and the sanity rules of the reference SOA's timers (SOATimersUnsafe's limits).
void check_soa_fields(ZoneStatus& zone);
std::vector<std::string> soa_timer_problems(const dns::SoaRdata& soa,
                                            const AlertRuleSettings& limits);

// One sentence per replication finding for the verdict: near expiry (critical), refresh failing,
// SOA fields differing, unsafe timers (warnings). Rules that are disabled add nothing.
void replication_findings(const ZoneStatus& zone, const AlertRuleSet& rules,
                          std::vector<std::string>& critical, std::vector<std::string>& warning);

// The refresh age tolerated by SecondaryRefreshFailing: SOA refresh + tolerated_retries x retry.
double refresh_age_bound(const dns::SoaRdata& reference, const AlertRuleSettings& rule);

// "ns1.example. (192.0.2.1)", or the address alone, or "the primary 192.0.2.53".
std::string describe_server(const NameserverStatus& s);

}  // namespace soawatch
