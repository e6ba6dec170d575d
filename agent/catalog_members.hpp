// The zones the agent watches: the configured ones and the members of every catalog
// (zones_from_catalog), each member with its catalog's defaults. A zone written in `zones:` wins
// over a catalog member of the same name; a zone listed by two catalogs is watched once, with the
// settings of the catalog configured first. Pure, so the scheduler's reload path takes the result
// exactly like a reloaded file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/config/config.hpp"

namespace soawatch {

// `members`: catalog name -> its member zones (canonical). Catalogs of `config.catalogs` only.
Config with_catalog_members(const Config& config,
                            const std::map<std::string, std::vector<std::string>>& members);

}  // namespace soawatch
