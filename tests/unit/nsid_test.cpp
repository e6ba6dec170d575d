// Instance identity (NSID, RFC 5001): how the octets read, how the evaluator keeps the latest
// instance per address, and what the metrics, the API and the status page show of it.
#include <catch2/catch.hpp>

#include <string>

#include "agent/evaluator.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/status_page_zone.hpp"
#include "exporters/metrics/metrics.hpp"
#include "probes/nsid.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

SoaObservation with_nsid(SoaObservation o, const std::string& nsid) {
    o.nsid = SharedNsid::of(nsid);
    return o;
}

const NameserverStatus& row(const ZoneStatus& z, const std::string& address) {
    for (const auto& s : z.servers)
        if (s.target->address == address) return s;
    FAIL("no row " << address);
    return z.servers.front();
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("nsid: text when printable ASCII, hex always, as dig +nsid shows it", "[nsid]") {
    CHECK(nsid_is_text("ns1.fra"));
    CHECK(nsid_hex("ns1") == "6e7331");
    CHECK(nsid_display("ns1") == "ns1");
    // Not printable: a byte outside 0x20..0x7e anywhere makes it hex.
    const std::string binary("\x00\xff\x7f", 3);
    CHECK_FALSE(nsid_is_text(binary));
    CHECK(nsid_display(binary) == "00ff7f");
    CHECK_FALSE(nsid_is_text("tab\there"));
    CHECK(nsid_display("tab\there") == "7461620968657265");
    CHECK_FALSE(nsid_is_text(""));
    CHECK(nsid_display("").empty());
}

TEST_CASE("nsid: one instance's identity is one shared copy; empty is none", "[nsid]") {
    const SharedNsid a = SharedNsid::of("ns1.fra");
    const SharedNsid b = SharedNsid::of(std::string("ns1.fra"));
    CHECK(a == "ns1.fra");
    CHECK(a.view().data() == b.view().data());
    CHECK_FALSE(SharedNsid::of("ns2.fra").view().data() == a.view().data());
    CHECK(SharedNsid::of("").empty());
    CHECK_FALSE(SharedNsid::of("") == "");
    // Many identities in turn (a server sending a new one per answer): each is still right.
    for (int i = 0; i < 100; ++i)
        CHECK(SharedNsid::of("id" + std::to_string(i)) == "id" + std::to_string(i));
    CHECK(SharedNsid::of("ns1.fra") == "ns1.fra");
    CHECK(a == "ns1.fra");
}

TEST_CASE("nsid: the evaluator keeps the latest instance per address", "[nsid][evaluator]") {
    ZoneStatus z = evaluate(nullptr, round(T0, {with_nsid(ok("ns1.", "10.0.0.1", 7, T0), "a"),
                                                ok("ns2.", "10.0.0.2", 7, T0)}));
    CHECK(row(z, "10.0.0.1").nsid == "a");
    CHECK(row(z, "10.0.0.2").nsid.empty());

    // Another instance answers behind the same address: the latest one is named.
    z = evaluate(&z, round(T0 + 60s, {with_nsid(ok("ns1.", "10.0.0.1", 7, T0 + 60s), "b"),
                                      ok("ns2.", "10.0.0.2", 7, T0 + 60s)}));
    CHECK(row(z, "10.0.0.1").nsid == "b");

    // No answer at all says nothing of who is behind the address: the last instance stays.
    z = evaluate(&z, round(T0 + 120s, {failed("ns1.", "10.0.0.1", ProbeError::timeout, T0 + 120s),
                                       ok("ns2.", "10.0.0.2", 7, T0 + 120s)}));
    CHECK(row(z, "10.0.0.1").nsid == "b");

    // An error answer names its instance.
    auto refused = failed("ns1.", "10.0.0.1", ProbeError::refused, T0 + 180s);
    refused.answered = true;
    refused.nsid = SharedNsid::of("c");
    z = evaluate(&z, round(T0 + 180s, {refused, ok("ns2.", "10.0.0.2", 7, T0 + 180s)}));
    CHECK(row(z, "10.0.0.1").nsid == "c");

    // An answer without the option clears it: that server no longer says who it is.
    z = evaluate(&z, round(T0 + 240s, {ok("ns1.", "10.0.0.1", 7, T0 + 240s),
                                       ok("ns2.", "10.0.0.2", 7, T0 + 240s)}));
    CHECK(row(z, "10.0.0.1").nsid.empty());
}

TEST_CASE("nsid: one instance_info series per address, for the latest instance",
          "[nsid][exporters]") {
    ZoneStatus z =
        evaluate(nullptr, round(T0, {with_nsid(ok("ns1.", "10.0.0.1", 7, T0), "site-a"),
                                     ok("ns2.", "10.0.0.2", 7, T0),
                                     with_nsid(ok("ns3.", "10.0.0.3", 7, T0), "say \"hi\"\\")}));
    z = evaluate(&z, round(T0 + 60s, {with_nsid(ok("ns1.", "10.0.0.1", 7, T0 + 60s), "site-b"),
                                      ok("ns2.", "10.0.0.2", 7, T0 + 60s),
                                      with_nsid(ok("ns3.", "10.0.0.3", 7, T0 + 60s),
                                                std::string("\x01\x02", 2))}));
    const std::string text = MetricsExporter::render_zone(z);
    CHECK(text.find("soawatch_nameserver_instance_info{zone=\"example.test.\",nameserver=\"ns1.\","
                    "address=\"10.0.0.1\",nsid=\"site-b\"} 1\n") != std::string::npos);
    CHECK(text.find("soawatch_nameserver_instance_info{zone=\"example.test.\",nameserver=\"ns3.\","
                    "address=\"10.0.0.3\",nsid=\"0102\"} 1\n") != std::string::npos);
    // Bounded: the earlier instance is gone, the address without NSID has none. (It stays in
    // soawatch_instance_serial_behind, the anycast view, for the window: tests/unit/anycast_test.)
    CHECK(text.find("soawatch_nameserver_instance_info{zone=\"example.test.\",nameserver=\"ns1.\","
                    "address=\"10.0.0.1\",nsid=\"site-a\"}") == std::string::npos);
    CHECK(count(text, "soawatch_nameserver_instance_info{") == 2);
    CHECK(text.find("# TYPE soawatch_nameserver_instance_info gauge\n") != std::string::npos);

    // A label value is escaped for the text format.
    z = evaluate(nullptr, round(T0, {with_nsid(ok("ns3.", "10.0.0.3", 7, T0), "say \"hi\"\\")}));
    CHECK(MetricsExporter::render_zone(z).find(R"(nsid="say \"hi\"\\"} 1)") != std::string::npos);
}

TEST_CASE("nsid: the API and the status page name the instance", "[nsid][exporters]") {
    const ZoneStatus z =
        evaluate(nullptr, round(T0, {with_nsid(ok("ns1.", "10.0.0.1", 7, T0), "<b>ns1</b>"),
                                     with_nsid(ok("ns2.", "10.0.0.2", 7, T0), "\xfe"),
                                     ok("ns3.", "10.0.0.3", 7, T0)}));
    const auto json = zone_to_json(z);
    for (const auto& s : json["servers"]) {
        if (s["address"] == "10.0.0.1") {
            CHECK(s["nsid"] == "<b>ns1</b>");
            CHECK(s["nsid_hex"] == "3c623e6e73313c2f623e");
        } else if (s["address"] == "10.0.0.2") {
            CHECK(s["nsid"] == "fe");
            CHECK(s["nsid_hex"] == "fe");
        } else {
            CHECK(s["nsid"].is_null());
            CHECK(s["nsid_hex"].is_null());
        }
    }

    std::string page;
    append_zone(page, z, T0, true);
    CHECK(page.find(">Instance</th>") != std::string::npos);
    CHECK(page.find("<span title=\"NSID 3c623e6e73313c2f623e\">&lt;b&gt;ns1&lt;/b&gt;</span>") !=
          std::string::npos);
    CHECK(page.find("<b>ns1</b>") == std::string::npos);
    CHECK(page.find("<span title=\"NSID fe\">fe</span>") != std::string::npos);

    // No address named an instance: no column.
    const ZoneStatus plain = evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 7, T0)}));
    std::string plain_page;
    append_zone(plain_page, plain, T0, true);
    CHECK(plain_page.find("Instance") == std::string::npos);
    CHECK(plain_page.find("<th>Address</th><th class=\"num\">Serial</th>") != std::string::npos);
}
