// The soawatch_catalog_* families of /metrics, from the CatalogWatcher's snapshot: one series per
// catalog of zones_from_catalog (docs/CATALOG.md).
#pragma once

#include <string>

#include "agent/catalog_status.hpp"

namespace soawatch {

// Appends the families (nothing when no catalog is configured).
void append_catalog_metrics(std::string& out, const CatalogStatusList& catalogs);

}  // namespace soawatch
