#include "exporters/http_server.hpp"

#include <civetweb.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "exporters/api_json.hpp"
#include "exporters/status_page.hpp"
#include "exporters/text_util.hpp"

namespace soawatch {

namespace {

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
constexpr std::string_view kCssType = "text/css; charset=utf-8";
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";
// No endpoint reads a request body; anything larger is refused without reading it.
constexpr long long kMaxRequestBody = 4096;
constexpr std::size_t kMaxQueryValue = 1024;
constexpr std::string_view kZonesPath = "/api/v1/zones";

// civetweb keeps a process-wide init count: mg_init_library before the first context,
// mg_exit_library after the last one.
struct CivetLibrary {
    CivetLibrary() { mg_init_library(0); }
    ~CivetLibrary() { mg_exit_library(); }
    CivetLibrary(const CivetLibrary&) = delete;
    CivetLibrary& operator=(const CivetLibrary&) = delete;
};

struct ContextDeleter {
    void operator()(mg_context* ctx) const { mg_stop(ctx); }
};
using ContextPtr = std::unique_ptr<mg_context, ContextDeleter>;

struct Response {
    int status = 200;
    std::string_view content_type = kTextType;
    std::string body;
    std::string_view allow;               // for 405
    std::vector<std::string> parts = {};  // more body, sent after `body` in order
};

Response text(int status, std::string body) {
    if (body.empty() || body.back() != '\n') body += '\n';
    return Response{status, kTextType, std::move(body), {}};
}

Response json_error(int status, std::string message) {
    nlohmann::json error{{"error", std::move(message)}};
    return Response{status, kJsonType, dump_json(error) + "\n", {}};
}

Response method_not_allowed(std::string_view allow) {
    Response r = text(405, "method not allowed");
    r.allow = allow;
    return r;
}

void send(mg_connection* conn, const Response& r, bool head) {
    std::size_t size = r.body.size();
    for (const auto& part : r.parts) size += part.size();
    const std::string length = std::to_string(size);
    mg_response_header_start(conn, r.status);
    mg_response_header_add(conn, "Content-Type", r.content_type.data(),
                           static_cast<int>(r.content_type.size()));
    mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
    mg_response_header_add(conn, "Content-Security-Policy", kContentSecurityPolicy.data(),
                           static_cast<int>(kContentSecurityPolicy.size()));
    if (!r.allow.empty())
        mg_response_header_add(conn, "Allow", r.allow.data(), static_cast<int>(r.allow.size()));
    mg_response_header_send(conn);
    if (head) return;
    if (!r.body.empty()) mg_write(conn, r.body.data(), r.body.size());
    for (const auto& part : r.parts)
        if (!part.empty()) mg_write(conn, part.data(), part.size());
}

// The decoded value of a query parameter; nullopt when absent. *too_long when it does not fit.
std::optional<std::string> query_param(const mg_request_info* ri, const char* name,
                                       bool* too_long) {
    if (ri->query_string == nullptr) return std::nullopt;
    std::array<char, kMaxQueryValue + 1> buffer{};
    const int n = mg_get_var(ri->query_string, std::strlen(ri->query_string), name, buffer.data(),
                             buffer.size());
    if (n == -1) return std::nullopt;
    if (n < 0) {
        *too_long = true;
        return std::nullopt;
    }
    return std::string(buffer.data(), static_cast<std::size_t>(n));
}

// "/api/v1/zones/Example.TEST" -> "example.test."
std::string canonical_zone(std::string_view name) {
    std::string zone = ascii_lower(name);
    if (zone.empty() || zone.back() != '.') zone += '.';
    return zone;
}

}  // namespace

struct HttpServer::Impl {
    HttpHooks hooks;
    std::mutex log_mutex;
    std::string last_log;  // civetweb's last error message, for the startup exception
    uint16_t port = 0;
    // Declared last: the context stops (joining every worker) before anything above goes.
    CivetLibrary library;
    ContextPtr ctx;

    explicit Impl(HttpHooks h) : hooks(std::move(h)) {}

    static int log_message(const mg_connection* conn, const char* message) {
        auto* self = static_cast<Impl*>(mg_get_user_data(mg_get_context(conn)));
        if (self != nullptr && message != nullptr) {
            std::lock_guard lock(self->log_mutex);
            self->last_log = message;
            while (!self->last_log.empty() &&
                   (self->last_log.back() == '\n' || self->last_log.back() == '\r'))
                self->last_log.pop_back();
        }
        return 1;  // handled: civetweb prints nothing itself
    }

    static int handle(mg_connection* conn, void* data) {
        auto* self = static_cast<Impl*>(data);
        const mg_request_info* ri = mg_get_request_info(conn);
        const bool head = ri != nullptr && ri->request_method != nullptr &&
                          std::strcmp(ri->request_method, "HEAD") == 0;
        Response r;
        try {
            r = self->route(ri);
        } catch (const std::exception& e) {
            r = text(500, std::string("internal error: ") + e.what());
        } catch (...) {
            r = text(500, "internal error");
        }
        send(conn, r, head);
        return r.status;
    }

    Response route(const mg_request_info* ri) const {
        if (ri == nullptr || ri->local_uri == nullptr || ri->request_method == nullptr)
            return text(400, "bad request");
        if (ri->content_length > kMaxRequestBody) return text(413, "request body too large");
        const std::string_view method = ri->request_method;
        const std::string_view path = ri->local_uri;
        const bool get = method == "GET" || method == "HEAD";

        if (path == "/-/reload") {
            if (method != "POST") return method_not_allowed("POST");
            return reload();
        }

        // Every other route is read-only.
        Response r;
        if (path == "/") {
            r = status_page();
        } else if (path == kStatusPageCssPath) {
            r = Response{200, kCssType, std::string(kStatusPageCss), {}};
        } else if (path == "/metrics") {
            r = metrics();
        } else if (path == "/probe") {
            r = probe(ri);
        } else if (path == "/healthz") {
            r = text(200, "ok");
        } else if (path == "/readyz") {
            r = hooks.ready && hooks.ready() ? text(200, "ready") : text(503, "not ready");
        } else if (path == kZonesPath || path == std::string(kZonesPath) + "/") {
            r = zones();
        } else if (path.starts_with(std::string(kZonesPath) + "/")) {
            r = zone(path.substr(kZonesPath.size() + 1));
        } else {
            return text(404, "not found");
        }
        if (!get) return method_not_allowed("GET, HEAD");
        return r;
    }

    SnapshotPtr snapshot() const {
        if (!hooks.snapshot) return nullptr;
        return hooks.snapshot();
    }

    Response status_page() const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return text(503, "no status yet");
        return Response{200, kHtmlType, render_status_page(*snap), {}};
    }

    Response metrics() const {
        if (hooks.render_metrics_parts) {
            Response r{200, kMetricsType, {}, {}};
            r.parts = hooks.render_metrics_parts();
            return r;
        }
        if (!hooks.render_metrics) return text(503, "metrics not available");
        return Response{200, kMetricsType, hooks.render_metrics(), {}};
    }

    Response zones() const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return json_error(503, "no status yet");
        return Response{200, kJsonType, dump_json(snapshot_to_json(*snap)) + "\n", {}};
    }

    Response zone(std::string_view name) const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return json_error(503, "no status yet");
        const std::string wanted = canonical_zone(name);
        // The snapshot is sorted by zone name.
        const auto it = std::lower_bound(
            snap->zones.begin(), snap->zones.end(), wanted,
            [](const ZoneStatusPtr& z, const std::string& n) { return z && z->zone < n; });
        if (it == snap->zones.end() || !*it || (*it)->zone != wanted)
            return json_error(404, "zone not watched: " + wanted);
        return Response{200, kJsonType, dump_json(zone_to_json(**it)) + "\n", {}};
    }

    Response probe(const mg_request_info* ri) const {
        if (!hooks.probe) return text(501, "probing is not available");
        bool too_long = false;
        const auto zone_param = query_param(ri, "zone", &too_long);
        const auto primary_param = query_param(ri, "primary", &too_long);
        if (too_long) return text(400, "query parameter too long");
        if (!zone_param || zone_param->empty()) return text(400, "missing query parameter: zone");
        std::optional<Endpoint> primary;
        if (primary_param) {
            std::string error;
            primary = parse_endpoint(*primary_param, 53, &error);
            if (!primary) return text(400, "invalid primary: " + error);
        }
        std::string error;
        int status = 400;
        auto body = hooks.probe(*zone_param, primary, &error, &status);
        if (!body) {
            if (status < 400 || status > 599) status = 400;
            return text(status, error.empty() ? "probe failed" : error);
        }
        return Response{200, kMetricsType, std::move(*body), {}};
    }

    Response reload() const {
        if (!hooks.reload) return text(501, "reload is not available");
        const ReloadResult result = hooks.reload();
        if (!result.ok) return text(500, result.error.empty() ? "reload failed" : result.error);
        return text(200, "ok");
    }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(hooks))) {
    const Endpoint& listen = options.listen;
    const bool ipv6 = listen.address.find(':') != std::string::npos;
    const bool have_ipv6 = mg_check_feature(8) != 0;
    const std::string where = listen.address.empty()
                                  ? ":" + std::to_string(listen.port)
                                  : Endpoint{listen.address, listen.port}.to_string();
    if (ipv6 && !have_ipv6)
        throw std::runtime_error("cannot listen on " + where +
                                 ": this civetweb build has no IPv6 support");
    // "" = every address: "+PORT" is one dual-stack socket where civetweb has IPv6.
    std::string ports;
    if (listen.address.empty())
        ports = (have_ipv6 ? "+" : "") + std::to_string(listen.port);
    else
        ports = Endpoint{listen.address, listen.port}.to_string();
    const std::string threads = std::to_string(std::max(1u, options.threads));

    const char* config[] = {
        "listening_ports",
        ports.c_str(),
        "num_threads",
        threads.c_str(),
        "request_timeout_ms",
        "15000",
        "enable_directory_listing",
        "no",
        "enable_keep_alive",
        "no",  // one request per connection: unread bodies never linger
        "max_request_size",
        "16384",
        nullptr,
    };
    mg_callbacks callbacks{};
    callbacks.log_message = &Impl::log_message;
    mg_init_data init{&callbacks, impl_.get(), config};
    unsigned code = 0;
    std::array<char, 256> error_text{};
    mg_error_data error{&code, error_text.data(), error_text.size()};
    impl_->ctx.reset(mg_start2(&init, &error));
    if (!impl_->ctx) {
        std::string reason;
        {
            std::lock_guard lock(impl_->log_mutex);
            reason = impl_->last_log;
        }
        if (reason.empty()) reason = error_text.data();
        if (reason.empty()) reason = "civetweb failed to start";
        throw std::runtime_error("cannot listen on " + where + ": " + reason);
    }
    mg_set_request_handler(impl_->ctx.get(), "/", &Impl::handle, impl_.get());

    std::array<mg_server_port, 4> bound{};
    const int n =
        mg_get_server_ports(impl_->ctx.get(), static_cast<int>(bound.size()), bound.data());
    if (n < 1) throw std::runtime_error("cannot listen on " + where + ": no bound port");
    impl_->port = static_cast<uint16_t>(bound[0].port);
}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::port() const {
    return impl_->port;
}

}  // namespace soawatch
