// The status page: HTML escaping of everything from DNS or config, urgency order, the pieces an
// operator reads, and (when chromium is installed) what a real browser builds from it.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../exporters/fixtures.hpp"
#include "agent/delegation_findings.hpp"
#include "exporters/api/status_page.hpp"
#include "exporters/api/status_page_zone.hpp"
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
    z.servers[1].target.edit().nameserver = "ns\"1\"&<script>x</script>.test.";
    z.servers[2].state = ServerState::unusable;
    z.servers[2].error = ProbeError::malformed;
    z.servers[2].error_detail = "<img src=x onerror=alert(2)>";
    z.servers[2].soa.reset();
    z.reasons = {"it's <b>bad</b>"};
    z.unresolved_nameservers = {{"<ns3>.test.", AddressError::nxdomain, "NXDOMAIN"}};
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
    CHECK(contains(page, "<a href=\"?state=warning\"><span class=\"count\">1</span> warning</a>"));
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
    CHECK(contains(page, "<section class=\"alerts\" id=\"alerts\">"));
    CHECK(contains(page, "<a href=\"#alerts\"><span class=\"count\">2</span> alerts firing</a>"));
    CHECK(contains(page, "ns1 &lt;b&gt;is&lt;/b&gt; behind"));
    CHECK(page.find("PrimaryUnreachable") < page.find("NameserverBehind"));
    CHECK_FALSE(contains(page, ">soon<"));
    CHECK(contains(page, "firing for 1m 30s"));
    CHECK(page.find("alerts firing") < page.find(">in-sync.test.<"));
    // Nothing pending or firing: no panel.
    CHECK_FALSE(contains(render_status_page(snapshot_of({zone_in_sync()}), nullptr), "firing"));
    // Only pending: the panel says so without the red of a firing alert.
    AlertsSnapshot pending;
    pending.alerts = {alert("NameserverLame", "warning", "soon", AlertState::pending)};
    const std::string quiet = render_status_page(snapshot_of({zone_in_sync()}), &pending);
    CHECK(contains(quiet, "<section class=\"alerts quiet\" id=\"alerts\">\n<h2>0 alerts firing"));
    CHECK_FALSE(contains(quiet, "href=\"#alerts\""));
    AlertsSnapshot none;
    CHECK_FALSE(
        contains(render_status_page(snapshot_of({zone_in_sync()}), &none), "alerts firing"));
}

TEST_CASE("page: empty and paged snapshots", "[exporters][page]") {
    const std::string empty = render_status_page(snapshot_of({}));
    CHECK(contains(empty, "No zones are being watched yet."));
    CHECK_FALSE(contains(empty, "<form"));

    PageQuery one_per_page;
    one_per_page.per_page = 1;
    const std::string first =
        render_status_page(snapshot_of({zone_in_sync(), zone_behind()}), nullptr, one_per_page);
    CHECK(contains(first, ">behind.test.<"));
    CHECK_FALSE(contains(first, ">in-sync.test.<"));
    CHECK(contains(first, "<span class=\"range\">Zones 1&ndash;1 of 2</span>"));
    CHECK(contains(first, "<span class=\"at\">page 1 of 2</span>"));
    CHECK(contains(first, "<a href=\"?per=1&amp;page=2\" rel=\"next\">next &rsaquo;</a>"));
    CHECK(contains(first, "<span class=\"off\">&lsaquo; previous</span>"));

    one_per_page.page = 2;
    const std::string second =
        render_status_page(snapshot_of({zone_in_sync(), zone_behind()}), nullptr, one_per_page);
    CHECK(contains(second, ">in-sync.test.<"));
    CHECK_FALSE(contains(second, ">behind.test.<"));
    CHECK(contains(second, "<a href=\"?per=1\" rel=\"prev\">&lsaquo; previous</a>"));
    // The summary still counts every zone.
    CHECK(contains(second, "<span class=\"count\">2</span> zones"));
}

TEST_CASE("page: one line per zone that opens to its servers", "[exporters][page]") {
    std::vector<ZoneStatus> zones;
    for (int i = 0; i < 12; ++i) {
        ZoneStatus z = zone_in_sync();
        z.zone = "ok" + std::to_string(10 + i) + ".test.";
        zones.push_back(std::move(z));
    }
    zones.push_back(zone_behind());
    const std::string page = render_status_page(snapshot_of(std::move(zones)));
    // The problem zone is open; OK zones are one closed line each.
    CHECK(contains(page, "<details class=\"zone critical\" open><summary>"));
    CHECK(contains(page, "<details class=\"zone ok\"><summary>"));
    // The line: state, name, reference serial, worst server, lag, last change, JSON.
    CHECK(contains(
        page,
        "<span class=\"c-zone zone-name\"><a href=\"?q=behind.test.\">behind.test.</a></span><span "
        "class=\"c-serial "
        "num\">2024050103</span><span class=\"c-worst\"><span class=\"mono\">"
        "198.51.100.3</span> <span class=\"badge down\">timeout</span></span><span "
        "class=\"c-lag num\">30s</span><span class=\"c-change num\"><span "
        "title=\"2024-05-01T11:59:30Z\">30s ago</span></span><a class=\"c-json\" "
        "href=\"/api/v1/zones/behind.test.\">JSON</a></summary>"));
    CHECK(contains(page, "<span class=\"c-worst\"><span class=\"none\">3 servers in sync</span>"));
    // Markup from DNS in the link to the zone's own list: percent-encoded, then escaped.
    ZoneStatus hostile = zone_in_sync();
    hostile.zone = "\\<b\\>\".test.";
    const std::string escaped = render_status_page(snapshot_of({hostile}));
    CHECK(contains(escaped, "<a href=\"?q=%5C%3Cb%5C%3E%22.test.\">\\&lt;b\\&gt;&quot;.test.</a>"));
    // Filter form: a GET form that needs no script; the state links carry their counts.
    CHECK(contains(page, "<form class=\"filter\" method=\"get\" role=\"search\">"));
    CHECK(contains(page, "<option value=\"critical\">Critical (1)</option>"));
    CHECK(contains(page, "<a href=\"?state=problems\">Problems <span class=\"n\">1</span></a>"));
    CHECK(contains(page,
                   "<a href=\"?\" class=\"current\" aria-current=\"page\">All <span "
                   "class=\"n\">13</span></a>"));
    // Summary counts link to their lists.
    CHECK(contains(page,
                   "<a href=\"?state=critical\"><span class=\"badge critical\">1 "
                   "critical</span></a>"));
    CHECK(contains(page,
                   "<a href=\"?state=out-of-sync\"><span class=\"count\">1</span> out of "
                   "sync</a>"));

    // A search that finds one zone opens it, and shows what it searched for.
    const std::string found = render_status_page(snapshot_of({zone_in_sync(), zone_behind()}),
                                                 nullptr, parse_page_query("q=IN-SYNC"));
    CHECK(contains(found, "<details class=\"zone ok\" open>"));
    CHECK(contains(found, "value=\"in-sync\""));
    CHECK(contains(found, "<a class=\"clear\" href=\"?\">clear</a>"));
    CHECK_FALSE(contains(found, ">behind.test.<"));
    // The link on a zone's name: the list filtered by that whole name, the zone open even when
    // other names contain it.
    ZoneStatus longer = zone_in_sync();
    longer.zone = "not-in-sync.test.";
    const std::string linked = render_status_page(snapshot_of({zone_in_sync(), longer}), nullptr,
                                                  parse_page_query("q=in-sync.test."));
    CHECK(contains(linked,
                   "<details class=\"zone ok\" open><summary><span class=\"c-state\"><span "
                   "class=\"badge ok\">OK</span></span><span class=\"c-zone "
                   "zone-name\"><a href=\"?q=in-sync.test.\">in-sync.test.</a>"));
    CHECK(contains(linked,
                   "<details class=\"zone ok\"><summary><span class=\"c-state\"><span "
                   "class=\"badge ok\">OK</span></span><span class=\"c-zone "
                   "zone-name\"><a href=\"?q=not-in-sync.test.\">not-in-sync.test.</a>"));
    const std::string nothing = render_status_page(snapshot_of({zone_in_sync()}), nullptr,
                                                   parse_page_query("q=nope&state=critical"));
    CHECK(contains(nothing, "No zone matches this filter."));
}

TEST_CASE("page: the filter and links escape what was typed", "[exporters][page]") {
    const std::string page = render_status_page(
        snapshot_of({zone_in_sync()}), nullptr,
        parse_page_query("q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=ok"));
    CHECK_FALSE(contains(page, "<script"));
    CHECK(contains(page, "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
    CHECK(contains(page, "href=\"?q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;state=ok\""));
}

TEST_CASE("page: a port other than 53 stays on the address's line", "[exporters][page]") {
    ZoneStatus z = zone_in_sync();
    z.servers[1].target.edit().port = 5300;
    const std::string page = render_status_page(snapshot_of({z}));
    CHECK(contains(page,
                   "<td class=\"mono addr\"><span class=\"ip\">192.0.2.11</span> <span "
                   "class=\"port\">port 5300</span></td>"));
    CHECK(contains(kStatusPageCss, "td.addr .port { white-space: nowrap;"));
    CHECK(contains(page, "<td class=\"mono addr\"><span class=\"ip\">2001:db8::12</span></td>"));
}

TEST_CASE("page: the zone's JSON link undoes presentation escapes", "[exporters][page]") {
    CHECK(zone_api_path("example.test.") == "/api/v1/zones/example.test.");
    CHECK(zone_api_path("\\<script\\>x.test.") == "/api/v1/zones/%3Cscript%3Ex.test.");
    CHECK(zone_api_path("a\\032b.test.") == "/api/v1/zones/a%20b.test.");
    // An escaped dot or backslash stays escaped: unescaped it would name another zone.
    CHECK(zone_api_path("a\\.b.test.") == "/api/v1/zones/a%5C.b.test.");
    CHECK(zone_api_path("a\\046b.test.") == "/api/v1/zones/a%5C046b.test.");
    CHECK(zone_api_path("\xC3\xA9.test.") == "/api/v1/zones/%C3%A9.test.");
}

TEST_CASE("page: 100,000 zones make a page of one screen", "[exporters][page]") {
    Snapshot snap;
    snap.taken = fixture_now();
    snap.stats.first_round_done = true;
    const ZoneStatusPtr in_sync = ptr(zone_in_sync());
    for (int i = 0; i < 100000; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "z%06d.test.", i);
        ZoneStatus z;
        z.zone = name;
        z.verdict = i == 77777 ? Verdict::critical : Verdict::ok;
        z.consistent = true;
        z.reference_serial = 1;
        z.servers = {in_sync->servers[1]};
        snap.zones.push_back(ptr(std::move(z)));
    }
    const std::string page = render_status_page(snap);
    CHECK(contains(page, "<span class=\"count\">100,000</span> zones"));
    CHECK(contains(page, "<span class=\"at\">page 1 of 2,000</span>"));
    CHECK(page.find(">z077777.test.<") < page.find(">z000000.test.<"));
    CHECK(page.size() < std::size_t{64} * 1024);
    const std::string last = render_status_page(snap, nullptr, parse_page_query("page=2000"));
    CHECK(contains(last, "Zones 99,951&ndash;100,000 of 100,000"));
    CHECK(contains(last, ">z099999.test.<"));
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

namespace {

// 10,000 zones for page_at_scale.py: all OK but three, every server on port 5300.
Snapshot scale_snapshot() {
    Snapshot snap;
    snap.taken = fixture_now();
    snap.stats.first_round_done = true;
    snap.stats.zones = 10000;
    for (int i = 0; i < 10000; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "z%07d.scale.test.", i);
        ZoneStatus z = zone_in_sync();
        z.zone = name;
        for (NameserverStatus& s : z.servers) s.target.edit().port = 5300;
        if (i == 9999) {
            z = zone_behind();
            z.zone = name;
            for (NameserverStatus& s : z.servers) s.target.edit().port = 5300;
        } else if (i == 4000) {
            z.verdict = Verdict::warning;
            z.consistent = false;
            z.servers[2].state = ServerState::behind;
            z.servers[2].serial_behind = 1;
            z.servers[2].lag_seconds = 12;
        } else if (i == 7000) {
            z.verdict = Verdict::unknown;
            z.consistent = false;
            z.reference_serial.reset();
        }
        snap.zones.push_back(ptr(std::move(z)));
    }
    return snap;
}

}  // namespace

TEST_CASE("page: 10,000 zones in headless chromium: problems first, filter, pages",
          "[exporters][page][browser]") {
    const std::string script =
        std::string(SOAWATCH_SOURCE_DIR) + "/tests/exporters/page_at_scale.py";
    auto snapshot = std::make_shared<const Snapshot>(scale_snapshot());
    HttpHooks hooks;
    hooks.snapshot = [snapshot] { return snapshot; };
    HttpServer server(HttpServerOptions{Endpoint{"127.0.0.1", 0}, 2}, hooks);
    // The screenshot stays in the build tree (tests/page_at_scale.png) for a person to look at,
    // wherever the tests are run from.
    const std::string command = "python3 " + script +
                                " http://127.0.0.1:" + std::to_string(server.port()) + "/ " +
                                SOAWATCH_TEST_OUTPUT_DIR + "/page_at_scale.png";
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

TEST_CASE("page: the delegation check line names the problem, its side and names, escaped",
          "[exporters][page]") {
    ZoneStatus z = zone_in_sync();
    auto audit = std::make_shared<DelegationAudit>();
    z.delegation_checked_at = Clock::now();
    NsObservation parent;
    parent.target = {"", "192.0.2.53", 53};
    parent.referral = true;
    parent.names = {"<i>nsx.in-sync.test.", "ns1.in-sync.test."};
    NsObservation child;
    child.target = {"ns1.in-sync.test.", "192.0.2.11", 53};
    child.names = {"ns1.in-sync.test.", "ns2.in-sync.test."};
    audit->parent = {parent};
    audit->child = {child};
    find_delegation_problems(*audit, "in-sync.test.");
    z.delegation = audit;
    const std::string page = render_status_page(snapshot_of({z}));
    CHECK(page.find("delegation check ") != std::string::npos);
    CHECK(page.find("<b class=\"open\">parent_child_ns_differ (parent): &lt;i&gt;nsx.in-sync."
                    "test.</b>") != std::string::npos);
    CHECK(page.find("<b class=\"open\">parent_child_ns_differ (child): ns2.in-sync.test.</b>") !=
          std::string::npos);
    CHECK(page.find("<i>nsx") == std::string::npos);
    CHECK(render_status_page(snapshot_of({zone_in_sync()})).find("delegation check") ==
          std::string::npos);
}
