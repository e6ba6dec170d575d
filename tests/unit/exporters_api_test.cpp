// The JSON API documents (docs/API.md): field names, types and values for hand-built zones.
#include <catch2/catch.hpp>
#include <string>

#include "../exporters/fixtures.hpp"
#include "agent/delegation_findings.hpp"
#include "exporters/api/api_json.hpp"

using namespace soawatch;
using namespace soawatch::test;
using nlohmann::json;

TEST_CASE("api: a zone with one server behind and one unusable", "[exporters][api]") {
    const json z = zone_to_json(zone_behind());
    CHECK(z["zone"] == "behind.test.");
    CHECK(z["verdict"] == "CRITICAL");
    CHECK(z["consistent"] == false);
    CHECK(z["reference_serial"] == 2024050103);
    CHECK(z["reference_source"] == "newest");
    CHECK(z["reference_soa"]["serial"] == 2024050103);
    CHECK(z["last_check"] == "2024-05-01T11:59:59Z");
    CHECK(z["last_serial_change"] == "2024-05-01T11:59:30Z");
    CHECK(z["reasons"].size() == 2);
    CHECK(z["unresolved_nameservers"] ==
          json::array({{{"name", "ns4.behind.test."},
                        {"error", "nxdomain"},
                        {"detail", "A: ns4.behind.test. does not exist (NXDOMAIN)"}}}));
    CHECK(z["discovery_error"].is_null());
    CHECK(z["usable_nameservers"] == 2);
    REQUIRE(z["servers"].size() == 3);

    const json& ok = z["servers"][0];
    CHECK(ok["nameserver"] == "ns1.behind.test.");
    CHECK(ok["address"] == "198.51.100.1");
    CHECK(ok["port"] == 53);
    CHECK(ok["is_primary"] == false);
    CHECK(ok["state"] == "in_sync");
    CHECK(ok["serial"] == 2024050103);
    CHECK(ok["behind"] == 0);
    CHECK(ok["error"].is_null());
    CHECK(ok["rcode"] == "NOERROR");
    CHECK(ok["authoritative"] == true);
    CHECK(ok["transport"] == "udp");
    CHECK(ok["rtt_ms"].get<double>() == Approx(1.5));
    CHECK(ok["last_in_sync"] == "2024-05-01T12:00:00Z");
    CHECK(ok["last_propagation_seconds"].is_null());
    CHECK(ok["soa"] == json{{"mname", "ns1.example.test."},
                            {"rname", "hostmaster.example.test."},
                            {"serial", 2024050103},
                            {"refresh", 7200},
                            {"retry", 3600},
                            {"expire", 1209600},
                            {"minimum", 300}});

    const json& behind = z["servers"][1];
    CHECK(behind["state"] == "behind");
    CHECK(behind["serial"] == 2024050101);
    CHECK(behind["behind"] == 2);
    CHECK(behind["lag_seconds"] == 30.0);
    CHECK(behind["behind_since"] == "2024-05-01T11:59:30Z");

    const json& dead = z["servers"][2];
    CHECK(dead["nameserver"].is_null());
    CHECK(dead["address"] == "198.51.100.3");
    CHECK(dead["state"] == "unusable");
    CHECK(dead["serial"].is_null());
    CHECK(dead["behind"].is_null());
    CHECK(dead["error"] == "timeout");
    CHECK(dead["error_detail"] == "no answer after 3 tries");
    CHECK(dead["rcode"].is_null());
    CHECK(dead["rtt_ms"].is_null());
    CHECK(dead["soa"].is_null());
    CHECK(dead["consecutive_failures"] == 4);
    CHECK(dead["probe_errors"] == json{{"timeout", 4}, {"refused", 1}});
}

TEST_CASE("api: a zone with a hidden primary", "[exporters][api]") {
    const json z = zone_to_json(zone_in_sync());
    CHECK(z["reference_source"] == "primary");
    CHECK(z["verdict"] == "OK");
    CHECK(z["servers"][0]["is_primary"] == true);
    CHECK(z["servers"][0]["in_ns_set"] == false);
    CHECK(z["servers"][0]["state"] == "reference");
    CHECK(z["servers"][1]["last_propagation_seconds"] == 2.5);
}

TEST_CASE("api: an unchecked zone has nulls, not zeros", "[exporters][api]") {
    ZoneStatus status;
    status.zone = "new.test.";
    status.discovery_error = "SERVFAIL";
    const json z = zone_to_json(status);
    CHECK(z["verdict"] == "UNKNOWN");
    CHECK(z["reference_serial"].is_null());
    CHECK(z["reference_soa"].is_null());
    CHECK(z["last_check"].is_null());
    CHECK(z["last_serial_change"].is_null());
    CHECK(z["discovery_error"] == "SERVFAIL");
    CHECK(z["servers"] == json::array());
}

TEST_CASE("api: the snapshot document", "[exporters][api]") {
    const json doc = snapshot_to_json(snapshot_of({zone_in_sync(), zone_behind()}));
    CHECK(doc["generated_at"] == "2024-05-01T12:00:00Z");
    REQUIRE(doc["zones"].size() == 2);
    CHECK(doc["zones"][0]["zone"] == "behind.test.");
    CHECK(doc["zones"][1]["zone"] == "in-sync.test.");
}

TEST_CASE("api: invalid UTF-8 from the network does not throw", "[exporters][api]") {
    ZoneStatus z = zone_behind();
    z.servers[0].target.edit().nameserver = std::string("ns1\xff\xfe.test.");
    const std::string text = dump_json(zone_to_json(z));
    CHECK(text.find("ns1\xEF\xBF\xBD\xEF\xBF\xBD.test.") != std::string::npos);
    CHECK_NOTHROW(json::parse(text));
}

TEST_CASE("api: the delegation check's findings with names, side and addresses",
          "[exporters][api]") {
    ZoneStatus z;
    z.zone = "example.test.";
    CHECK(zone_to_json(z)["delegation"].is_null());
    auto audit = std::make_shared<DelegationAudit>();
    NsObservation parent;
    parent.target = {"", "192.0.2.53", 53};
    parent.referral = true;
    parent.names = {"ns1.example.test.", "nsx.example.net."};
    parent.glue = {{"ns1.example.test.", "192.0.2.1"}};
    NsObservation child;
    child.target = {"ns1.example.test.", "192.0.2.1", 53};
    child.names = {"ns1.example.test.", "ns2.example.net."};
    audit->parent = {parent};
    audit->child = {child};
    find_delegation_problems(*audit, "example.test.");
    z.delegation = audit;
    const auto d = zone_to_json(z)["delegation"];
    CHECK(d["consistent"] == false);
    CHECK(d["ns_set_consistent"] == true);
    CHECK(d["parent_ns"] == nlohmann::json::array({"ns1.example.test.", "nsx.example.net."}));
    CHECK(d["child_ns"] == nlohmann::json::array({"ns1.example.test.", "ns2.example.net."}));
    CHECK(d["parent_glue"][0]["address"] == "192.0.2.1");
    REQUIRE(d["findings"].size() == 2);
    CHECK(d["findings"][0]["reason"] == "parent_child_ns_differ");
    CHECK(d["findings"][0]["side"] == "parent");
    CHECK(d["findings"][0]["names"] == nlohmann::json::array({"nsx.example.net."}));
    CHECK(d["findings"][0]["addresses"] == nlohmann::json::array({"192.0.2.53"}));
    CHECK(d["findings"][1]["side"] == "child");
    CHECK(d["findings"][1]["names"] == nlohmann::json::array({"ns2.example.net."}));
    CHECK(d["parent"][0]["referral"] == true);
    CHECK(d["child"][0]["nameserver"] == "ns1.example.test.");
}
