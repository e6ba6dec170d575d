// The JSON API (/api/v1/zones, /api/v1/zones/{zone}). The schema is documented in docs/API.md;
// fields are only ever added, never renamed or removed, within v1. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/alert_engine.hpp"
#include "agent/status_store.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// One zone: name, verdict, reference serial, reasons and one entry per nameserver address.
nlohmann::json zone_to_json(const ZoneStatus& zone);

// {"generated_at": RFC 3339, "zones": [zone_to_json...]} in snapshot order (by name).
nlohmann::json snapshot_to_json(const Snapshot& snapshot);

// /api/v1/alerts: {"alerts": [{labels, annotations, state, activeAt, firingAt?, fingerprint,
// generatorURL}]}, pending and firing, in the spirit of Prometheus' /api/v1/alerts.
nlohmann::json alerts_to_json(const AlertsSnapshot& alerts);

// Serialises for an HTTP body. Strings from DNS may hold invalid UTF-8: it is replaced by
// U+FFFD instead of throwing (nlohmann::json's default).
std::string dump_json(const nlohmann::json& value);

}  // namespace soawatch
