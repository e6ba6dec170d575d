// CatalogUnavailable as a pure function of one catalog's status: the catalog could not be
// refreshed (SOA query, transfer, or a catalog broken per RFC 9432), so its member list is the
// last good one and may be stale.
#pragma once

#include <vector>

#include "agent/alerting/alert_rules.hpp"
#include "agent/catalog_status.hpp"
#include "agent/config/alert_config.hpp"

namespace soawatch {

std::vector<AlertCondition> evaluate_catalog_rules(const CatalogStatus& catalog,
                                                   const AlertRuleSet& rules);

}  // namespace soawatch
