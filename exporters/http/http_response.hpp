// What a route answers, before the server adds the security headers and sends it: status, type,
// body (or a writer that streams it, or work deferred to a background thread). Internal to
// exporters/http: the routes make these, http_server sends them.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "exporters/api/api_json.hpp"
#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

inline constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kTextType = "text/plain; charset=utf-8";
inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
inline constexpr std::string_view kCssType = "text/css; charset=utf-8";

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    int status = 200;
    std::string_view content_type = kTextType;
    std::string body;
    Headers headers;  // Allow, WWW-Authenticate, Retry-After
    // Set: the body is written by this, after `body`, and sent while it is written.
    std::function<void(prom::StreamedText&)> writer = {};
    // Set: the answer is this one's, made on a background thread while the connection is
    // parked (work that waits for the agent or grows with the zones never runs on an event
    // thread).
    std::function<Response()> deferred = {};
};

// An answer made later, off the event thread.
inline Response later(std::function<Response()> work) {
    Response r{0, kTextType, {}, {}};
    r.deferred = std::move(work);
    return r;
}

inline Response text(int status, std::string body) {
    if (body.empty() || body.back() != '\n') body += '\n';
    return Response{status, kTextType, std::move(body), {}};
}

inline Response json_error(int status, std::string message) {
    nlohmann::json error{{"error", std::move(message)}};
    return Response{status, kJsonType, dump_json(error) + "\n", {}};
}

inline Response method_not_allowed(std::string_view allow) {
    Response r = text(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
}

}  // namespace soawatch
