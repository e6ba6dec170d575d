// The HTTP server on 127.0.0.1:0 with fake hooks, fetched with libcurl: every route, its status
// code, content type, body and security headers.
#include <nlohmann/json.hpp>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <stdexcept>
#include <string>

#include "../exporters/fixtures.hpp"
#include "../exporters/http_client.hpp"
#include "exporters/http_server.hpp"

using namespace soawatch;
using namespace soawatch::test;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

ZoneStatus zone_example() {
    ZoneStatus z = zone_in_sync();
    z.zone = "example.test.";
    return z;
}

struct FakeAgent {
    std::atomic<bool> ready{false};
    std::atomic<int> reloads{0};
    std::atomic<bool> reload_ok{true};
    std::mutex mutex;
    std::string probed_zone;
    std::optional<Endpoint> probed_primary;
    std::optional<std::string> probe_error;  // set: the probe hook fails with it (status 503)
    SnapshotPtr snapshot =
        std::make_shared<Snapshot>(snapshot_of({zone_in_sync(), zone_behind(), zone_example()}));

    HttpHooks hooks() {
        HttpHooks h;
        h.snapshot = [this] { return snapshot; };
        h.render_metrics = [] { return std::string("soawatch_ready 1\n"); };
        h.ready = [this] { return ready.load(); };
        h.reload = [this] {
            ++reloads;
            return reload_ok ? ReloadResult{true, ""}
                             : ReloadResult{false, "soawatch.yml:3: zones: must be a list"};
        };
        h.probe = [this](const std::string& zone, const std::optional<Endpoint>& primary,
                         std::string* error, int* status) -> std::optional<std::string> {
            std::lock_guard lock(mutex);
            probed_zone = zone;
            probed_primary = primary;
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

struct Fixture {
    FakeAgent agent;
    HttpServer server{HttpServerOptions{Endpoint{"127.0.0.1", 0}, 2}, agent.hooks()};
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(server.port()) + path;
    }
};

void check_security_headers(const HttpReply& r) {
    CHECK(r.header("content-security-policy") == kCsp);
    CHECK(r.header("x-content-type-options") == "nosniff");
    CHECK(r.header("referrer-policy") == "no-referrer");
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

    const HttpReply css = http_request(f.url("/static/soawatch.css"));
    CHECK(css.status == 200);
    CHECK(css.header("content-type") == "text/css; charset=utf-8");
    CHECK(css.body.find("section.zone") != std::string::npos);
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
        // Debian's civetweb 1.15 is built without IPv6: the reason must say so.
        WARN(e.what());
        CHECK(std::string(e.what()).find("IPv6") != std::string::npos);
    }
}
