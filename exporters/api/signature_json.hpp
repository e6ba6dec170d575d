// The DNSSEC part of the JSON API (docs/API.md): per address the RRSIG(SOA) it serves and the
// findings on it, per zone its dnssec setting and signed state.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/zone_status.hpp"

namespace soawatch {

// {"asked", "rrsig": {inception, expiration (RFC 3339), *_unix, key_tag, algorithm} or null,
//  "expired", "expiring", "below_expire", "older", "missing"}
nlohmann::json server_signature_json(const NameserverStatus& s);
// {"mode": "auto"|"true"|"false", "signed", "newest_expiration": RFC 3339 or null,
//  "older_signatures": [addresses serving an RRSIG(SOA) that expires before the newest]}
nlohmann::json zone_signature_json(const ZoneStatus& z);

}  // namespace soawatch
