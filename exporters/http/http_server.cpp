#include "exporters/http/http_server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "agent/common/log.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/status_page.hpp"
#include "exporters/http/basic_auth.hpp"
#include "exporters/http/civetweb_openssl3.hpp"
#include "exporters/http/rate_limiter.hpp"
#include "exporters/http/tls_context.hpp"
#include "probes/dns_wire.hpp"
#include "probes/unique_fd.hpp"

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
// The request line and every header together (civetweb's max_request_size): beyond it, 431.
constexpr int kMaxRequestHeaderBytes = 8192;

// When the worker thread's current connection was accepted (see Impl::init_connection).
thread_local std::chrono::steady_clock::time_point t_connection_start;
constexpr std::string_view kAuthenticate = "Basic realm=\"soawatch\", charset=\"UTF-8\"";
constexpr std::string_view kLifecycleDisabled =
    "lifecycle API is not enabled (start with --web.enable-lifecycle)";
constexpr std::size_t kMaxQueryValue = 1024;
constexpr std::string_view kZonesPath = "/api/v1/zones";
constexpr std::string_view kZonePrefix = "/api/v1/zones/";  // then the zone name
constexpr std::string_view kAlertsPath = "/api/v1/alerts";

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

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    int status = 200;
    std::string_view content_type = kTextType;
    std::string body;
    Headers headers;  // Allow, WWW-Authenticate, Retry-After
    // Set: the body is written by this, after `body`, and sent while it is written.
    std::function<void(prom::StreamedText&)> writer = {};
};

Response text(int status, std::string body) {
    if (body.empty() || body.back() != '\n') body += '\n';
    return Response{status, kTextType, std::move(body), {}};
}

// On every response; an operator's http_server_config.headers replace these by name.
Headers default_security_headers() {
    return {{"Cache-Control", "no-store"},
            {"X-Content-Type-Options", "nosniff"},
            {"Referrer-Policy", "no-referrer"},
            {"X-Frame-Options", "DENY"},  // for browsers older than frame-ancestors
            {"Content-Security-Policy", std::string(kContentSecurityPolicy)}};
}

Headers security_headers(const WebConfig& web) {
    Headers headers = default_security_headers();
    for (const auto& [name, value] : web.headers) {
        // A structured binding is captured by name: Clang before 16 cannot capture one.
        const auto same =
            std::find_if(headers.begin(), headers.end(), [&name = name](const auto& h) {
                return strcasecmp(h.first.c_str(), name.c_str()) == 0;
            });
        if (same != headers.end()) {
            same->second = value;
        } else {
            headers.emplace_back(name, value);
        }
    }
    return headers;
}

// What a web config reload may change, swapped as a whole.
struct AccessPolicy {
    Headers headers;
    std::unique_ptr<BasicAuth> auth;
    std::shared_ptr<RateLimiter> limiter;
    RateLimit rate_limit;
};

Response json_error(int status, std::string message) {
    nlohmann::json error{{"error", std::move(message)}};
    return Response{status, kJsonType, dump_json(error) + "\n", {}};
}

Response method_not_allowed(std::string_view allow) {
    Response r = text(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
}

bool is_head(const mg_request_info* ri) {
    return ri != nullptr && ri->request_method != nullptr &&
           std::strcmp(ri->request_method, "HEAD") == 0;
}

// Content-Length when the length is known; else chunked to an HTTP/1.1 client (`chunked`), or
// neither for a HEAD answer whose body is never written.
void send_headers(mg_connection* conn, const Response& r, const Headers& security,
                  const std::string* length, bool chunked) {
    mg_response_header_start(conn, r.status);
    mg_response_header_add(conn, "Content-Type", r.content_type.data(),
                           static_cast<int>(r.content_type.size()));
    if (length != nullptr) mg_response_header_add(conn, "Content-Length", length->c_str(), -1);
    if (chunked) mg_response_header_add(conn, "Transfer-Encoding", "chunked", -1);
    for (const Headers* list : {&security, &r.headers}) {
        for (const auto& [name, value] : *list) {
            mg_response_header_add(conn, name.c_str(), value.data(),
                                   static_cast<int>(value.size()));
        }
    }
    mg_response_header_send(conn);
}

// HTTP/1.1 (Prometheus, curl, browsers) takes a body of unknown length, chunked; 1.0 does not.
bool takes_chunked(const mg_request_info* ri) {
    return ri != nullptr && ri->http_version != nullptr &&
           std::string_view(ri->http_version) != "1.0";
}

// Runs r.writer into `out`. False when it threw: what it wrote is incomplete.
bool write_body(const Response& r, prom::StreamedText& out) {
    try {
        r.writer(out);
        return true;
    } catch (const std::exception& e) {
        log::error("HTTP response body not written", {{"error", e.what()}});
    } catch (...) {
        log::error("HTTP response body not written", {{"error", "unknown"}});
    }
    return false;
}

// A written body (r.writer) goes out chunk by chunk while it is written, so it never sits in
// memory whole; for an HTTP/1.0 client it is written whole first, for its Content-Length. A
// HEAD answer gets the headers only, and the body is not written at all.
void send(mg_connection* conn, const mg_request_info* ri, Response r, const Headers& security) {
    const bool head = is_head(ri);
    if (r.writer && takes_chunked(ri)) {
        send_headers(conn, r, security, nullptr, true);
        if (head) return;
        prom::StreamedText out([conn](std::string_view piece) {
            return mg_send_chunk(conn, piece.data(), static_cast<unsigned int>(piece.size())) > 0;
        });
        out.text() = std::move(r.body);
        // Without the last (empty) chunk the client sees the body is incomplete.
        if (write_body(r, out) && out.finish()) mg_send_chunk(conn, "", 0);
        return;
    }
    if (r.writer && head) {
        send_headers(conn, r, security, nullptr, false);
        return;
    }
    if (r.writer) {
        prom::StreamedText out;
        out.text() = std::move(r.body);
        if (!write_body(r, out))
            r = text(500, "internal error: response body not written");
        else
            r.body = std::move(out).take();
    }
    const std::string length = std::to_string(r.body.size());
    send_headers(conn, r, security, &length, false);
    if (!head && !r.body.empty()) mg_write(conn, r.body.data(), r.body.size());
}

// A body no endpoint takes: over the limit, or chunked (of unknown length).
bool has_large_body(const mg_connection* conn, const mg_request_info* ri) {
    return ri != nullptr && (ri->content_length > kMaxRequestBody ||
                             mg_get_header(conn, "Transfer-Encoding") != nullptr);
}

// "192.0.2.1" / "2001:db8::1" and the port of a socket address.
std::pair<std::string, int> address_of(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return {text, ntohs(v4->sin_port)};
    }
    if (addr.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        return {text, ntohs(v6->sin6_port)};
    }
    return {"", -1};
}

// Shuts down the reading side of the request's connection, so civetweb's read of a body we
// refused ends at once. civetweb gives no access to a connection's socket: it is the one of
// this process whose local port is ours and whose peer is the request's client.
void stop_reading(const mg_request_info* ri, uint16_t local_port) {
    if (ri == nullptr) return;
    DIR* fds = opendir("/proc/self/fd");
    if (fds == nullptr) return;
    while (const dirent* entry = readdir(fds)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != 0 || fd == dirfd(fds)) continue;
        sockaddr_storage local{}, peer{};
        socklen_t local_len = sizeof local, peer_len = sizeof peer;
        if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) !=
                0 ||
            getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
            continue;
        }
        const auto [peer_address, peer_port] = address_of(peer);
        if (address_of(local).second == local_port && peer_port == ri->remote_port &&
            peer_address == ri->remote_addr) {
            ::shutdown(static_cast<int>(fd), SHUT_RD);
            break;
        }
    }
    closedir(fds);
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

// Opens and closes a TCP connection to address:port, waiting at most a few milliseconds: all
// that is wanted is that the listener's poll() returns.
void wake_listener(const std::string& address, uint16_t port) {
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        length = sizeof *v4;
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        length = sizeof *v6;
    } else {
        return;
    }
    UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return;
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) == 0) return;
    pollfd pfd{fd.get(), POLLOUT, 0};
    ::poll(&pfd, 1, 50);
}

}  // namespace

struct HttpServer::Impl {
    HttpHooks hooks;
    bool enable_lifecycle = false;
    std::chrono::milliseconds request_timeout;
    std::optional<TlsServerConfig> tls;
    std::mutex log_mutex;
    std::string last_log;   // civetweb's last error message, for the startup exception
    std::string tls_error;  // why the TLS context could not be set up (guarded by log_mutex)
    mutable std::mutex policy_mutex;
    std::shared_ptr<const AccessPolicy> policy;  // guarded by policy_mutex
    uint16_t port = 0;
    std::string wake_address;  // where a connection reaches the listening socket
    bool abandoned = false;    // stop() gave up on the workers: leave everything in place
    // Declared last: the context stops (joining every worker) before anything above goes.
    CivetLibrary library;
    ContextPtr ctx;

    Impl(HttpHooks h, const HttpServerOptions& options)
        : hooks(std::move(h)),
          enable_lifecycle(options.enable_lifecycle),
          request_timeout(options.request_timeout),
          tls(options.web.tls) {
        set_policy(options.web);
    }

    std::shared_ptr<const AccessPolicy> current_policy() const {
        std::lock_guard lock(policy_mutex);
        return policy;
    }

    void set_policy(const WebConfig& web) {
        auto next = std::make_shared<AccessPolicy>();
        next->headers = security_headers(web);
        next->auth = std::make_unique<BasicAuth>(web.basic_auth_users);
        next->rate_limit = web.rate_limit;
        std::lock_guard lock(policy_mutex);
        // An unchanged limit keeps its buckets: a reload is no way around it.
        if (policy && policy->rate_limit == web.rate_limit) {
            next->limiter = policy->limiter;
        } else {
            next->limiter = std::make_shared<RateLimiter>(web.rate_limit);
        }
        policy = std::move(next);
    }

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

    // civetweb created the server's SSL_CTX: we load certificate and key (from two files, which
    // civetweb cannot) and set versions and client verification. 1: done; -1: fail the start.
    static int init_ssl(void* ssl_ctx, void* user_data) {
        auto* self = static_cast<Impl*>(user_data);
        if (self == nullptr || !self->tls) return -1;
        const auto error = configure_tls_context(static_cast<SSL_CTX*>(ssl_ctx), *self->tls);
        if (!error) return 1;
        std::lock_guard lock(self->log_mutex);
        self->tls_error = "tls_server_config." + error->key + ": " + error->message;
        return -1;
    }

    // Worker thread, once per connection (keep-alive is off: once per request), before civetweb
    // reads the request.
    static int init_connection(const mg_connection* /*conn*/, void** /*conn_data*/) {
        t_connection_start = std::chrono::steady_clock::now();
        return 0;
    }

    // Errors civetweb answers itself (a malformed request, headers over the limit), on the same
    // worker thread: the same headers as every other response.
    static int http_error(mg_connection* conn, int status, const char* message) {
        auto* self = static_cast<Impl*>(mg_get_user_data(mg_get_context(conn)));
        if (self == nullptr) return 1;
        const mg_request_info* ri = mg_get_request_info(conn);
        const std::string_view what = message != nullptr ? message : "";
        Response r = text(status, what.empty() ? "bad request" : std::string(what));
        // civetweb 1.15 reports a request whose line and headers never ended within
        // max_request_size as "Malformed message", be it over the limit (431, RFC 6585 section
        // 5) or cut short by the request timeout (408).
        if (status == 400 && what == "Malformed message") {
            const bool timed_out = std::chrono::steady_clock::now() - t_connection_start >
                                   self->request_timeout * 8 / 10;
            r = timed_out ? text(408, "request timeout")
                          : text(431, "request header fields too large");
        }
        send(conn, ri, std::move(r), self->current_policy()->headers);
        return 0;
    }

    static int handle(mg_connection* conn, void* data) {
        auto* self = static_cast<Impl*>(data);
        const mg_request_info* ri = mg_get_request_info(conn);
        const auto policy = self->current_policy();
        const bool large_body = has_large_body(conn, ri);
        Response r;
        try {
            r = self->admit(conn, ri, *policy);
            if (r.status == 0 && large_body) r = text(413, "request body too large");
            if (r.status == 0) r = self->route(ri);
        } catch (const std::exception& e) {
            r = text(500, std::string("internal error: ") + e.what());
        } catch (...) {
            r = text(500, "internal error");
        }
        const int status = r.status;
        send(conn, ri, std::move(r), policy->headers);
        // civetweb would read (and drop) the whole body before closing, however large and
        // however slowly it comes: that would hold a worker. Reading ends here instead.
        if (large_body) stop_reading(ri, self->port);
        return status;
    }

    // The rate limit, then basic auth. Status 0: the request may go on to its route.
    static Response admit(mg_connection* conn, const mg_request_info* ri,
                          const AccessPolicy& policy) {
        const char* client = ri != nullptr ? ri->remote_addr : "";
        if (const auto wait = policy.limiter->acquire(client)) {
            Response r = text(429, "too many requests");
            r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
            log::debug("HTTP request refused: rate limit", {{"client", client}});
            return r;
        }
        if (!policy.auth->disabled()) {
            const char* authorization = mg_get_header(conn, "Authorization");
            if (!policy.auth->allows(authorization != nullptr ? authorization : "")) {
                Response r = text(401, "unauthorized");
                r.headers.emplace_back("WWW-Authenticate", kAuthenticate);
                log::debug("HTTP request refused: unauthorized",
                           {{"client", client}, {"credentials", authorization ? "wrong" : "none"}});
                return r;
            }
        }
        return Response{0, kTextType, {}, {}};
    }

    Response route(const mg_request_info* ri) const {
        if (ri == nullptr || ri->local_uri == nullptr || ri->request_method == nullptr)
            return text(400, "bad request");
        const std::string_view method = ri->request_method;
        const std::string_view path = ri->local_uri;
        const bool get = method == "GET" || method == "HEAD";

        if (path == "/-/reload") {
            if (method != "POST") return method_not_allowed("POST");
            if (!enable_lifecycle) return text(403, std::string(kLifecycleDisabled));
            return reload();
        }

        // Every other route is read-only. The method is checked before the handler runs: a
        // POST /probe is refused without running a DNS check first.
        const std::function<Response()> handler = read_only_handler(ri, path);
        if (!handler) return text(404, "not found");
        if (!get) return method_not_allowed("GET, HEAD");
        return handler();
    }

    // The handler of a read-only path; empty when no route has that path.
    std::function<Response()> read_only_handler(const mg_request_info* ri,
                                                std::string_view path) const {
        if (path == "/") return [this] { return status_page(); };
        if (path == kStatusPageCssPath)
            return [] { return Response{200, kCssType, std::string(kStatusPageCss), {}}; };
        if (path == "/metrics") return [this] { return metrics(); };
        if (path == "/probe") return [this, ri] { return probe(ri); };
        if (path == "/healthz") return [] { return text(200, "ok"); };
        if (path == "/readyz") {
            return [this] {
                return hooks.ready && hooks.ready() ? text(200, "ready") : text(503, "not ready");
            };
        }
        if (path == kAlertsPath) return [this] { return alerts(); };
        if (path == kZonesPath || path == kZonePrefix) return [this] { return zones(); };
        if (path.starts_with(kZonePrefix))
            return [this, name = path.substr(kZonePrefix.size())] { return zone(name); };
        return nullptr;
    }

    SnapshotPtr snapshot() const {
        if (!hooks.snapshot) return nullptr;
        return hooks.snapshot();
    }

    Response status_page() const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return text(503, "no status yet");
        const AlertsSnapshotPtr alerts = hooks.alerts ? hooks.alerts() : nullptr;
        return Response{200, kHtmlType, render_status_page(*snap, alerts.get()), {}};
    }

    Response metrics() const {
        if (!hooks.write_metrics) return text(503, "metrics not available");
        Response r{200, kMetricsType, {}, {}};
        r.writer = hooks.write_metrics;
        return r;
    }

    Response zones() const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return json_error(503, "no status yet");
        std::string body = dump_snapshot_json(*snap);
        body += '\n';
        return Response{200, kJsonType, std::move(body), {}};
    }

    Response alerts() const {
        const AlertsSnapshotPtr snap = hooks.alerts ? hooks.alerts() : nullptr;
        if (!snap) return Response{200, kJsonType, "{\"alerts\":[]}\n", {}};
        return Response{200, kJsonType, dump_json(alerts_to_json(*snap)) + "\n", {}};
    }

    Response zone(std::string_view name) const {
        const SnapshotPtr snap = snapshot();
        if (!snap) return json_error(503, "no status yet");
        // "/api/v1/zones/Example.TEST" -> "example.test."; "<b>.test" -> "\<b\>.test." (the
        // form the zone is stored in). civetweb turns backslashes in a path into slashes, so
        // names are asked for in their plain spelling and escaped here.
        const std::string wanted = dns::canonical_name(name);
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

HttpServer::HttpServer(const HttpServerOptions& options, HttpHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(hooks), options)) {
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
    if (options.web.tls) ports += 's';
    const std::string threads = std::to_string(std::max(1u, options.threads));
    const std::string header_limit = std::to_string(kMaxRequestHeaderBytes);
    const std::string request_timeout = std::to_string(options.request_timeout.count());

    const char* config[] = {
        "listening_ports",
        ports.c_str(),
        "num_threads",
        threads.c_str(),
        "request_timeout_ms",
        request_timeout.c_str(),
        "enable_directory_listing",
        "no",
        "enable_keep_alive",
        "no",  // one request per connection: unread bodies never linger
        "max_request_size",
        header_limit.c_str(),
        // No cross-origin access: civetweb would answer CORS preflights with "*".
        "access_control_allow_origin",
        "",
        "access_control_allow_methods",
        "",
        "access_control_allow_headers",
        "",
        nullptr,
    };
    mg_callbacks callbacks{};
    callbacks.log_message = &Impl::log_message;
    callbacks.http_error = &Impl::http_error;
    callbacks.init_connection = &Impl::init_connection;
    if (options.web.tls) callbacks.init_ssl = &Impl::init_ssl;
    mg_init_data init{&callbacks, impl_.get(), config};
    unsigned code = 0;
    std::array<char, 256> error_text{};
    mg_error_data error{&code, error_text.data(), error_text.size()};
    {
        std::optional<TlsLibraryRedirect> redirect;
        if (options.web.tls) redirect.emplace();
        impl_->ctx.reset(mg_start2(&init, &error));
    }
    if (!impl_->ctx) {
        std::string reason;
        {
            std::lock_guard lock(impl_->log_mutex);
            reason = impl_->tls_error.empty() ? impl_->last_log : impl_->tls_error;
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
    impl_->wake_address = listen.address.empty() ? "127.0.0.1" : listen.address;
}

HttpServer::~HttpServer() {
    if (!impl_) return;
    if (impl_->ctx) stop(std::chrono::hours(1));
    // Workers may still run in the Impl: the process is about to exit (see stop()).
    if (impl_->abandoned) (void)impl_.release();
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
    if (!impl_->ctx) return true;
    // civetweb's master thread notices mg_stop() only when its poll() on the listening sockets
    // returns, which without traffic takes its whole timeout quantum (2 s in 1.15): connect to
    // ourselves until the stop has gone through. A worker busy with a client that is still
    // sending its request looks at the stop flag as rarely: past `grace` it is left running.
    auto done = std::make_shared<std::promise<void>>();
    auto stopped = done->get_future();
    std::thread stopper([impl = impl_.get(), done] {
        impl->ctx.reset();
        done->set_value();
    });
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (stopped.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() >= deadline) {
            stopper.detach();
            impl_->abandoned = true;
            return false;
        }
        wake_listener(impl_->wake_address, impl_->port);
    }
    stopper.join();
    return true;
}

uint16_t HttpServer::port() const {
    return impl_->port;
}

bool HttpServer::tls() const {
    return impl_->tls.has_value();
}

bool HttpServer::update_web_config(const WebConfig& web, std::string* why) {
    impl_->set_policy(web);
    if (web.tls != impl_->tls) {
        *why = "tls_server_config changed: TLS settings take effect at restart";
        return false;
    }
    return true;
}

}  // namespace soawatch
