#include "exporters/metrics/catalog_metrics.hpp"

#include <chrono>
#include <cstdint>

#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

void append_catalog_metrics(std::string& out, const CatalogStatusList& catalogs) {
    if (catalogs.empty()) return;
    prom::LabelSet labels;
    // One family: its header, then a sample per catalog where `value` gives one.
    const auto family = [&](std::string_view name, std::string_view help, std::string_view type,
                            auto value) {
        prom::append_family_header(out, name, help, type);
        for (const CatalogStatus& c : catalogs) {
            labels.clear();
            labels.add("catalog", c.catalog);
            value(name, c);
        }
    };
    family("soawatch_catalog_up",
           "1 when the catalog's last refresh (SOA check, transfer when its serial moved) "
           "succeeded with a valid catalog (RFC 9432); 0 while its last good member list is used.",
           "gauge", [&](std::string_view name, const CatalogStatus& c) {
               prom::append_sample(out, name, labels, uint64_t{c.up ? 1u : 0u});
           });
    family("soawatch_catalog_members", "Member zones of the catalog's member list in use.", "gauge",
           [&](std::string_view name, const CatalogStatus& c) {
               prom::append_sample(out, name, labels, uint64_t{c.members.size()});
           });
    family("soawatch_catalog_serial", "SOA serial of the catalog's member list in use.", "gauge",
           [&](std::string_view name, const CatalogStatus& c) {
               if (c.serial) prom::append_sample(out, name, labels, uint64_t{*c.serial});
           });
    family("soawatch_catalog_last_success_timestamp_seconds",
           "When the catalog was last refreshed successfully (Unix time).", "gauge",
           [&](std::string_view name, const CatalogStatus& c) {
               if (!c.last_success) return;
               const double t =
                   std::chrono::duration<double>(c.last_success->time_since_epoch()).count();
               prom::append_sample(out, name, labels, t);
           });
    family("soawatch_catalog_transfers_total",
           "Transfers of the catalog that brought a valid catalog.", "counter",
           [&](std::string_view name, const CatalogStatus& c) {
               prom::append_sample(out, name, labels, c.transfers);
           });
    family("soawatch_catalog_failures_total",
           "Refreshes of the catalog that failed (SOA query, transfer, or a catalog rejected "
           "as broken).",
           "counter", [&](std::string_view name, const CatalogStatus& c) {
               prom::append_sample(out, name, labels, c.failures);
           });
}

}  // namespace soawatch
