// The JSON API (/api/v1/zones, /api/v1/zones/{zone}). The schema is documented in docs/API.md;
// fields are only ever added, never renamed or removed, within v1. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "agent/alerting/alert_engine.hpp"
#include "agent/status_store.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// One zone: name, verdict, reference serial, reasons and one entry per nameserver address; with
// a vantage (agent/config/vantage.hpp), "vantage" too (left out without one).
// An RFC 3339 time, or null.
nlohmann::json optional_time(const std::optional<Clock::time_point>& t);

nlohmann::json zone_to_json(const ZoneStatus& zone, std::string_view vantage = {});

// {"generated_at": RFC 3339, "vantage"?: the snapshot's, "zones": [zone_to_json...]} in
// snapshot order (by name).
nlohmann::json snapshot_to_json(const Snapshot& snapshot);

// The bytes of dump_json(snapshot_to_json(snapshot)), written zone by zone: only one zone's
// JSON tree exists at a time, not a tree of the whole snapshot next to its text.
std::string dump_snapshot_json(const Snapshot& snapshot);

// An alert's labels as one object (name: value), and its annotations {summary, description}:
// the same in /api/v1/alerts and in the receivers' payloads.
nlohmann::json labels_json(const AlertLabels& labels);
nlohmann::json annotations_json(const Alert& alert);

// /api/v1/alerts: {"alerts": [{labels, annotations, state, activeAt, firingAt?, fingerprint,
// generatorURL}]}, pending and firing, in the spirit of Prometheus' /api/v1/alerts.
nlohmann::json alerts_to_json(const AlertsSnapshot& alerts);

// Serialises for an HTTP body. Strings from DNS may hold invalid UTF-8: it is replaced by
// U+FFFD instead of throwing (nlohmann::json's default).
std::string dump_json(const nlohmann::json& value);

}  // namespace soawatch
