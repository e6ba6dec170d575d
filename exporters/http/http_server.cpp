#include "exporters/http/http_server.hpp"
#include "agent/common/thread_annotations.hpp"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/common/log.hpp"
#include "exporters/http/background_threads.hpp"
#include "exporters/http/basic_auth.hpp"
#include "exporters/http/parked_connection.hpp"
#include "exporters/http/rate_limiter.hpp"
#include "exporters/http/routes.hpp"
#include "exporters/http/streamed_body.hpp"
#include "exporters/http/tls_context.hpp"
#include "exporters/http/tls_session.hpp"
#include "probes/socket_address.hpp"

namespace soawatch {

namespace {

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";  // 'self': the status page's filter form
// No endpoint reads a request body; anything larger is refused without reading it.
constexpr long long kMaxRequestBody = 4096;
// The request line and every header together: beyond it, 431 (RFC 6585 section 5).
constexpr std::size_t kMaxRequestHeaderBytes = 8192;
// What libmicrohttpd may hold per connection (request headers, send buffer). Headers between
// kMaxRequestHeaderBytes and this get our 431; beyond it, libmicrohttpd answers 431 itself.
constexpr std::size_t kConnectionMemory = std::size_t{64} * 1024;
// Connections at once, and from one client address (a slow or stuck client holds no thread,
// only one of these). Generous per address: a Prometheus multi-target /probe job keeps one
// connection per target open (closed after request_timeout idle), all from one address; half
// the slots still leaves the other half to everyone else.
constexpr unsigned kMaxConnections = 1024;
constexpr unsigned kMaxConnectionsPerClient = kMaxConnections / 2;

constexpr std::string_view kAuthenticate = "Basic realm=\"soawatch\", charset=\"UTF-8\"";

struct DaemonStopper {
    void operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }
};
using DaemonPtr = std::unique_ptr<MHD_Daemon, DaemonStopper>;

struct ResponseReleaser {
    void operator()(MHD_Response* response) const { MHD_destroy_response(response); }
};
using ResponsePtr = std::unique_ptr<MHD_Response, ResponseReleaser>;

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

// "192.0.2.1" / "2001:db8::1": the client's address, the rate limit's key.
std::string client_address(MHD_Connection* connection) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == nullptr || info->client_addr == nullptr) return "";
    char text[INET6_ADDRSTRLEN] = "";
    const sockaddr* addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text,
                  sizeof text);
    } else if (addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text,
                  sizeof text);
    }
    return text;
}

// The request line and headers, counted as sent ("Name: value\r\n").
std::size_t header_bytes(const Request& request) {
    std::size_t total =
        request.method.size() + request.state->raw_uri.size() + request.version.size() + 4;
    MHD_get_connection_values(
        request.connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
            *static_cast<std::size_t*>(cls) +=
                std::strlen(key) + (value != nullptr ? std::strlen(value) : 0) + 4;
            return MHD_YES;
        },
        &total);
    return total;
}

// Content-Length other than 0, or Transfer-Encoding.
bool announces_body(const Request& request) {
    if (request.header(MHD_HTTP_HEADER_TRANSFER_ENCODING) != nullptr) return true;
    const char* length = request.header(MHD_HTTP_HEADER_CONTENT_LENGTH);
    return length != nullptr && std::string_view(length) != "0";
}

// A body no endpoint takes: over the limit, or chunked (of unknown length).
bool has_large_body(const Request& request) {
    if (request.header(MHD_HTTP_HEADER_TRANSFER_ENCODING) != nullptr) return true;
    const char* length = request.header(MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length == nullptr) return false;
    errno = 0;
    char* end = nullptr;
    const long long n = std::strtoll(length, &end, 10);
    return errno != 0 || end == length || n > kMaxRequestBody;
}

// The file's whole text; *error set when it cannot be read.
std::string read_file(const std::string& path, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = "cannot read file " + path + ": " + std::strerror(errno);
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

struct HttpServer::Impl {
    HttpHooks hooks;
    Routes routes;
    std::optional<TlsServerConfig> tls;
    TlsSessionSettings tls_settings;  // client certificates, applied to each TLS session
    std::string tls_cert_pem, tls_key_pem, tls_trust_pem, tls_priorities;
    Mutex log_mutex;
    std::string last_log GUARDED_BY(log_mutex);  // libmicrohttpd's last message, for startup
    mutable Mutex policy_mutex;
    std::shared_ptr<const AccessPolicy> policy GUARDED_BY(policy_mutex);
    uint16_t port = 0;
    bool abandoned = false;  // stop() gave up on background threads: leave everything in place
    ParkedConnections parked;
    BackgroundThreads background;
    // Declared last: the daemon stops (joining its threads) before anything above goes.
    DaemonPtr daemon;

    Impl(HttpHooks h, const HttpServerOptions& options)
        : hooks(std::move(h)), routes(hooks, options.enable_lifecycle), tls(options.web.tls) {
        set_policy(options.web);
    }

    std::shared_ptr<const AccessPolicy> current_policy() const {
        MutexLock lock(policy_mutex);
        return policy;
    }

    void set_policy(const WebConfig& web) {
        auto next = std::make_shared<AccessPolicy>();
        next->headers = security_headers(web);
        next->auth = std::make_unique<BasicAuth>(web.basic_auth_users);
        next->rate_limit = web.rate_limit;
        MutexLock lock(policy_mutex);
        // An unchanged limit keeps its buckets: a reload is no way around it.
        if (policy && policy->rate_limit == web.rate_limit) {
            next->limiter = policy->limiter;
        } else {
            next->limiter = std::make_shared<RateLimiter>(web.rate_limit);
        }
        policy = std::move(next);
    }

    static void log_message(void* cls, const char* format, va_list args) {
        auto* self = static_cast<Impl*>(cls);
        std::array<char, 512> buffer{};
        std::vsnprintf(buffer.data(), buffer.size(), format, args);
        std::string message = buffer.data();
        while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
            message.pop_back();
        log::debug("HTTP server", {{"message", message}});
        MutexLock lock(self->log_mutex);
        self->last_log = std::move(message);
    }

    // The request line has arrived: the connection's request state, reset, with the URI as
    // sent (the query undecoded).
    static void* on_uri(void* /*cls*/, const char* uri, MHD_Connection* connection) {
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (info == nullptr || info->socket_context == nullptr) return nullptr;
        auto* state = static_cast<RequestState*>(info->socket_context);
        *state = RequestState{};
        if (uri != nullptr) state->raw_uri = uri;
        return state;
    }

    static void on_completed(void* /*cls*/, MHD_Connection* /*connection*/, void** req_cls,
                             MHD_RequestTerminationCode /*why*/) {
        if (auto* state = static_cast<RequestState*>(*req_cls)) *state = RequestState{};
        *req_cls = nullptr;
    }

    // A connection starts (its request state is made) or closes (and its state goes). A TLS
    // connection starts before its handshake: the client certificate policy goes on its session
    // (libmicrohttpd itself only knows "ask when a CA is given").
    static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                              MHD_ConnectionNotificationCode code) {
        auto* self = static_cast<Impl*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
            const std::unique_ptr<RequestState> state(static_cast<RequestState*>(*socket_context));
            *socket_context = nullptr;
            return;
        }
        *socket_context = std::make_unique<RequestState>().release();  // freed when it closes
        if (!self->tls) return;
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (info != nullptr && info->tls_session != nullptr)
            apply_tls_session_settings(static_cast<gnutls_session_t>(info->tls_session),
                                       self->tls_settings);
    }

    // libmicrohttpd calls this once the headers are in (nothing of a body is read yet), then
    // for each piece of a body, then once more at its end.
    static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url,
                                 const char* method, const char* version,
                                 const char* /*upload_data*/, size_t* upload_data_size,
                                 void** req_cls) {
        auto* self = static_cast<Impl*>(cls);
        auto* state = static_cast<RequestState*>(*req_cls);
        if (state == nullptr) return MHD_NO;
        // A body is never used: what arrives of it (only ever a small one, see admit) is dropped.
        if (*upload_data_size != 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (state->answered) return MHD_YES;
        Request request{connection, method != nullptr ? method : "", url != nullptr ? url : "",
                        version != nullptr ? version : "", state};
        // Without a body the answer comes on the next call (at once): answered on the first,
        // libmicrohttpd would close the connection, which keep-alive clients should keep. A
        // request with a body is answered on the first, before any of it is read.
        if (!state->headers_seen) {
            state->headers_seen = true;
            if (!announces_body(request)) return MHD_YES;
        }
        const auto policy = self->current_policy();
        if (state->deferred) return self->answer_deferred(request, *policy);

        Response r;
        try {
            r = admit(request, *policy);
            // Oversized requests end their connection: what comes next on it is not trusted
            // to be a request.
            if (r.status == 0 && header_bytes(request) > kMaxRequestHeaderBytes) {
                r = text(431, "request header fields too large");
                r.headers.emplace_back(MHD_HTTP_HEADER_CONNECTION, "close");
            }
            if (r.status == 0 && has_large_body(request)) {
                r = text(413, "request body too large");
                r.headers.emplace_back(MHD_HTTP_HEADER_CONNECTION, "close");
            }
            if (r.status == 0) r = self->routes.route(request);
            if (r.deferred) {
                r = self->defer(request, std::move(r.deferred));
                if (r.status == 0) return MHD_YES;  // parked until the answer is made
            }
        } catch (const std::exception& e) {
            r = text(500, std::string("internal error: ") + e.what());
        } catch (...) {
            r = text(500, "internal error");
        }
        state->answered = true;
        return self->send(request, std::move(r), policy->headers);
    }

    // The rate limit, then basic auth. Status 0: the request may go on to its route.
    static Response admit(const Request& request, const AccessPolicy& policy) {
        const std::string client = client_address(request.connection);
        if (const auto wait = policy.limiter->acquire(client)) {
            Response r = text(429, "too many requests");
            r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
            log::debug("HTTP request refused: rate limit", {{"client", client}});
            return r;
        }
        if (!policy.auth->disabled()) {
            const char* authorization = request.header(MHD_HTTP_HEADER_AUTHORIZATION);
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

    // Queues `r` with the security headers. A written body (r.writer) is sent chunk by chunk
    // while a background thread writes it, so it never sits in memory whole; for an HTTP/1.0
    // client it is written whole first, for its Content-Length. A HEAD answer gets the headers
    // only, and the body is not written at all.
    MHD_Result send(const Request& request, Response r, const Headers& security) {
        ResponsePtr response;
        if (r.writer && request.head()) {
            // The headers a GET would get (chunked, no length); the body is never written.
            response.reset(MHD_create_response_from_callback(
                MHD_SIZE_UNKNOWN, 1024,
                [](void*, uint64_t, char*, size_t) -> ssize_t {
                    return MHD_CONTENT_READER_END_OF_STREAM;
                },
                nullptr, nullptr));
        } else if (r.writer && request.takes_chunked()) {
            std::string prefix = std::move(r.body);
            auto writer = std::move(r.writer);
            response.reset(StreamedBody::make_response(
                request.connection,
                [prefix = std::move(prefix), writer = std::move(writer)](prom::StreamedText& out) {
                    out.text() = prefix;
                    writer(out);
                },
                background, parked));
        } else {
            if (r.writer) {
                prom::StreamedText out;
                out.text() = std::move(r.body);
                try {
                    r.writer(out);
                    r.body = std::move(out).take();
                } catch (const std::exception& e) {
                    log::error("HTTP response body not written", {{"error", e.what()}});
                    r = text(500, "internal error: response body not written");
                }
            }
            // The body moves into the response; libmicrohttpd frees it with the response.
            auto body = std::make_unique<std::string>(std::move(r.body));
            response.reset(MHD_create_response_from_buffer_with_free_callback_cls(
                body->size(), body->data(),
                [](void* owned) {
                    const std::unique_ptr<std::string> free(static_cast<std::string*>(owned));
                },
                body.get()));
            if (response) (void)body.release();
        }
        if (!response) return MHD_NO;
        MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONTENT_TYPE,
                                std::string(r.content_type).c_str());
        for (const Headers* list : std::array<const Headers*, 2>{&security, &r.headers}) {
            for (const auto& [name, value] : *list)
                MHD_add_response_header(response.get(), name.c_str(), value.c_str());
        }
        return MHD_queue_response(request.connection, static_cast<unsigned>(r.status),
                                  response.get());
    }

    // Parks the connection and makes the answer with `work` on a background thread. Status 0:
    // parked; else the answer (the server stops).
    Response defer(const Request& request, std::function<Response()> work) {
        auto job = std::make_shared<DeferredJob>(request.connection);
        parked.add(job);
        if (!job->park()) return text(503, "shutting down");
        request.state->deferred = job;
        background.start([job, work = std::move(work)] {
            Response r;
            try {
                r = work();
            } catch (const std::exception& e) {
                r = text(500, std::string("internal error: ") + e.what());
            } catch (...) {
                r = text(500, "internal error");
            }
            {
                MutexLock lock(job->mutex);
                job->done = true;
                job->result = std::move(r);
            }
            job->unpark();
        });
        return Response{0, kTextType, {}, {}};
    }

    // The connection is back: its answer is made, or the server stops.
    MHD_Result answer_deferred(const Request& request, const AccessPolicy& policy) {
        RequestState* state = request.state;
        const std::shared_ptr<DeferredJob> job = std::move(state->deferred);
        state->answered = true;
        Response r;
        {
            MutexLock lock(job->mutex);
            r = job->done ? std::move(job->result) : text(503, "shutting down");
        }
        return send(request, std::move(r), policy.headers);
    }
};

HttpServer::HttpServer(const HttpServerOptions& options, HttpHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(hooks), options)) {
    const Endpoint& listen = options.listen;
    const std::string where = listen.address.empty()
                                  ? ":" + std::to_string(listen.port)
                                  : Endpoint{listen.address, listen.port}.to_string();
    auto fail = [&where](const std::string& reason) {
        return std::runtime_error("cannot listen on " + where + ": " + reason);
    };

    // Internal epoll threads; connections are parked (suspended) while a /probe or a /metrics
    // body works elsewhere.
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    std::optional<SocketAddress> address;
    if (listen.address.empty()) {
        flags |= MHD_USE_DUAL_STACK;  // every address, IPv4 and IPv6, on one socket
    } else {
        address = socket_address(listen.address, listen.port);
        if (!address) throw fail("not an IP address");
        if (address->family() == AF_INET6) flags |= MHD_USE_IPv6;
    }

    Impl& impl = *impl_;
    std::vector<MHD_OptionItem> items;
    if (options.web.tls) {
        // The same checks and messages as at load (tls_context), then GnuTLS gets the files.
        TlsSetupError error;
        if (!make_tls_context(*options.web.tls, &error))
            throw fail("tls_server_config." + error.key + ": " + error.message);
        std::string read_error;
        impl.tls_cert_pem = read_file(options.web.tls->cert_file, &read_error);
        impl.tls_key_pem = read_file(options.web.tls->key_file, &read_error);
        if (!options.web.tls->client_ca_file.empty())
            impl.tls_trust_pem = read_file(options.web.tls->client_ca_file, &read_error);
        if (!read_error.empty()) throw fail(read_error);
        impl.tls_priorities = gnutls_priorities(*options.web.tls);
        impl.tls_settings = tls_session_settings(*options.web.tls);
        flags |= MHD_USE_TLS;
        items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, impl.tls_cert_pem.data()});
        items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, impl.tls_key_pem.data()});
        items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, impl.tls_priorities.data()});
        if (!impl.tls_trust_pem.empty())
            items.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, impl.tls_trust_pem.data()});
    }
    const auto timeout_seconds = static_cast<intptr_t>(
        std::max<long long>(1, (options.request_timeout.count() + 999) / 1000));
    const unsigned threads = std::max(1u, options.threads);
    if (threads > 1) items.push_back({MHD_OPTION_THREAD_POOL_SIZE, threads, nullptr});
    // A connection idle this long (a request that does not arrive, a client that reads
    // nothing) is closed.
    items.push_back({MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds, nullptr});
    items.push_back({MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, nullptr});
    items.push_back({MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxConnectionsPerClient, nullptr});
    items.push_back({MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, nullptr});
    if (address) items.push_back({MHD_OPTION_SOCK_ADDR, 0, &address->storage});
    items.push_back({MHD_OPTION_END, 0, nullptr});

    using LoggerFn = void (*)(void*, const char*, va_list);
    using UriFn = void* (*)(void*, const char*, MHD_Connection*);
    using CompletedFn = void (*)(void*, MHD_Connection*, void**, MHD_RequestTerminationCode);
    using NotifyFn = void (*)(void*, MHD_Connection*, void**, MHD_ConnectionNotificationCode);
    const auto start = [&](unsigned with_flags) {
        return MHD_start_daemon(
            with_flags, listen.port, nullptr, nullptr, &Impl::on_request, impl_.get(),
            MHD_OPTION_EXTERNAL_LOGGER, static_cast<LoggerFn>(&Impl::log_message), impl_.get(),
            MHD_OPTION_URI_LOG_CALLBACK, static_cast<UriFn>(&Impl::on_uri), impl_.get(),
            MHD_OPTION_NOTIFY_COMPLETED, static_cast<CompletedFn>(&Impl::on_completed), impl_.get(),
            MHD_OPTION_NOTIFY_CONNECTION, static_cast<NotifyFn>(&Impl::on_connection), impl_.get(),
            MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
    };
    impl.daemon.reset(start(flags));
    // "Every address" on a host without IPv6: every IPv4 address.
    if (!impl.daemon && listen.address.empty())
        impl.daemon.reset(start(flags & ~static_cast<unsigned>(MHD_USE_DUAL_STACK)));
    if (!impl.daemon) {
        std::string reason;
        {
            MutexLock lock(impl.log_mutex);
            reason = impl.last_log;
        }
        throw fail(reason.empty() ? "the HTTP server did not start" : reason);
    }
    const MHD_DaemonInfo* bound = MHD_get_daemon_info(impl.daemon.get(), MHD_DAEMON_INFO_BIND_PORT);
    if (bound == nullptr || bound->port == 0) throw fail("no bound port");
    impl.port = bound->port;
}

HttpServer::~HttpServer() {
    if (!impl_) return;
    if (impl_->daemon) stop(std::chrono::hours(1));
    // Background threads may still use the Impl: the process is about to exit (see stop()).
    if (impl_->abandoned) (void)impl_.release();
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
    if (!impl_->daemon) return true;
    // Parked connections come back (libmicrohttpd must not stop with suspended connections)
    // and their work is told to end; one parked from now on is cancelled at once. The event
    // threads never wait on a client, so the daemon stops at once, closing its listening
    // socket. No MHD_quiesce_daemon first: with 0.9.75's internal epoll thread it aborted the
    // process once in CI ("Failed to remove listen FD from epoll set": its epoll_ctl removing
    // the listening socket from the set that thread waits on failed), and nothing here needs
    // it.
    impl_->parked.cancel_all();
    impl_->daemon.reset();
    if (impl_->background.join_all(grace)) return true;
    impl_->abandoned = true;
    return false;
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
