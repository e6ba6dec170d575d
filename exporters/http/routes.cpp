#include "exporters/http/routes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <utility>

#include "agent/config/endpoint.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/catalog_json.hpp"
#include "exporters/api/page_query.hpp"
#include "exporters/api/status_page.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch {

namespace {

constexpr std::string_view kLifecycleDisabled =
    "lifecycle API is not enabled (start with --web.enable-lifecycle)";
constexpr std::string_view kZonesPath = "/api/v1/zones";
constexpr std::string_view kZonePrefix = "/api/v1/zones/";  // then the zone name
constexpr std::string_view kAlertsPath = "/api/v1/alerts";
constexpr std::string_view kCatalogsPath = "/api/v1/catalogs";

// Prometheus sends its scrape timeout; the probe answers this much earlier, as
// blackbox_exporter's default --timeout-offset does, so the answer arrives in time.
constexpr std::chrono::milliseconds kScrapeTimeoutOffset{500};

// The probe's own deadline from Prometheus' X-Prometheus-Scrape-Timeout-Seconds, less the
// offset; zero when the header is absent (the agent's own budget applies). False when the
// header is not a positive number of seconds.
bool scrape_deadline(const Request& request, std::chrono::milliseconds* deadline) {
    *deadline = std::chrono::milliseconds(0);
    const char* value = request.header("X-Prometheus-Scrape-Timeout-Seconds");
    if (value == nullptr) return true;
    char* end = nullptr;
    const double seconds = std::strtod(value, &end);
    if (end == value || *end != 0 || !std::isfinite(seconds) || seconds <= 0 || seconds > 1e6)
        return false;
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    // Too short for the offset: the whole timeout, as blackbox_exporter does.
    *deadline = timeout > kScrapeTimeoutOffset * 2 ? timeout - kScrapeTimeoutOffset : timeout;
    return true;
}

}  // namespace

// GET /probe: the query checked here, the check itself waited for on a background thread.
Response Routes::probe(const Request& request) const {
    if (!hooks.probe) return text(501, "probing is not available");
    bool too_long = false;
    const auto zone_param = request.query("zone", &too_long);
    const auto primary_param = request.query("primary", &too_long);
    if (too_long) return text(400, "query parameter too long");
    if (!zone_param || zone_param->empty()) return text(400, "missing query parameter: zone");
    std::optional<Endpoint> primary;
    if (primary_param) {
        std::string error;
        primary = parse_endpoint(*primary_param, 53, &error);
        if (!primary) return text(400, "invalid primary: " + error);
    }
    std::chrono::milliseconds deadline{0};
    if (!scrape_deadline(request, &deadline))
        return text(400, "invalid X-Prometheus-Scrape-Timeout-Seconds");
    return later([probe = hooks.probe, zone = *zone_param, primary, deadline] {
        std::string error;
        int status = 400;
        auto body = probe(zone, primary, deadline, &error, &status);
        if (!body) {
            if (status < 400 || status > 599) status = 400;
            return text(status, error.empty() ? "probe failed" : error);
        }
        return Response{200, kMetricsType, std::move(*body), {}};
    });
}

Response Routes::route(const Request& request) const {
    const std::string_view method = request.method;
    const std::string_view path = request.path;
    const bool get = method == "GET" || method == "HEAD";

    if (path == "/-/reload") {
        if (method != "POST") return method_not_allowed("POST");
        if (!enable_lifecycle) return text(403, std::string(kLifecycleDisabled));
        return later([this] { return reload(); });
    }

    // Every other route is read-only. The method is checked before the handler runs: a
    // POST /probe is refused without running a DNS check first.
    const std::function<Response()> handler = read_only_handler(request, path);
    if (!handler) return text(404, "not found");
    if (!get) return method_not_allowed("GET, HEAD");
    return handler();
}

// The handler of a read-only path; empty when no route has that path.
std::function<Response()> Routes::read_only_handler(const Request& request,
                                                    std::string_view path) const {
    if (path == "/") {
        return [this, query = std::string(request.raw_query())] {
            return later([this, query] { return status_page(query); });
        };
    }
    if (path == kStatusPageCssPath)
        return [] { return Response{200, kCssType, std::string(kStatusPageCss), {}}; };
    if (path == "/metrics") return [this] { return metrics(); };
    if (path == "/probe") return [this, &request] { return probe(request); };
    if (path == "/healthz") return [] { return text(200, "ok"); };
    if (path == "/readyz") {
        return [this] {
            return hooks.ready && hooks.ready() ? text(200, "ready") : text(503, "not ready");
        };
    }
    if (path == kAlertsPath) return [this] { return later([this] { return alerts(); }); };
    if (path == kCatalogsPath) return [this] { return later([this] { return catalogs(); }); };
    if (path == kZonesPath || path == kZonePrefix)
        return [this] { return later([this] { return zones(); }); };
    if (path.starts_with(kZonePrefix)) {
        return [this, name = std::string(path.substr(kZonePrefix.size()))] {
            return later([this, name] { return zone(name); });
        };
    }
    return nullptr;
}

SnapshotPtr Routes::snapshot() const {
    if (!hooks.snapshot) return nullptr;
    return hooks.snapshot();
}

// `query_string`: the page's query string as sent (filters, paging).
Response Routes::status_page(const std::string& query_string) const {
    const SnapshotPtr snap = snapshot();
    if (!snap) return text(503, "no status yet");
    const AlertsSnapshotPtr alerts = hooks.alerts ? hooks.alerts() : nullptr;
    const PageQuery query = parse_page_query(query_string);
    return Response{200, kHtmlType, render_status_page(*snap, alerts.get(), query), {}};
}

Response Routes::metrics() const {
    if (!hooks.write_metrics) return text(503, "metrics not available");
    Response r{200, kMetricsType, {}, {}};
    r.writer = hooks.write_metrics;
    return r;
}

Response Routes::zones() const {
    const SnapshotPtr snap = snapshot();
    if (!snap) return json_error(503, "no status yet");
    std::string body = dump_snapshot_json(*snap);
    body += '\n';
    return Response{200, kJsonType, std::move(body), {}};
}

Response Routes::alerts() const {
    const AlertsSnapshotPtr snap = hooks.alerts ? hooks.alerts() : nullptr;
    if (!snap) return Response{200, kJsonType, "{\"alerts\":[]}\n", {}};
    return Response{200, kJsonType, dump_json(alerts_to_json(*snap)) + "\n", {}};
}

Response Routes::catalogs() const {
    const CatalogStatusListPtr snap = hooks.catalogs ? hooks.catalogs() : nullptr;
    if (!snap) return Response{200, kJsonType, "{\"catalogs\":[]}\n", {}};
    return Response{200, kJsonType, dump_json(catalogs_to_json(*snap)) + "\n", {}};
}

Response Routes::zone(std::string_view name) const {
    const SnapshotPtr snap = snapshot();
    if (!snap) return json_error(503, "no status yet");
    // "/api/v1/zones/Example.TEST" -> "example.test."; "<b>.test" -> "\<b\>.test." (the
    // form the zone is stored in). Names are asked for in their plain spelling and escaped
    // here.
    const std::string wanted = dns::canonical_name(name);
    // The snapshot is sorted by zone name.
    const auto it = std::lower_bound(
        snap->zones.begin(), snap->zones.end(), wanted,
        [](const ZoneStatusPtr& z, const std::string& n) { return z && z->zone < n; });
    if (it == snap->zones.end() || !*it || (*it)->zone != wanted)
        return json_error(404, "zone not watched: " + wanted);
    return Response{200, kJsonType, dump_json(zone_to_json(**it, snap->vantage)) + "\n", {}};
}

Response Routes::reload() const {
    if (!hooks.reload) return text(501, "reload is not available");
    const ReloadResult result = hooks.reload();
    if (!result.ok) return text(500, result.error.empty() ? "reload failed" : result.error);
    return text(200, "ok");
}

}  // namespace soawatch
