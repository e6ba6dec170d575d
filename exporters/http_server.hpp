// The one HTTP port (civetweb): /metrics, /probe, /api/v1/zones[/{zone}], /healthz, /readyz,
// /-/reload and the status page at /. Handlers run on civetweb's worker threads and only read
// snapshots or call the thread-safe hooks below.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/endpoint.hpp"
#include "agent/status_store.hpp"

namespace soawatch {

struct ReloadResult {
    bool ok = false;
    std::string error;  // "file:line: key: message" when !ok
};

// What the HTTP server needs from the agent. Every hook must be safe to call from any thread.
struct HttpHooks {
    std::function<SnapshotPtr()> snapshot;
    std::function<std::string()> render_metrics;  // the whole /metrics body, text format 0.0.4
    // The same body in pieces, sent in order without joining them (a large body would need its
    // size in memory twice). Used instead of render_metrics when set.
    std::function<std::vector<std::string>()> render_metrics_parts;
    std::function<bool()> ready;           // config loaded and first round done
    std::function<ReloadResult()> reload;  // POST /-/reload
    // GET /probe?zone=Z[&primary=IP[:PORT]]: a synchronous one-off check of one zone, rendered
    // as metrics text. Returns nullopt and sets *error (one line) for a bad request; the hook
    // itself bounds concurrency and reports "too many concurrent probes" the same way.
    std::function<std::optional<std::string>(const std::string& zone,
                                             const std::optional<Endpoint>& primary,
                                             std::string* error, int* http_status)>
        probe;
};

struct HttpServerOptions {
    Endpoint listen;  // address "" = all; port 0 = pick a free one (read back with port())
    unsigned threads = 4;
};

class HttpServer {
  public:
    // Starts listening; throws std::runtime_error with a one-line reason when it cannot bind.
    HttpServer(HttpServerOptions options, HttpHooks hooks);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const;  // the bound port (useful with port 0)

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace soawatch
