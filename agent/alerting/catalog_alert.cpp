#include "agent/alerting/catalog_alert.hpp"

namespace soawatch {

std::vector<AlertCondition> evaluate_catalog_rules(const CatalogStatus& catalog,
                                                   const AlertRuleSet& rules) {
    std::vector<AlertCondition> out;
    if (!rules[AlertRule::catalog_unavailable].enabled || !catalog.refreshed || catalog.up)
        return out;
    AlertCondition c;
    c.rule = AlertRule::catalog_unavailable;
    c.summary = "catalog " + catalog.catalog + " cannot be refreshed from " + catalog.primary;
    c.description = "The catalog zone " + catalog.catalog + " could not be refreshed from " +
                    catalog.primary + ": " + catalog.error + ". soawatch keeps watching its " +
                    "last good member list (" + std::to_string(catalog.members.size()) + " zones" +
                    (catalog.serial ? ", serial " + std::to_string(*catalog.serial) : "") +
                    "): zones added to or removed from the catalog since are not followed.";
    out.push_back(std::move(c));
    return out;
}

}  // namespace soawatch
