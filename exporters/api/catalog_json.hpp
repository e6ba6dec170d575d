// GET /api/v1/catalogs: every catalog of zones_from_catalog, its member list in use and how its
// last refresh went (the reason it was rejected, when it was).
#pragma once

#include <nlohmann/json.hpp>

#include "agent/catalog_status.hpp"

namespace soawatch {

nlohmann::json catalogs_to_json(const CatalogStatusList& catalogs);

}  // namespace soawatch
