// The one HTTP port (civetweb): /metrics, /probe, /api/v1/zones[/{zone}], /healthz, /readyz,
// /-/reload and the status page at /. Handlers run on civetweb's worker threads and only read
// snapshots or call the thread-safe hooks below.
//
// Every request passes, in this order: the per-client rate limit (429), basic auth when users
// are configured (401), the size limits (413; 431 for headers), then its route. Every response,
// civetweb's own error pages included, carries the security headers. TLS is optional (the web
// config's tls_server_config).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "agent/alerting/alert_engine.hpp"
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
    std::function<bool()> ready;                // config loaded and first round done
    std::function<ReloadResult()> reload;       // POST /-/reload
    std::function<AlertsSnapshotPtr()> alerts;  // GET /api/v1/alerts
    // GET /probe?zone=Z[&primary=IP[:PORT]]: a synchronous one-off check of one zone, rendered
    // as metrics text. Returns nullopt and sets *error (one line) for a bad request; the hook
    // itself bounds concurrency and reports "too many concurrent probes" the same way.
    std::function<std::optional<std::string>(const std::string& zone,
                                             const std::optional<Endpoint>& primary,
                                             std::string* error, int* http_status)>
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
    // A request whose line and headers have not arrived by then is answered 408.
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

    // Stops accepting and waits up to `grace` for the workers to finish their requests. False
    // when some did not (a client still sending its request): the server is then abandoned as
    // it is (its destructor lets it go without freeing it) and the caller must end the process.
    // Without stop(), the destructor waits for every worker.
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
