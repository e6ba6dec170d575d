// What the agent knows of one catalog zone (zones_from_catalog): the member list in use and how
// the last refresh went. Made on the loop thread by the CatalogWatcher, read as immutable
// snapshots by the metrics, the API and the alert rule (CatalogUnavailable).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probes/observation.hpp"

namespace soawatch {

struct CatalogStatus {
    std::string catalog;  // canonical name
    std::string primary;  // IP:PORT it is transferred from
    // The last refresh (SOA check, and transfer when the serial moved) succeeded and the catalog
    // it brought was valid. False before the first one ends, and after any failure.
    bool up = false;
    bool refreshed = false;  // a refresh has ended (up or not) since the catalog was configured
    // The serial of the member list in use (the last good catalog); absent before the first.
    std::optional<uint32_t> serial;
    std::vector<std::string> members;               // the member list in use: canonical, sorted
    std::optional<Clock::time_point> last_success;  // the last refresh that ended up
    std::optional<Clock::time_point> last_attempt;
    std::string error;          // the last failure, for people (empty while up)
    std::string last_transfer;  // "axfr", "ixfr", "up_to_date" (IXFR), "" none yet
    uint64_t transfers = 0;     // transfers that ended with a valid catalog
    uint64_t failures = 0;      // refreshes that failed (SOA, transfer or a broken catalog)
};

using CatalogStatusList = std::vector<CatalogStatus>;
using CatalogStatusListPtr = std::shared_ptr<const CatalogStatusList>;

}  // namespace soawatch
