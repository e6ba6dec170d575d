// The one HTTP port (GNU libmicrohttpd): /metrics, /probe, /api/v1/zones[/{zone}], /healthz,
// /readyz, /-/reload and the status page at /. Handlers run on libmicrohttpd's event threads
// and only read snapshots or call the thread-safe hooks below; what waits (a /probe's DNS check,
// a /metrics body being written) runs on a thread of its own while the connection is suspended,
// so no client, slow or probing, holds an event thread.
//
// Every request passes, in this order, before any byte of a body is read: the per-client rate
// limit (429), basic auth when users are configured (401), the size limits (431 for the request
// line and headers, 413 for a body), then its route. Every response we make carries the
// security headers. TLS is optional (the web config's tls_server_config, served through
// GnuTLS).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "agent/alerting/alert_engine.hpp"
#include "agent/catalog_status.hpp"
#include "agent/config/endpoint.hpp"
#include "agent/status_store.hpp"
#include "exporters/http/web_config.hpp"
#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

struct ReloadResult {
    bool ok = false;
    std::string error;  // "file:line: key: message" when !ok
};

// What the HTTP server needs from the agent. Every hook must be safe to call from any thread.
struct HttpHooks {
    std::function<SnapshotPtr()> snapshot;
    // Writes the /metrics body (text format 0.0.4) into `out`, which sends it in pieces while it
    // is written (chunked): at 100,000 zones the body is ~200 MB and never in memory whole.
    // Stops early when out.flush_if_full() returns false (the client is gone).
    std::function<void(prom::StreamedText& out)> write_metrics;
    std::function<bool()> ready;                     // config loaded and first round done
    std::function<ReloadResult()> reload;            // POST /-/reload
    std::function<AlertsSnapshotPtr()> alerts;       // GET /api/v1/alerts
    std::function<CatalogStatusListPtr()> catalogs;  // GET /api/v1/catalogs
    // GET /probe?zone=Z[&primary=IP[:PORT]]: a synchronous one-off check of one zone, rendered
    // as metrics text; called on a background thread. `deadline` (0: none given) is how long the
    // client waits, from Prometheus' X-Prometheus-Scrape-Timeout-Seconds less an offset. Returns
    // nullopt and sets *error (one line) for a bad request; the hook itself bounds concurrency
    // and reports "too many concurrent probes" the same way.
    std::function<std::optional<std::string>(
        const std::string& zone, const std::optional<Endpoint>& primary,
        std::chrono::milliseconds deadline, std::string* error, int* http_status)>
        probe;
};

struct HttpServerOptions {
    HttpServerOptions() = default;
    // Not an aggregate, so {listen, threads} leaves the rest at their defaults without warnings.
    HttpServerOptions(Endpoint listen_on, unsigned worker_threads)
        : listen(std::move(listen_on)), threads(worker_threads) {}

    Endpoint listen;  // address "" = all; port 0 = pick a free one (read back with port())
    unsigned threads = 4;
    bool enable_lifecycle = false;  // POST /-/reload answers 403 unless set
    // A connection idle this long (a request that does not arrive, a client that stops
    // reading) is closed; whole seconds, at least one.
    std::chrono::milliseconds request_timeout{15000};
    WebConfig web;  // TLS, basic auth users, extra headers, rate limit
};

class HttpServer {
  public:
    // Starts listening; throws std::runtime_error with a one-line reason when it cannot bind.
    HttpServer(const HttpServerOptions& options, HttpHooks hooks);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const;  // the bound port (useful with port 0)
    bool tls() const;

    // Stops accepting, ends every connection and waits up to `grace` for the background threads
    // (a /probe's check, a /metrics body). False when some did not end: the server is then
    // abandoned as it is (its destructor lets it go without freeing it) and the caller must end
    // the process. Without stop(), the destructor waits for every thread.
    bool stop(std::chrono::milliseconds grace);

    // Applies a reloaded web config's users, headers and rate limit to the running server.
    // TLS settings need a restart: when they differ, false is returned and *why says so (the
    // rest is applied all the same). Thread-safe.
    bool update_web_config(const WebConfig& web, std::string* why);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace soawatch
