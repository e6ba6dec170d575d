// The vantage (--vantage, global.vantage): one validation for the file and both command lines,
// and the label on every zone and nameserver series, every alert, the JSON API and the page;
// without one, nothing carries it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../exporters/fixtures.hpp"
#include "agent/alerting/alert_engine.hpp"
#include "agent/cli/agent_flags.hpp"
#include "agent/cli/check_flags.hpp"
#include "agent/config/config.hpp"
#include "agent/config/vantage.hpp"
#include "agent/evaluator.hpp"
#include "exporters/alerts/alert_payloads.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/status_page.hpp"
#include "exporters/metrics/metrics.hpp"
#include "tests/support/config_files.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

// Sample lines (not comments, not the agent's own unlabelled or build series) of a body.
std::vector<std::string> samples(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') out.push_back(line);
    return out;
}

bool zone_or_nameserver_series(const std::string& sample) {
    return sample.find("zone=\"") != std::string::npos ||
           sample.find("nameserver=\"") != std::string::npos;
}

Snapshot two_zones() {
    return snapshot_of({zone_in_sync(), zone_behind()});
}

}  // namespace

TEST_CASE("vantage: vantage names are Prometheus label values without escaping", "[vantage]") {
    CHECK(vantage_error("eu-west-1").empty());
    CHECK(vantage_error("fra.dc_2").empty());
    CHECK(vantage_error(std::string(63, 'a')).empty());
    CHECK(vantage_error("") == "must not be empty (leave it out for no vantage)");
    CHECK(vantage_error(std::string(64, 'a')) == "too long: 64 characters (at most 63)");
    CHECK(vantage_error("eu west") ==
          "invalid vantage \"eu west\" (letters, digits, '_', '.', '-')");
    CHECK(vantage_error("a\"b").find("invalid vantage") == 0);
    CHECK(effective_vantage("flag", "config") == "flag");
    CHECK(effective_vantage("", "config") == "config");
    CHECK(effective_vantage("", "").empty());
}

TEST_CASE("vantage: vantage in the config file and on both command lines", "[vantage]") {
    CHECK(parse_config("global:\n  vantage: eu-west\n", "test.yml").global.vantage == "eu-west");
    CHECK(parse_config("global:\n  interval: 1m\n", "test.yml").global.vantage.empty());
    CHECK(config_error_of([] { parse_config("global:\n  vantage: \"eu west\"\n", "test.yml"); }) ==
          "test.yml:2: global.vantage: invalid vantage \"eu west\" (letters, digits, '_', '.', "
          "'-')");
    CHECK(config_error_of([] { parse_config("global:\n  vantage: \"\"\n", "test.yml"); }) ==
          "test.yml:2: global.vantage: must not be empty (leave it out for no vantage)");

    const ParsedAgentFlags agent = parse_agent_flags({"--vantage=us-east"});
    CHECK(agent.error.empty());
    CHECK(agent.flags.vantage == "us-east");
    CHECK(parse_agent_flags({}).flags.vantage.empty());
    CHECK(parse_agent_flags({"--vantage=us east"}).error ==
          "--vantage: invalid vantage \"us east\" (letters, digits, '_', '.', '-')");

    const ParsedCheckOptions check = parse_check_options({"--vantage", "lab", "a.test"});
    CHECK(check.error.empty());
    CHECK(check.options.vantage == "lab");
    CHECK(parse_check_options({"--vantage=", "a.test"}).error ==
          "--vantage: must not be empty (leave it out for no vantage)");
}

TEST_CASE("vantage: with a vantage every zone and nameserver series carries it", "[vantage]") {
    MetricsExporter exporter({"1.2.3", "abc"}, MetricsOptions{.vantage = "eu-west"});
    SoaObservation o;
    o.zone = "in-sync.test.";
    o.target = ProbeTarget{"ns1.in-sync.test.", "192.0.2.11", 53};
    o.answered = true;
    o.rtt = std::chrono::duration<double>(0.002);
    exporter.observe_probe(o);
    exporter.observe_propagation(PropagationSample{"ns1.in-sync.test.", "192.0.2.11", 7, 1.5});
    const std::string text = exporter.render(two_zones());

    std::size_t labelled = 0;
    for (const std::string& sample : samples(text)) {
        if (!zone_or_nameserver_series(sample)) continue;
        ++labelled;
        INFO(sample);
        CHECK(sample.find("vantage=\"eu-west\"") != std::string::npos);
    }
    CHECK(labelled > 50);
    // The zone families start with it; the histograms have it as a constant label.
    CHECK(text.find("soawatch_zone_status{vantage=\"eu-west\",zone=\"in-sync.test.\"} 0\n") !=
          std::string::npos);
    CHECK(text.find("soawatch_nameserver_zones{vantage=\"eu-west\",nameserver=") !=
          std::string::npos);
    CHECK(text.find("soawatch_probe_duration_seconds_count{vantage=\"eu-west\",address=\"192.0.2."
                    "11\",nameserver=\"ns1.in-sync.test.\"} 1") != std::string::npos);
    CHECK(text.find("soawatch_propagation_seconds_count{vantage=\"eu-west\",nameserver=\"ns1.in-"
                    "sync.test.\"} 1") != std::string::npos);
    // /probe too.
    const std::string probe = MetricsExporter::render_zone(zone_in_sync(), "eu-west");
    CHECK(probe.find("soawatch_zone_status{vantage=\"eu-west\",zone=\"in-sync.test.\"} 0\n") !=
          std::string::npos);
}

TEST_CASE("vantage: without a vantage no series has the label", "[vantage]") {
    MetricsExporter exporter({"1.2.3", "abc"});
    const std::string text = exporter.render(two_zones());
    CHECK(text.find("vantage") == std::string::npos);
    CHECK(MetricsExporter::render_zone(zone_in_sync()).find("vantage") == std::string::npos);
    CHECK(dump_snapshot_json(two_zones()).find("vantage") == std::string::npos);
    CHECK(render_status_page(two_zones()).find("class=\"vantage\"") == std::string::npos);
}

TEST_CASE("vantage: the API and the page name the vantage", "[vantage]") {
    Snapshot snapshot = two_zones();
    snapshot.vantage = "ap-south";
    const nlohmann::json doc = snapshot_to_json(snapshot);
    CHECK(doc["vantage"] == "ap-south");
    for (const auto& zone : doc["zones"]) CHECK(zone["vantage"] == "ap-south");
    // The streamed body is the same document, byte for byte.
    CHECK(dump_snapshot_json(snapshot) == dump_json(doc));
    CHECK(zone_to_json(*snapshot.zones[0], "ap-south")["vantage"] == "ap-south");
    CHECK_FALSE(zone_to_json(*snapshot.zones[0]).contains("vantage"));

    const std::string page = render_status_page(snapshot);
    CHECK(page.find("<span class=\"product\">soawatch</span> <span class=\"vantage\">from "
                    "ap-south</span></h1>") != std::string::npos);
}

TEST_CASE("vantage: alerts carry the vantage, as far as Alertmanager", "[vantage]") {
    AlertingConfig config;
    config.default_for = 0s;
    config.rules = AlertRuleSet::defaults(0s);
    ReceiverConfig am;
    am.name = "am";
    am.type = ReceiverType::alertmanager;
    am.url = "http://127.0.0.1:9/";
    config.receivers = {am};

    // ns3 behind: NameserverBehind and ZoneSerialMismatch.
    const auto zone = [](Clock::time_point t) {
        return evaluate(nullptr,
                        round(t, {ok("ns1.", "10.0.0.1", 7, t), ok("ns2.", "10.0.0.2", 7, t),
                                  ok("ns3.", "10.0.0.3", 5, t)}));
    };
    AlertEngine plain(config, "http://a.test:9353");
    plain.observe(zone(T0), config.rules, T0);
    plain.tick(T0);
    AlertEngine eu(config, "http://b.test:9353");
    eu.set_vantage("eu-west");
    eu.observe(zone(T0), config.rules, T0);
    const auto notes = eu.tick(T0);
    REQUIRE(notes.size() == 1);
    REQUIRE_FALSE(notes[0].alerts.empty());
    for (const Alert& a : notes[0].alerts) CHECK(a.label("vantage") == "eu-west");
    for (const Alert& a : plain.snapshot()->alerts) CHECK(a.label("vantage").empty());
    // Another vantage is another alert (its own identity, resolved on its own).
    CHECK(eu.snapshot()->alerts[0].fingerprint != plain.snapshot()->alerts[0].fingerprint);

    const std::string body =
        alertmanager_payload(notes[0], PayloadContext{"am", "http://b.test:9353", T0});
    const nlohmann::json posted = nlohmann::json::parse(body);
    REQUIRE(posted.is_array());
    for (const auto& alert : posted) CHECK(alert["labels"]["vantage"] == "eu-west");
}
