// DNSSEC signature freshness per address, for the Evaluator: the RRSIG(SOA) each address serves
// (RFC 4034 3), held against the clock, the zone's other addresses and the zone's expire time.
// A secondary cut off from its signing primary keeps serving the last signatures it got; they
// run out before the zone expires when their validity is shorter than the SOA expire, and from
// then on validating resolvers reject (SERVFAIL) what it answers, though it looks in sync.
// Pure functions, no clock: time comes from the caller.
#pragma once

#include <string>
#include <vector>

#include "agent/config/alert_config.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// Per address (rows already evaluated, EXPIRE tracked): the zone's signed state and newest
// expiration, and each row's findings against `now`: expired, expiring within
// SignatureExpiringSoon.min_validity, validity left below the zone's expire there (its EDNS
// EXPIRE answer, else the reference SOA expire; secondaries only), older than the newest, and
// missing (a usable answer without RRSIG(SOA) while the zone is signed or dnssec is true; not
// for the hidden primary, which may feed an inline signer unsigned).
void track_signatures(ZoneStatus& zone, DnssecMode mode, const AlertRuleSet& rules,
                      Clock::time_point now);

// One sentence per finding for the verdict: an expired signature is critical; expiring, below
// expire, older (at a serial other than the reference's) and missing are warnings. Disabled
// rules add nothing (older and missing belong to no rule and always count).
void signature_findings(const ZoneStatus& zone, const AlertRuleSet& rules, Clock::time_point now,
                        std::vector<std::string>& critical, std::vector<std::string>& warning);

// The worst of a row's signature findings in a few words, for the status page ("RRSIG(SOA) older
// than the newest: expires 2027-01-25T08:00:00Z"); "" when there is none.
std::string signature_problem(const NameserverStatus& s);

// Seconds of validity left at `now` (negative once expired).
double signature_validity_left(const NameserverStatus::Signature& sig, Clock::time_point now);
// The bound SignatureValidityBelowExpire holds a row's validity to: its EDNS EXPIRE answer
// where it gave one, else the reference SOA expire; none for the primary or without either.
std::optional<double> signature_expire_bound(const ZoneStatus& zone, const NameserverStatus& s);

// An RRSIG time (seconds since the epoch, already read against the answer's time) in RFC 3339.
std::string rrsig_time_text(int64_t unix);

}  // namespace soawatch
