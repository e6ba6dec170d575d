// The HTTP server on 127.0.0.1:0 with fake hooks, fetched with libcurl: every route, its status
// code, content type, body and security headers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../exporters/fixtures.hpp"
#include "../exporters/http_client.hpp"
#include "../support/test_certs.hpp"
#include "exporters/http/http_server.hpp"

using namespace soawatch;
using namespace soawatch::test;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

ZoneStatus zone_example() {
    ZoneStatus z = zone_in_sync();
    z.zone = "example.test.";
    return z;
}

struct FakeAgent {
    std::atomic<bool> ready{false};
    std::atomic<int> reloads{0};
    std::atomic<bool> reload_ok{true};
    std::atomic<int> filler_lines{0};  // /metrics lines after "soawatch_ready 1"
    std::mutex mutex;
    std::string probed_zone;
    std::optional<Endpoint> probed_primary;
    std::chrono::milliseconds probed_deadline{-1};
    std::optional<std::string> probe_error;  // set: the probe hook fails with it (status 503)
    SnapshotPtr snapshot =
        std::make_shared<Snapshot>(snapshot_of({zone_in_sync(), zone_behind(), zone_example()}));

    HttpHooks hooks() {
        HttpHooks h;
        h.snapshot = [this] { return snapshot; };
        h.write_metrics = [this](prom::StreamedText& out) {
            out.text() += "soawatch_ready 1\n";
            for (int i = 0; i < filler_lines; ++i) {
                out.text() += "soawatch_filler{n=\"" + std::to_string(i) + "\"} 1\n";
                if (!out.flush_if_full()) return;
            }
        };
        h.ready = [this] { return ready.load(); };
        h.reload = [this] {
            ++reloads;
            return reload_ok ? ReloadResult{true, ""}
                             : ReloadResult{false, "soawatch.yml:3: zones: must be a list"};
        };
        h.probe = [this](const std::string& zone, const std::optional<Endpoint>& primary,
                         std::chrono::milliseconds deadline, std::string* error,
                         int* status) -> std::optional<std::string> {
            std::lock_guard lock(mutex);
            probed_zone = zone;
            probed_primary = primary;
            probed_deadline = deadline;
            if (probe_error) {
                *error = *probe_error;
                *status = 503;
                return std::nullopt;
            }
            return "soawatch_zone_status{zone=\"" + zone + "\"} 0\n";
        };
        return h;
    }
};

HttpServerOptions local_options(WebConfig web = {}) {
    HttpServerOptions options{Endpoint{"127.0.0.1", 0}, 2};
    options.enable_lifecycle = true;
    options.web = std::move(web);
    return options;
}

struct Fixture {
    explicit Fixture(WebConfig web = {}) : server(local_options(std::move(web)), agent.hooks()) {}
    FakeAgent agent;
    HttpServer server;
    std::string url(const std::string& path) const {
        return std::string(server.tls() ? "https" : "http") +
               "://127.0.0.1:" + std::to_string(server.port()) + path;
    }
};

void check_security_headers(const HttpReply& r) {
    CHECK(r.header("content-security-policy") == kCsp);
    CHECK(r.header("x-content-type-options") == "nosniff");
    CHECK(r.header("referrer-policy") == "no-referrer");
    CHECK(r.header("x-frame-options") == "DENY");
    CHECK(r.header("cache-control") == "no-store");
    CHECK(r.header("access-control-allow-origin").empty());
}

// TLS with the test server certificate, nothing else.
WebConfig tls_web(const CertificateDir& dir) {
    WebConfig web;
    web.tls = TlsServerConfig{};
    web.tls->cert_file = dir.certs().server_cert;
    web.tls->key_file = dir.certs().server_key;
    return web;
}

// Sends `request` on a plain TCP connection and returns all the server wrote back.
std::string raw_exchange(uint16_t port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
            reply.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return reply;
}

// "U*U" (the crypt_blowfish test vector, cost 5).
const std::string kPrometheusHash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

RequestOptions with(std::string user_password, std::string method = "GET") {
    RequestOptions o;
    o.user_password = std::move(user_password);
    o.method = std::move(method);
    return o;
}

}  // namespace

TEST_CASE("http: binds 127.0.0.1:0 and reports the port", "[exporters][http]") {
    Fixture f;
    CHECK(f.server.port() != 0);
    const HttpReply r = http_request(f.url("/healthz"));
    CHECK(r.status == 200);
    CHECK(r.body == "ok\n");
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(r.header("content-length") == "3");
    check_security_headers(r);

    const HttpReply head = http_request(f.url("/healthz"), "HEAD");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
}

TEST_CASE("http: /readyz follows the ready hook", "[exporters][http]") {
    Fixture f;
    CHECK(http_request(f.url("/readyz")).status == 503);
    f.agent.ready = true;
    const HttpReply r = http_request(f.url("/readyz"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
}

TEST_CASE("http: /metrics", "[exporters][http]") {
    Fixture f;
    const HttpReply r = http_request(f.url("/metrics"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(r.body == "soawatch_ready 1\n");
    CHECK(http_request(f.url("/metrics"), "POST").status == 405);
    CHECK(http_request(f.url("/metrics"), "POST").header("allow") == "GET, HEAD");
}

TEST_CASE("http: a large /metrics body is sent chunked while it is written, whole to HTTP/1.0",
          "[exporters][http]") {
    Fixture f;
    f.agent.filler_lines = 40000;  // ~1.2 MB: several pieces
    std::string expected = "soawatch_ready 1\n";
    for (int i = 0; i < 40000; ++i)
        expected += "soawatch_filler{n=\"" + std::to_string(i) + "\"} 1\n";

    const HttpReply r = http_request(f.url("/metrics"));
    CHECK(r.status == 200);
    CHECK(r.header("transfer-encoding") == "chunked");
    CHECK(r.header("content-length").empty());
    CHECK(r.body == expected);

    const std::string reply =
        raw_exchange(f.server.port(), "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    const auto end_of_headers = reply.find("\r\n\r\n");
    REQUIRE(end_of_headers != std::string::npos);
    const std::string headers = reply.substr(0, end_of_headers);
    CHECK(headers.find("Content-Length: " + std::to_string(expected.size())) != std::string::npos);
    CHECK(headers.find("Transfer-Encoding") == std::string::npos);
    CHECK(reply.substr(end_of_headers + 4) == expected);

    const HttpReply head = http_request(f.url("/metrics"), "HEAD");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
}

TEST_CASE("http: the status page and its stylesheet", "[exporters][http]") {
    Fixture f;
    const HttpReply page = http_request(f.url("/"));
    CHECK(page.status == 200);
    CHECK(page.header("content-type") == "text/html; charset=utf-8");
    check_security_headers(page);
    CHECK(page.body.find("<link rel=\"stylesheet\" href=\"/static/soawatch.css\">") !=
          std::string::npos);
    CHECK(page.body.find("behind.test.") != std::string::npos);
    CHECK(page.body.find("<script") == std::string::npos);
    // The query string reaches the page: a filter by name and state.
    const HttpReply filtered = http_request(f.url("/?q=EXAMPLE&state=ok"));
    CHECK(filtered.status == 200);
    CHECK(filtered.body.find(">example.test.<") != std::string::npos);
    CHECK(filtered.body.find(">behind.test.<") == std::string::npos);
    CHECK(filtered.body.find("value=\"example\"") != std::string::npos);

    const HttpReply css = http_request(f.url("/static/soawatch.css"));
    CHECK(css.status == 200);
    CHECK(css.header("content-type") == "text/css; charset=utf-8");
    CHECK(css.body.find("details.zone") != std::string::npos);
    check_security_headers(css);
}

TEST_CASE("http: /api/v1/zones and one zone", "[exporters][http]") {
    Fixture f;
    const HttpReply all = http_request(f.url("/api/v1/zones"));
    CHECK(all.status == 200);
    CHECK(all.header("content-type") == "application/json");
    const auto doc = nlohmann::json::parse(all.body);
    REQUIRE(doc["zones"].size() == 3);
    CHECK(doc["zones"][0]["zone"] == "behind.test.");
    CHECK(doc["generated_at"] == "2024-05-01T12:00:00Z");

    for (const char* path : {"/api/v1/zones/EXAMPLE.test", "/api/v1/zones/example.test.",
                             "/api/v1/zones/Example.Test."}) {
        INFO(path);
        const HttpReply one = http_request(f.url(path));
        CHECK(one.status == 200);
        CHECK(one.header("content-type") == "application/json");
        CHECK(nlohmann::json::parse(one.body)["zone"] == "example.test.");
    }

    const HttpReply missing = http_request(f.url("/api/v1/zones/unknown.test"));
    CHECK(missing.status == 404);
    CHECK(missing.header("content-type") == "application/json");
    CHECK(nlohmann::json::parse(missing.body)["error"] == "zone not watched: unknown.test.");
}

TEST_CASE("http: /-/reload", "[exporters][http]") {
    Fixture f;
    const HttpReply ok = http_request(f.url("/-/reload"), "POST");
    CHECK(ok.status == 200);
    CHECK(f.agent.reloads == 1);

    f.agent.reload_ok = false;
    const HttpReply bad = http_request(f.url("/-/reload"), "POST");
    CHECK(bad.status == 500);
    CHECK(bad.body == "soawatch.yml:3: zones: must be a list\n");
    CHECK(f.agent.reloads == 2);

    const HttpReply get = http_request(f.url("/-/reload"));
    CHECK(get.status == 405);
    CHECK(get.header("allow") == "POST");
    CHECK(f.agent.reloads == 2);

    const HttpReply big = http_request(f.url("/-/reload"), "POST", std::string(100000, 'x'));
    CHECK(big.status == 413);
    CHECK(f.agent.reloads == 2);
}

TEST_CASE("http: /probe", "[exporters][http]") {
    Fixture f;
    HttpReply r = http_request(f.url("/probe?zone=example.test&primary=192.0.2.1:5300"));
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(r.body == "soawatch_zone_status{zone=\"example.test\"} 0\n");
    {
        std::lock_guard lock(f.agent.mutex);
        CHECK(f.agent.probed_zone == "example.test");
        REQUIRE(f.agent.probed_primary);
        CHECK(*f.agent.probed_primary == Endpoint{"192.0.2.1", 5300});
    }

    r = http_request(f.url("/probe?zone=a%2Eb.test"));
    CHECK(r.status == 200);
    {
        std::lock_guard lock(f.agent.mutex);
        CHECK(f.agent.probed_zone == "a.b.test");
        CHECK_FALSE(f.agent.probed_primary);
    }

    r = http_request(f.url("/probe"));
    CHECK(r.status == 400);
    CHECK(r.body == "missing query parameter: zone\n");

    r = http_request(f.url("/probe?zone=example.test&primary=ns1.example.test"));
    CHECK(r.status == 400);
    CHECK(r.body.rfind("invalid primary: ", 0) == 0);
    CHECK(r.body.find('\n') == r.body.size() - 1);  // one line

    r = http_request(f.url("/probe?zone=" + std::string(3000, 'a')));
    CHECK(r.status == 400);

    {
        std::lock_guard lock(f.agent.mutex);
        f.agent.probe_error = "too many concurrent probes";
    }
    r = http_request(f.url("/probe?zone=example.test"));
    CHECK(r.status == 503);
    CHECK(r.body == "too many concurrent probes\n");
}

TEST_CASE("http: anything else is 404, no files are served", "[exporters][http]") {
    Fixture f;
    for (const char* path : {"/nope", "/index.html", "/static/", "/static/../../etc/passwd",
                             "/%2e%2e/etc/passwd", "/api/v2/zones", "/metricsx"}) {
        INFO(path);
        const HttpReply r = http_request(f.url(path));
        CHECK(r.status == 404);
        CHECK(r.body.find("root:") == std::string::npos);
    }
}

TEST_CASE("http: listen errors are one line", "[exporters][http]") {
    Fixture f;
    FakeAgent other;
    try {
        HttpServer second(HttpServerOptions{Endpoint{"127.0.0.1", f.server.port()}, 1},
                          other.hooks());
        FAIL("a second server bound the same port");
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        CHECK(message.rfind("cannot listen on 127.0.0.1:" + std::to_string(f.server.port()), 0) ==
              0);
        CHECK(message.find('\n') == std::string::npos);
    }
}

TEST_CASE("http: empty listen address means all addresses", "[exporters][http]") {
    FakeAgent agent;
    HttpServer server(HttpServerOptions{Endpoint{"", 0}, 1}, agent.hooks());
    REQUIRE(server.port() != 0);
    CHECK(http_request("http://127.0.0.1:" + std::to_string(server.port()) + "/healthz").status ==
          200);
}

TEST_CASE("http: IPv6 listen address", "[exporters][http]") {
    FakeAgent agent;
    try {
        HttpServer server(HttpServerOptions{Endpoint{"::1", 0}, 1}, agent.hooks());
        CHECK(http_request("http://[::1]:" + std::to_string(server.port()) + "/healthz").status ==
              200);
    } catch (const std::runtime_error& e) {
        // Only where the machine has no IPv6 loopback.
        WARN(e.what());
        CHECK(std::string(e.what()).find("::1") != std::string::npos);
    }
}

TEST_CASE("http: /-/reload is forbidden without --web.enable-lifecycle", "[exporters][http]") {
    FakeAgent agent;
    HttpServer server(HttpServerOptions{Endpoint{"127.0.0.1", 0}, 1}, agent.hooks());
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/-/reload";
    const HttpReply post = http_request(url, "POST");
    CHECK(post.status == 403);
    CHECK(post.body == "lifecycle API is not enabled (start with --web.enable-lifecycle)\n");
    check_security_headers(post);
    const HttpReply get = http_request(url);
    CHECK(get.status == 405);
    CHECK(get.header("allow") == "POST");
    CHECK(agent.reloads == 0);
}

TEST_CASE("http: basic auth guards every path", "[exporters][http]") {
    WebConfig web;
    web.basic_auth_users = {{"prometheus", kPrometheusHash}};
    Fixture f(web);
    for (const std::string path : {"/", "/metrics", "/healthz", "/api/v1/zones",
                                   "/static/soawatch.css", "/probe?zone=a.test", "/nope"}) {
        INFO(path);
        for (const std::string& credentials :
             {std::string(), std::string("prometheus:wrong"), std::string("nobody:U*U"),
              std::string("prometheus:")}) {
            INFO(credentials);
            const HttpReply r = http_request(f.url(path), with(credentials));
            CHECK(r.status == 401);
            CHECK(r.header("www-authenticate") == "Basic realm=\"soawatch\", charset=\"UTF-8\"");
            CHECK(r.body == "unauthorized\n");
            check_security_headers(r);
        }
        const HttpReply ok = http_request(f.url(path), with("prometheus:U*U"));
        CHECK(ok.status == (path == "/nope" ? 404 : 200));
        CHECK(ok.header("www-authenticate").empty());
    }
    CHECK(http_request(f.url("/-/reload"), with("", "POST")).status == 401);
    CHECK(f.agent.reloads == 0);
    CHECK(http_request(f.url("/-/reload"), with("prometheus:U*U", "POST")).status == 200);
    CHECK(f.agent.reloads == 1);
}

TEST_CASE("http: the rate limit answers 429 with Retry-After", "[exporters][http]") {
    WebConfig web;
    web.rate_limit = RateLimit{Duration{60000}, 3};
    Fixture f(web);
    for (int i = 0; i < 3; ++i) CHECK(http_request(f.url("/healthz")).status == 200);
    const HttpReply r = http_request(f.url("/metrics"));
    CHECK(r.status == 429);
    CHECK(r.body == "too many requests\n");
    const int retry_after = std::stoi(r.header("retry-after"));
    CHECK(retry_after >= 59);
    CHECK(retry_after <= 60);
    check_security_headers(r);
}

TEST_CASE("http: the rate limit comes before authentication", "[exporters][http]") {
    WebConfig web;
    web.basic_auth_users = {{"prometheus", kPrometheusHash}};
    web.rate_limit = RateLimit{Duration{60000}, 2};
    Fixture f(web);
    CHECK(http_request(f.url("/"), with("prometheus:guess1")).status == 401);
    CHECK(http_request(f.url("/"), with("prometheus:guess2")).status == 401);
    CHECK(http_request(f.url("/"), with("prometheus:guess3")).status == 429);
}

TEST_CASE("http: oversize requests are refused", "[exporters][http]") {
    Fixture f;
    RequestOptions big_header;
    big_header.headers = {"X-Filler: " + std::string(10000, 'a')};
    const HttpReply headers = http_request(f.url("/healthz"), big_header);
    CHECK(headers.status == 431);
    CHECK(headers.body == "request header fields too large\n");
    check_security_headers(headers);

    const HttpReply uri = http_request(f.url("/healthz?" + std::string(10000, 'a')));
    CHECK(uri.status == 431);

    const HttpReply body = http_request(f.url("/healthz"), "POST", std::string(5000, 'x'));
    CHECK(body.status == 413);
    check_security_headers(body);
    CHECK(http_request(f.url("/healthz")).status == 200);

    // A body announced but not (yet) sent is not waited for: the answer comes and the
    // connection ends at once (raw_exchange reads until the server closes).
    for (const std::string& request :
         {std::string("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n") +
              std::string(100, 'x'),
          std::string("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "10\r\n")}) {
        const auto start = std::chrono::steady_clock::now();
        const std::string reply = raw_exchange(f.server.port(), request);
        CHECK(reply.find(" 413 ") != std::string::npos);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }
}

TEST_CASE("http: a request that does not arrive in time ends its connection", "[exporters][http]") {
    FakeAgent agent;
    HttpServerOptions options = local_options();
    options.request_timeout = std::chrono::milliseconds(1000);
    HttpServer server(options, agent.hooks());
    // Headers that never end, as a slow client sends them: libmicrohttpd closes the idle
    // connection without an answer (a server may close instead of sending 408, RFC 9110
    // section 15.5.9), and no thread waited for the client meanwhile.
    const std::string reply = raw_exchange(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n");
    INFO(reply);
    CHECK(reply.find(" 200 ") == std::string::npos);
    CHECK(http_request("http://127.0.0.1:" + std::to_string(server.port()) + "/healthz").status ==
          200);
}

TEST_CASE("http: any method gets an answer with the security headers", "[exporters][http]") {
    Fixture f;
    const HttpReply trace = http_request(f.url("/"), "TRACE");
    CHECK(trace.status >= 400);
    check_security_headers(trace);
}

TEST_CASE("http: no cross-origin access", "[exporters][http]") {
    Fixture f;
    RequestOptions preflight;
    preflight.method = "OPTIONS";
    preflight.headers = {"Origin: http://attacker.example", "Access-Control-Request-Method: POST"};
    const HttpReply r = http_request(f.url("/-/reload"), preflight);
    CHECK(r.status == 405);
    check_security_headers(r);
    CHECK(r.header("access-control-allow-methods").empty());
}

TEST_CASE("http: http_server_config headers are added or replace defaults", "[exporters][http]") {
    WebConfig web;
    web.headers = {{"Strict-Transport-Security", "max-age=31536000"},
                   {"X-Frame-Options", "sameorigin"}};
    Fixture f(web);
    const HttpReply r = http_request(f.url("/"));
    CHECK(r.header("strict-transport-security") == "max-age=31536000");
    CHECK(r.header("x-frame-options") == "sameorigin");
    CHECK(r.header("content-security-policy") == kCsp);
}

TEST_CASE("http: a reloaded web config changes users at once, TLS only at restart",
          "[exporters][http]") {
    Fixture f;
    CHECK(http_request(f.url("/healthz")).status == 200);
    WebConfig web;
    web.basic_auth_users = {{"prometheus", kPrometheusHash}};
    std::string why;
    CHECK(f.server.update_web_config(web, &why));
    CHECK(http_request(f.url("/healthz")).status == 401);
    CHECK(http_request(f.url("/healthz"), with("prometheus:U*U")).status == 200);

    web.tls = TlsServerConfig{};
    CHECK_FALSE(f.server.update_web_config(web, &why));
    CHECK(why == "tls_server_config changed: TLS settings take effect at restart");
    CHECK_FALSE(f.server.tls());
}

TEST_CASE("https: TLS with the configured certificate, plain HTTP refused", "[exporters][tls]") {
    CertificateDir dir;
    WebConfig web = tls_web(dir);
    web.basic_auth_users = {{"prometheus", kPrometheusHash}};
    Fixture f(web);
    REQUIRE(f.server.tls());

    RequestOptions o = with("prometheus:U*U");
    o.ca_file = dir.certs().ca_cert;
    const HttpReply ok = http_request(f.url("/metrics"), o);
    CHECK(ok.status == 200);
    CHECK(ok.body == "soawatch_ready 1\n");
    check_security_headers(ok);

    o.user_password = "prometheus:wrong";
    CHECK(http_request(f.url("/metrics"), o).status == 401);

    // Plain HTTP to the TLS port gets no HTTP answer.
    const std::string plain = "http://127.0.0.1:" + std::to_string(f.server.port()) + "/healthz";
    CHECK_THROWS(http_request(plain));
    // Nor does a client that does not trust the CA.
    RequestOptions untrusted = with("prometheus:U*U");
    untrusted.ca_file = dir.certs().client_cert;
    CHECK_THROWS(http_request(f.url("/healthz"), untrusted));
}

TEST_CASE("https: min_version is enforced", "[exporters][tls]") {
    CertificateDir dir;
    WebConfig web = tls_web(dir);
    web.tls->min_version = TlsVersion::tls13;
    Fixture f(web);
    RequestOptions o;
    o.ca_file = dir.certs().ca_cert;
    CHECK(http_request(f.url("/healthz"), o).status == 200);
    o.tls_max_version = CURL_SSLVERSION_MAX_TLSv1_2;
    CHECK_THROWS(http_request(f.url("/healthz"), o));
}

TEST_CASE("https: client certificates verified against client_ca_file", "[exporters][tls]") {
    CertificateDir dir;
    WebConfig web = tls_web(dir);
    web.tls->client_auth = ClientAuth::require_and_verify;
    web.tls->client_ca_file = dir.certs().ca_cert;
    Fixture f(web);
    RequestOptions o;
    o.ca_file = dir.certs().ca_cert;
    CHECK_THROWS(http_request(f.url("/healthz"), o));
    o.client_cert = dir.certs().client_cert;
    o.client_key = dir.certs().client_key;
    CHECK(http_request(f.url("/healthz"), o).status == 200);
}

TEST_CASE("https: a TLS setup error stops the start with one line", "[exporters][tls]") {
    CertificateDir dir;
    WebConfig web = tls_web(dir);
    web.tls->key_file = dir.certs().other_key;
    FakeAgent agent;
    try {
        HttpServer server(local_options(web), agent.hooks());
        FAIL("started with a key that does not match");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) ==
              "cannot listen on 127.0.0.1:0: tls_server_config.key_file: does not match the "
              "certificate in cert_file");
    }
}

TEST_CASE("http: /probe takes its deadline from X-Prometheus-Scrape-Timeout-Seconds",
          "[exporters][http]") {
    Fixture f;
    RequestOptions o;
    o.headers = {"X-Prometheus-Scrape-Timeout-Seconds: 10"};
    CHECK(http_request(f.url("/probe?zone=example.test"), o).status == 200);
    {
        std::lock_guard lock(f.agent.mutex);
        CHECK(f.agent.probed_deadline == std::chrono::milliseconds(9500));
    }
    CHECK(http_request(f.url("/probe?zone=example.test")).status == 200);
    {
        std::lock_guard lock(f.agent.mutex);
        CHECK(f.agent.probed_deadline == std::chrono::milliseconds(0));  // none given
    }
    o.headers = {"X-Prometheus-Scrape-Timeout-Seconds: soon"};
    const HttpReply bad = http_request(f.url("/probe?zone=example.test"), o);
    CHECK(bad.status == 400);
    CHECK(bad.body == "invalid X-Prometheus-Scrape-Timeout-Seconds\n");
}

TEST_CASE("http: probes that wait never hold up /healthz and /metrics", "[exporters][http]") {
    // Every probe waits (as on a silent nameserver) until released; more probes than the
    // server has threads.
    FakeAgent agent;
    std::mutex gate_mutex;
    std::condition_variable gate;
    bool released = false;
    std::atomic<int> waiting{0};
    HttpHooks hooks = agent.hooks();
    hooks.probe = [&](const std::string&, const std::optional<Endpoint>&, std::chrono::milliseconds,
                      std::string*, int*) -> std::optional<std::string> {
        ++waiting;
        std::unique_lock lock(gate_mutex);
        gate.wait(lock, [&] { return released; });
        return "soawatch_zone_status 0\n";
    };
    HttpServer server(local_options(), hooks);  // 2 threads
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    constexpr int kProbes = 8;
    std::vector<std::thread> probes;
    probes.reserve(kProbes);
    std::atomic<int> answered{0};
    for (int i = 0; i < kProbes; ++i) {
        probes.emplace_back([&] {
            if (http_request(base + "/probe?zone=slow.test").status == 200) ++answered;
        });
    }
    for (int i = 0; i < 500 && waiting < kProbes; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(waiting == kProbes);
    // A generous bound: the point is that they answer while every probe still waits.
    for (const char* path : {"/healthz", "/metrics", "/readyz"}) {
        INFO(path);
        const auto start = std::chrono::steady_clock::now();
        const HttpReply r = http_request(base + path);
        CHECK(r.status != 0);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    }
    CHECK(answered == 0);
    {
        std::lock_guard lock(gate_mutex);
        released = true;
    }
    gate.notify_all();
    for (auto& t : probes) t.join();
    CHECK(answered == kProbes);
}

TEST_CASE("http: refused requests are answered before their body is read", "[exporters][http]") {
    // The body is announced but never sent: an answer can only come if the server does not
    // wait for it (the connection timeout, 15 s, is far off).
    WebConfig web;
    web.basic_auth_users = {{"prometheus", kPrometheusHash}};
    web.rate_limit = RateLimit{Duration{60000}, 4};
    Fixture f(web);
    const std::string large =
        "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" +
        std::string(100, 'x');
    const std::string chunked =
        "POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n";
    for (const std::string& request : {large, chunked}) {
        const std::string reply = raw_exchange(f.server.port(), request);
        CHECK(reply.rfind("HTTP/1.1 401 ", 0) == 0);
        CHECK(reply.find("Content-Security-Policy: ") != std::string::npos);
    }
    for (int i = 0; i < 4; ++i) http_request(f.url("/healthz"));  // the bucket is empty now
    for (const std::string& request : {large, chunked}) {
        const std::string reply = raw_exchange(f.server.port(), request);
        CHECK(reply.rfind("HTTP/1.1 429 ", 0) == 0);
    }
    CHECK(f.agent.reloads == 0);
}

TEST_CASE("http: stop ends a waiting /probe and returns at once", "[exporters][http]") {
    FakeAgent agent;
    std::atomic<bool> stop_waiting{false};
    std::atomic<int> waiting{0};
    HttpHooks hooks = agent.hooks();
    hooks.probe = [&](const std::string&, const std::optional<Endpoint>&, std::chrono::milliseconds,
                      std::string* error, int* status) -> std::optional<std::string> {
        ++waiting;
        while (!stop_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        *error = "shutting down";
        *status = 503;
        return std::nullopt;
    };
    HttpServer server(local_options(), hooks);
    const std::string url =
        "http://127.0.0.1:" + std::to_string(server.port()) + "/probe?zone=slow.test";
    std::thread client([&] {
        try {
            http_request(url);
        } catch (const std::runtime_error&) {
        }
    });
    for (int i = 0; i < 500 && waiting == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(waiting == 1);
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        stop_waiting = true;  // as the agent's probe does once it is stopping
    });
    CHECK(server.stop(std::chrono::seconds(10)));
    release.join();
    client.join();
}

TEST_CASE("https: each client_auth type asks for and checks client certificates as Go does",
          "[exporters][tls]") {
    CertificateDir dir;
    RequestOptions none;
    none.ca_file = dir.certs().ca_cert;
    RequestOptions with_cert = none;
    with_cert.client_cert = dir.certs().client_cert;
    with_cert.client_key = dir.certs().client_key;
    const auto serves = [](Fixture& f, const RequestOptions& o) {
        try {
            return http_request(f.url("/healthz"), o).status == 200;
        } catch (const std::runtime_error&) {
            return false;  // refused in the handshake
        }
    };
    {
        WebConfig web = tls_web(dir);
        web.tls->client_auth = ClientAuth::request;
        Fixture f(web);
        CHECK(serves(f, none));
        CHECK(serves(f, with_cert));
    }
    {
        WebConfig web = tls_web(dir);
        web.tls->client_auth = ClientAuth::require_any;
        Fixture f(web);
        CHECK_FALSE(serves(f, none));
        CHECK(serves(f, with_cert));
    }
    {
        WebConfig web = tls_web(dir);
        web.tls->client_auth = ClientAuth::verify_if_given;
        web.tls->client_ca_file = dir.certs().ca_cert;
        Fixture f(web);
        CHECK(serves(f, none));
        CHECK(serves(f, with_cert));
    }
    {
        // Trusting only the server's own certificate: the client's is not verified.
        WebConfig web = tls_web(dir);
        web.tls->client_auth = ClientAuth::require_and_verify;
        web.tls->client_ca_file = dir.certs().server_cert;
        Fixture f(web);
        CHECK_FALSE(serves(f, none));
        CHECK_FALSE(serves(f, with_cert));
    }
    {
        WebConfig web = tls_web(dir);
        web.tls->client_auth = ClientAuth::verify_if_given;
        web.tls->client_ca_file = dir.certs().server_cert;
        Fixture f(web);
        CHECK(serves(f, none));
        CHECK_FALSE(serves(f, with_cert));
    }
}

TEST_CASE("https: max_version is enforced", "[exporters][tls]") {
    CertificateDir dir;
    WebConfig web = tls_web(dir);
    web.tls->max_version = TlsVersion::tls12;
    Fixture f(web);
    RequestOptions o;
    o.ca_file = dir.certs().ca_cert;
    const HttpReply r = http_request(f.url("/healthz"), o);
    CHECK(r.status == 200);
    o.tls_min_version = CURL_SSLVERSION_TLSv1_3;
    CHECK_THROWS(http_request(f.url("/healthz"), o));
}

TEST_CASE("http: a stopped server leaves no descriptor open", "[exporters][http]") {
    const auto open_descriptors = [] {
        return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                             std::filesystem::directory_iterator());
    };
    FakeAgent agent;
    {
        HttpServer warm_up(local_options(), agent.hooks());  // libraries' own descriptors
        CHECK(http_request("http://127.0.0.1:" + std::to_string(warm_up.port()) + "/healthz")
                  .status == 200);
    }
    const auto before = open_descriptors();
    for (int i = 0; i < 3; ++i) {
        HttpServer server(local_options(), agent.hooks());
        CHECK(
            http_request("http://127.0.0.1:" + std::to_string(server.port()) + "/healthz").status ==
            200);
        CHECK(server.stop(std::chrono::seconds(5)));
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("http: a reload, page or API answer that waits never holds up /healthz",
          "[exporters][http]") {
    FakeAgent agent;
    std::mutex gate_mutex;
    std::condition_variable gate;
    bool released = false;
    std::atomic<int> waiting{0};
    const auto wait_for_gate = [&] {
        ++waiting;
        std::unique_lock lock(gate_mutex);
        gate.wait(lock, [&] { return released; });
    };
    HttpHooks hooks = agent.hooks();
    hooks.reload = [&] {
        wait_for_gate();
        return ReloadResult{true, ""};
    };
    hooks.snapshot = [&] {
        wait_for_gate();
        return agent.snapshot;
    };
    HttpServer server(local_options(), hooks);  // 2 threads
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    const std::vector<std::pair<std::string, std::string>> slow = {
        {"POST", "/-/reload"},
        {"POST", "/-/reload"},
        {"GET", "/api/v1/zones"},
        {"GET", "/api/v1/zones/example.test"},
        {"GET", "/"}};
    std::vector<std::thread> clients;
    clients.reserve(slow.size());
    std::atomic<int> answered{0};
    for (const auto& [method, path] : slow) {
        clients.emplace_back([&, method = method, path = path] {
            if (http_request(base + path, method).status == 200) ++answered;
        });
    }
    for (int i = 0; i < 500 && waiting < static_cast<int>(slow.size()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(waiting == static_cast<int>(slow.size()));
    for (const char* path : {"/healthz", "/readyz", "/metrics", "/static/soawatch.css"}) {
        INFO(path);
        const auto start = std::chrono::steady_clock::now();
        CHECK(http_request(base + path).status != 0);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    }
    CHECK(answered == 0);
    {
        std::lock_guard lock(gate_mutex);
        released = true;
    }
    gate.notify_all();
    for (auto& t : clients) t.join();
    CHECK(answered == static_cast<int>(slow.size()));
}
