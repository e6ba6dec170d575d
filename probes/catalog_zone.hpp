// A catalog zone (RFC 9432) read from its records: the member zones it lists, or the reason it
// is broken. Pure: the records of one transfer in, members out. A broken catalog must not be
// processed at all (RFC 9432 4, 4.1, 4.2.1): the caller keeps the last good member list.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"

namespace soawatch {

// The schema version this reader understands (RFC 9432 4.2.1: version.CATALOG TXT "2").
inline constexpr std::string_view kCatalogSchemaVersion = "2";

struct CatalogMembers {
    uint32_t serial = 0;   // the catalog's SOA serial
    uint32_t refresh = 0;  // its SOA refresh: how often the catalog is checked
    // Member zone names, canonical (lower case, trailing dot), sorted, each once.
    std::vector<std::string> zones;
    // Members listed again under another unique ID: ignored, as RFC 9432 4.1 asks ("the new
    // instance of the zone MUST be ignored"), and named here for the log.
    std::vector<std::string> duplicates;
};

struct CatalogParse {
    std::optional<CatalogMembers> members;  // set when the catalog is valid
    std::string error;                      // why it is broken, for people (log, API)
    bool ok() const { return members.has_value(); }
};

// Reads the catalog `catalog` (canonical name) from `records`: every record of one full
// transfer, the leading and trailing SOA included or not. Checks, first failure wins: the apex
// SOA; every record of class IN (RFC 9432 4); exactly one TXT at version.CATALOG holding "2"
// (4.2.1, other versions are named in the error); members as one PTR each at
// <unique-id>.zones.CATALOG (4.1: more than one PTR there is broken); a PTR deeper under zones.
// is only allowed as a member property (coo, 4.3.1, one record) or under ext (4.4); group (4.3.2)
// and other properties are ignored. Never throws except std::bad_alloc.
CatalogParse parse_catalog(std::string_view catalog, std::span<const dns::ResourceRecord> records);

}  // namespace soawatch
