// The status page: HTML escaping of everything from DNS or config, urgency order, the pieces an
// operator reads, and (when chromium is installed) what a real browser builds from it.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "../exporters/fixtures.hpp"
#include "exporters/api/status_page.hpp"
#include "exporters/http/http_server.hpp"

using namespace soawatch;
using namespace soawatch::test;

namespace {

bool contains(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string::npos;
}

// A zone and a nameserver whose names carry markup, as a hostile DNS answer or config could.
ZoneStatus zone_hostile() {
    ZoneStatus z = zone_in_sync();
    z.zone = "<script>alert(1)</script>.test.";
    z.servers[1].target.nameserver = "ns\"1\"&<script>x</script>.test.";
    z.servers[2].state = ServerState::unusable;
    z.servers[2].error = ProbeError::malformed;
    z.servers[2].error_detail = "<img src=x onerror=alert(2)>";
    z.servers[2].soa.reset();
    z.reasons = {"it's <b>bad</b>"};
    z.unresolved_nameservers = {"<ns3>.test. (NXDOMAIN)"};
    z.discovery_error = "\"quoted\" & <tagged>";
    z.verdict = Verdict::warning;
    z.consistent = false;
    return z;
}

ZoneStatus zone_named(std::string name, Verdict verdict, bool consistent) {
    ZoneStatus z = zone_in_sync();
    z.zone = std::move(name);
    z.verdict = verdict;
    z.consistent = consistent;
    return z;
}

}  // namespace

TEST_CASE("page: names and details from DNS are HTML-escaped", "[exporters][page]") {
    const std::string page = render_status_page(snapshot_of({zone_hostile(), zone_behind()}));
    CHECK(contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;.test."));
    CHECK(contains(page, "ns&quot;1&quot;&amp;&lt;script&gt;x&lt;/script&gt;.test."));
    CHECK(contains(page, "malformed: &lt;img src=x onerror=alert(2)&gt;"));
    CHECK(contains(page, "it&#39;s &lt;b&gt;bad&lt;/b&gt;"));
    CHECK(contains(page, "&lt;ns3&gt;.test. (NXDOMAIN)"));
    CHECK(contains(page, "&quot;quoted&quot; &amp; &lt;tagged&gt;"));
    CHECK_FALSE(contains(page, "<script"));
    CHECK_FALSE(contains(page, "<img"));
    CHECK_FALSE(contains(page, "<b>bad"));
    // Strict CSP: no inline style or script of our own either.
    CHECK_FALSE(contains(page, "style="));
    CHECK_FALSE(contains(page, "<style"));
}

TEST_CASE("page: head, stylesheet and refresh", "[exporters][page]") {
    const std::string page = render_status_page(snapshot_of({zone_in_sync()}));
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(contains(page, "<meta http-equiv=\"refresh\" content=\"15\">"));
    CHECK(contains(page, "<link rel=\"stylesheet\" href=\"/static/soawatch.css\">"));
    CHECK(contains(page, "<meta charset=\"utf-8\">"));
    CHECK(contains(kStatusPageCss, ".badge.sync"));
}

TEST_CASE("page: out-of-sync and critical zones come first", "[exporters][page]") {
    const std::string page = render_status_page(snapshot_of({
        zone_named("a-ok.test.", Verdict::ok, true),
        zone_named("b-unknown.test.", Verdict::unknown, false),
        zone_named("c-warning.test.", Verdict::warning, false),
        zone_named("d-critical.test.", Verdict::critical, false),
        zone_named("e-ok.test.", Verdict::ok, true),
        zone_named("f-critical.test.", Verdict::critical, true),
    }));
    const auto at = [&](const char* name) { return page.find(std::string(">") + name + "<"); };
    for (const char* name : {"a-ok.test.", "b-unknown.test.", "c-warning.test.", "d-critical.test.",
                             "e-ok.test.", "f-critical.test."})
        REQUIRE(at(name) != std::string::npos);
    CHECK(at("d-critical.test.") < at("f-critical.test."));
    CHECK(at("f-critical.test.") < at("c-warning.test."));
    CHECK(at("c-warning.test.") < at("b-unknown.test."));
    CHECK(at("b-unknown.test.") < at("a-ok.test."));
    CHECK(at("a-ok.test.") < at("e-ok.test."));
    // Summary: 6 zones, 2 critical, 1 unknown.
    CHECK(contains(page, "<span class=\"count\">6</span> zones"));
    CHECK(contains(page, "2 critical</span>"));
    CHECK(contains(page, "<span class=\"count\">1</span> unknown"));
}

TEST_CASE("page: server rows say what is wrong", "[exporters][page]") {
    const std::string page = render_status_page(snapshot_of({zone_behind(), zone_in_sync()}));
    CHECK(contains(page, "<span class=\"badge drift\">behind (2) for 30s</span>"));
    CHECK(contains(page, "<span class=\"badge down\">unusable</span>"));
    CHECK(contains(page, "<span class=\"badge sync\">in sync</span>"));
    CHECK(contains(page, "<span class=\"badge sync\">reference</span>"));
    CHECK(contains(page, "timeout: no answer after 3 tries (4 checks in a row)"));
    CHECK(contains(page, "<b>2024050103</b> (newest seen)"));
    CHECK(contains(page, "<b>2024050101</b> (from the primary)"));
    CHECK(contains(page, ">1.5 ms<"));
    CHECK(contains(page, ">2.5s<"));  // last propagation of ns1.in-sync.test.
    CHECK(contains(page, "hidden primary"));
    CHECK(contains(page, "changed <span title=\"2024-05-01T11:59:30Z\">30s ago</span>"));
}

TEST_CASE("page: firing alerts come first, escaped, critical before warning", "[exporters][page]") {
    AlertsSnapshot alerts;
    const auto alert = [](std::string name, std::string severity, std::string summary,
                          AlertState state) {
        Alert a;
        a.labels = {{"alertname", std::move(name)}, {"severity", std::move(severity)}};
        a.summary = std::move(summary);
        a.state = state;
        a.firing_since = fixture_now() - std::chrono::seconds(90);
        return a;
    };
    alerts.alerts = {
        alert("NameserverBehind", "warning", "ns1 <b>is</b> behind", AlertState::firing),
        alert("PrimaryUnreachable", "critical", "primary down", AlertState::firing),
        alert("NameserverLame", "warning", "soon", AlertState::pending)};
    const std::string page = render_status_page(snapshot_of({zone_in_sync()}), &alerts);
    CHECK(contains(page, "<h2>2 alerts firing<span class=\"since\">1 pending</span></h2>"));
    CHECK(contains(page, "ns1 &lt;b&gt;is&lt;/b&gt; behind"));
    CHECK(page.find("PrimaryUnreachable") < page.find("NameserverBehind"));
    CHECK_FALSE(contains(page, ">soon<"));
    CHECK(contains(page, "firing for 1m 30s"));
    CHECK(page.find("alerts firing") < page.find(">in-sync.test.<"));
    // Nothing pending or firing: no panel.
    CHECK_FALSE(contains(render_status_page(snapshot_of({zone_in_sync()}), nullptr), "firing"));
    AlertsSnapshot none;
    CHECK_FALSE(
        contains(render_status_page(snapshot_of({zone_in_sync()}), &none), "alerts firing"));
}

TEST_CASE("page: empty and very large snapshots", "[exporters][page]") {
    const std::string empty = render_status_page(snapshot_of({}));
    CHECK(contains(empty, "No zones are being watched yet."));

    StatusPageOptions options;
    options.max_zone_sections = 1;
    const std::string capped =
        render_status_page(snapshot_of({zone_in_sync(), zone_behind()}), nullptr, options);
    CHECK(contains(capped, ">behind.test.<"));
    CHECK_FALSE(contains(capped, ">in-sync.test.<"));
    CHECK(contains(capped, "1 more zones, all OK, not shown."));
}

TEST_CASE("page: headless chromium renders DNS markup as text", "[exporters][page][browser]") {
    const std::string script =
        std::string(SOAWATCH_SOURCE_DIR) + "/tests/exporters/page_in_browser.sh";
    auto snapshot = std::make_shared<const Snapshot>(snapshot_of({zone_hostile(), zone_behind()}));
    HttpHooks hooks;
    hooks.snapshot = [snapshot] { return snapshot; };
    HttpServer server(HttpServerOptions{Endpoint{"127.0.0.1", 0}, 2}, hooks);
    const std::string command =
        "bash " + script + " http://127.0.0.1:" + std::to_string(server.port()) + "/";
    const int status = std::system(command.c_str());
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        WARN("SKIPPED: chromium is not installed");
        return;
    }
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("page: the transfer audit line, escaped", "[exporters][page]") {
    ZoneStatus z = zone_in_sync();
    auto audit = std::make_shared<TransferAudit>();
    audit->at = Clock::now();
    TransferObservation refused;
    refused.target = {"", "192.0.2.1", 53};
    refused.result = TransferResult::refused;
    TransferObservation open;
    open.target = {"<b>ns1.in-sync.test.", "192.0.2.11", 53};
    open.result = TransferResult::open;
    TransferObservation silent = refused;
    silent.target = {"ns2.in-sync.test.", "192.0.2.12", 53};
    silent.result = TransferResult::timeout;
    audit->axfr = {refused, open, silent};
    audit->signed_ixfr = refused;
    audit->signed_ixfr->result = TransferResult::badsig;
    z.transfer = audit;
    const std::string page = render_status_page(snapshot_of({z}));
    CHECK(page.find("transfer audit ") != std::string::npos);
    CHECK(page.find(": AXFR refused by 1 of 3 &middot; <b class=\"open\">open at &lt;b&gt;ns1.in-"
                    "sync.test. (192.0.2.11)</b> &middot; <b>timeout at ns2.in-sync.test. "
                    "(192.0.2.12)</b> &middot; signed IXFR of the primary: <b class=\"open\">"
                    "badsig</b></p>") != std::string::npos);
    CHECK(render_status_page(snapshot_of({zone_in_sync()})).find("transfer audit") ==
          std::string::npos);
}
