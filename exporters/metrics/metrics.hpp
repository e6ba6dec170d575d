// The /metrics body. Agent-level metrics that accumulate (histograms, build info, reload state)
// live in a prometheus::Registry; every per-zone series is built at scrape time from the
// Snapshot, so a zone removed from the snapshot vanishes from the next scrape. Metric names are
// the contract in docs (DESIGN.md, README): dashboards and alert rules depend on them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/status_store.hpp"
#include "agent/zone_status.hpp"
#include "exporters/metrics/prom_text.hpp"
#include "probes/observation.hpp"

namespace soawatch {

struct BuildInfo {
    std::string version;
    std::string revision;
};

// Which zones get the per-address series (soa_serial, serial_behind, serial_lag_seconds,
// nameserver_up, probe_errors_total, last_propagation_seconds).
enum class PerAddressSeries {
    all,          // every zone
    not_in_sync,  // only zones whose verdict is not OK (the per-nameserver totals cover the rest)
};

struct MetricsOptions {
    // A histogram series ({nameserver,address} or {nameserver}) that saw no observation for this
    // long is dropped, so nameservers that left every zone do not stay exported forever.
    std::chrono::seconds histogram_idle_expiry{std::chrono::hours(6)};
    PerAddressSeries per_address = PerAddressSeries::all;
    // The label vantage="NAME" on every zone and nameserver series (agent/config/vantage.hpp);
    // "": no such label.
    std::string vantage{};
};

// Thread-safe: the event loop observes while HTTP workers render.
class MetricsExporter {
  public:
    explicit MetricsExporter(const BuildInfo& build, const MetricsOptions& options = {});
    ~MetricsExporter();
    MetricsExporter(const MetricsExporter&) = delete;
    MetricsExporter& operator=(const MetricsExporter&) = delete;

    // One finished probe: soawatch_probe_duration_seconds{nameserver,address} when answered.
    void observe_probe(const SoaObservation& observation);
    // One measured propagation: soawatch_propagation_seconds{nameserver}.
    void observe_propagation(const PropagationSample& sample);
    // Result of a config (re)load: soawatch_config_last_reload_successful and, when ok,
    // soawatch_config_last_reload_success_timestamp_seconds.
    void set_reload_result(bool ok, Clock::time_point when);

    // The whole /metrics body (text format 0.0.4): agent, process and per-zone metrics.
    std::string render(const Snapshot& snapshot) const;
    // The same body written into `out`, which hands it on in pieces while it is written: at
    // 100,000 zones the body is ~200 MB, and only a piece of it is in memory at a time. The
    // caller may append more and calls out.finish(). False when out's sink stopped taking
    // pieces (the rest was not written).
    bool render(const Snapshot& snapshot, prom::StreamedText& out) const;
    // Only this zone's series (the /probe endpoint), with the label vantage="NAME" when given.
    static std::string render_zone(const ZoneStatus& zone, std::string_view vantage = {});

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace soawatch
