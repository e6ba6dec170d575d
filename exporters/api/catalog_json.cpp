#include "exporters/api/catalog_json.hpp"

#include "agent/common/text_util.hpp"
#include "exporters/api/api_json.hpp"

namespace soawatch {

namespace {

using nlohmann::json;

}  // namespace

json catalogs_to_json(const CatalogStatusList& catalogs) {
    json list = json::array();
    for (const CatalogStatus& c : catalogs) {
        list.push_back({
            {"catalog", c.catalog},
            {"primary", c.primary},
            {"up", c.up},
            {"serial", c.serial ? json(*c.serial) : json(nullptr)},
            {"members", c.members},
            {"member_count", c.members.size()},
            {"error", c.error.empty() ? json(nullptr) : json(c.error)},
            {"last_success", optional_time(c.last_success)},
            {"last_attempt", optional_time(c.last_attempt)},
            {"last_transfer", c.last_transfer.empty() ? json(nullptr) : json(c.last_transfer)},
            {"transfers", c.transfers},
            {"failures", c.failures},
        });
    }
    return json{{"catalogs", std::move(list)}};
}

}  // namespace soawatch
