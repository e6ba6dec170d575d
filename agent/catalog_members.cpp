#include "agent/catalog_members.hpp"

#include <unordered_set>

namespace soawatch {

Config with_catalog_members(const Config& config,
                            const std::map<std::string, std::vector<std::string>>& members) {
    Config out = config;
    std::unordered_set<std::string> watched;
    watched.reserve(config.zones.size());
    for (const auto& zone : config.zones) watched.insert(zone.name);
    for (const auto& catalog : config.catalogs) {
        const auto it = members.find(catalog.name);
        if (it == members.end()) continue;
        for (const std::string& name : it->second) {
            if (!watched.insert(name).second) continue;  // configured, or an earlier catalog's
            ZoneConfig zone = catalog.defaults;
            zone.name = name;
            out.zones.push_back(std::move(zone));
        }
    }
    return out;
}

}  // namespace soawatch
