// The routes of the HTTP port: which path answers what (/metrics, /probe, the API, the status
// page, /healthz, /readyz, /-/reload), from the agent's hooks. The server (http_server.cpp)
// admits a request (rate limit, basic auth, size limits) before it reaches a route, and sends
// what the route answers with the security headers.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "exporters/http/http_request.hpp"
#include "exporters/http/http_response.hpp"
#include "exporters/http/http_server.hpp"

namespace soawatch {

class Routes {
  public:
    // `hooks` must outlive the routes (the server owns both).
    Routes(const HttpHooks& hooks, bool enable_lifecycle)
        : hooks(hooks), enable_lifecycle(enable_lifecycle) {}

    // The answer to an admitted request; work that waits (a /probe, a reload, the page, the
    // API) comes back deferred, to be made on a background thread.
    Response route(const Request& request) const;

  private:
    std::function<Response()> read_only_handler(const Request& request,
                                                std::string_view path) const;
    Response probe(const Request& request) const;
    SnapshotPtr snapshot() const;
    Response status_page(const std::string& query_string) const;
    Response metrics() const;
    Response zones() const;
    Response alerts() const;
    Response catalogs() const;
    Response zone(std::string_view name) const;
    Response reload() const;

    const HttpHooks& hooks;
    const bool enable_lifecycle;
};

}  // namespace soawatch
