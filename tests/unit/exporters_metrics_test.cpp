// /metrics: exact lines of MetricsExporter::render() for hand-built snapshots, the text writer
// against prometheus-cpp's own serializer, and the whole body through `promtool check metrics`.
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../exporters/fixtures.hpp"
#include "agent/delegation_findings.hpp"
#include "agent/replication.hpp"
#include "exporters/metrics/metrics.hpp"
#include "exporters/metrics/prom_text.hpp"

using namespace soawatch;
using namespace soawatch::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has_line(const std::string& text, const std::string& line) {
    for (const auto& l : lines_of(text))
        if (l == line) return true;
    return false;
}

// Sample lines (not comments) whose series contains `needle`.
std::vector<std::string> samples_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& l : lines_of(text))
        if (!l.empty() && l[0] != '#' && l.find(needle) != std::string::npos) out.push_back(l);
    return out;
}

Snapshot two_zones() {
    return snapshot_of({zone_in_sync(), zone_behind()});
}

SoaObservation observation(std::string ns, std::string address, double rtt_seconds) {
    SoaObservation o;
    o.zone = "in-sync.test.";
    o.target = ProbeTarget{std::move(ns), std::move(address), 53};
    o.answered = true;
    o.rtt = std::chrono::duration<double>(rtt_seconds);
    return o;
}

}  // namespace

TEST_CASE("metrics: zone in sync with a hidden primary", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    const std::string text = exporter.render(two_zones());
    const std::string z = "zone=\"in-sync.test.\"";
    const std::string ns1 = z + ",nameserver=\"ns1.in-sync.test.\",address=\"192.0.2.11\"";
    const std::string ns2 = z + ",nameserver=\"ns2.in-sync.test.\",address=\"2001:db8::12\"";
    const std::string primary = z + ",nameserver=\"192.0.2.1\",address=\"192.0.2.1\"";

    CHECK(has_line(text, "soawatch_zone_status{" + z + "} 0"));
    CHECK(has_line(text, "soawatch_zone_consistent{" + z + "} 1"));
    CHECK(has_line(text, "soawatch_reference_serial{" + z + "} 2024050101"));
    CHECK(has_line(text, "soawatch_primary_up{" + z + "} 1"));
    CHECK(has_line(text, "soawatch_soa_serial{" + primary + "} 2024050101"));
    CHECK(has_line(text, "soawatch_soa_serial{" + ns1 + "} 2024050101"));
    CHECK(has_line(text, "soawatch_soa_serial{" + ns2 + "} 2024050101"));
    CHECK(has_line(text, "soawatch_serial_behind{" + ns1 + "} 0"));
    CHECK(has_line(text, "soawatch_serial_lag_seconds{" + ns1 + "} 0"));
    CHECK(has_line(text, "soawatch_nameserver_up{" + ns2 + "} 1"));
    CHECK(has_line(text, "soawatch_nameserver_up{" + primary + "} 1"));
    CHECK(has_line(text, "soawatch_last_propagation_seconds{" + ns1 + "} 2.5"));
    CHECK(samples_with(text, "soawatch_last_propagation_seconds{" + ns2).empty());
    CHECK(has_line(text, "soawatch_last_serial_change_timestamp_seconds{" + z + "} 1714561200"));
    CHECK(has_line(text, "soawatch_last_check_timestamp_seconds{" + z + "} 1714564795"));
    CHECK(has_line(text, "soawatch_soa_refresh_seconds{" + z + "} 7200"));
    CHECK(has_line(text, "soawatch_soa_retry_seconds{" + z + "} 3600"));
    CHECK(has_line(text, "soawatch_soa_expire_seconds{" + z + "} 1209600"));
    CHECK(has_line(text, "soawatch_soa_minimum_seconds{" + z + "} 300"));
    CHECK(has_line(text, "soawatch_soa_fields_consistent{" + z + "} 1"));
    // The hidden primary is not an address of the NS set.
    CHECK(has_line(text, "soawatch_zone_nameserver_addresses{" + z + "} 2"));
    CHECK(has_line(text, "soawatch_zone_usable_nameservers{" + z + "} 2"));
    CHECK(has_line(text, "soawatch_zone_unresolved_nameservers{" + z + "} 0"));
    CHECK(has_line(text, "soawatch_zone_nameservers_capped{" + z + "} 0"));
    CHECK(has_line(text, "soawatch_zone_discovery_from_cache{" + z + "} 0"));
    CHECK(samples_with(text, "soawatch_probe_errors_total{" + z).empty());
}

TEST_CASE("metrics: NS set over the caps, discovery from the cache", "[exporters][metrics]") {
    ZoneStatus zone = zone_in_sync();
    zone.nameservers_capped = true;
    zone.discovery_from_cache = true;
    const std::string text = MetricsExporter::render_zone(zone);
    const std::string z = "zone=\"in-sync.test.\"";
    CHECK(has_line(text, "soawatch_zone_nameservers_capped{" + z + "} 1"));
    CHECK(has_line(text, "soawatch_zone_discovery_from_cache{" + z + "} 1"));
}

TEST_CASE("metrics: one server behind, one unusable", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    const std::string text = exporter.render(two_zones());
    const std::string z = "zone=\"behind.test.\"";
    const std::string ns1 = z + ",nameserver=\"ns1.behind.test.\",address=\"198.51.100.1\"";
    const std::string ns2 = z + ",nameserver=\"ns2.behind.test.\",address=\"198.51.100.2\"";
    // Given as an address: the address is the nameserver label.
    const std::string dead = z + ",nameserver=\"198.51.100.3\",address=\"198.51.100.3\"";

    CHECK(has_line(text, "soawatch_zone_status{" + z + "} 2"));
    CHECK(has_line(text, "soawatch_zone_consistent{" + z + "} 0"));
    CHECK(has_line(text, "soawatch_reference_serial{" + z + "} 2024050103"));
    CHECK(has_line(text, "soawatch_soa_serial{" + ns1 + "} 2024050103"));
    CHECK(has_line(text, "soawatch_soa_serial{" + ns2 + "} 2024050101"));
    CHECK(samples_with(text, "soawatch_soa_serial{" + dead).empty());
    CHECK(has_line(text, "soawatch_serial_behind{" + ns1 + "} 0"));
    CHECK(has_line(text, "soawatch_serial_behind{" + ns2 + "} 2"));
    CHECK(has_line(text, "soawatch_serial_lag_seconds{" + ns2 + "} 30"));
    CHECK(has_line(text, "soawatch_serial_behind{" + dead + "} 0"));
    CHECK(has_line(text, "soawatch_serial_lag_seconds{" + dead + "} 30"));
    CHECK(has_line(text, "soawatch_nameserver_up{" + ns2 + "} 1"));
    CHECK(has_line(text, "soawatch_nameserver_up{" + dead + "} 0"));
    CHECK(has_line(text, "soawatch_probe_errors_total{" + dead + ",reason=\"timeout\"} 4"));
    CHECK(has_line(text, "soawatch_probe_errors_total{" + dead + ",reason=\"refused\"} 1"));
    CHECK(samples_with(text, "soawatch_probe_errors_total{" + dead).size() == 2);
    CHECK(samples_with(text, "soawatch_probe_errors_total{" + ns1).empty());
    CHECK(samples_with(text, "soawatch_primary_up{" + z).empty());
    CHECK(has_line(text, "soawatch_last_serial_change_timestamp_seconds{" + z + "} 1714564770"));
    CHECK(has_line(text, "soawatch_zone_nameserver_addresses{" + z + "} 3"));
    CHECK(has_line(text, "soawatch_zone_usable_nameservers{" + z + "} 2"));
    CHECK(has_line(text, "soawatch_zone_unresolved_nameservers{" + z + "} 1"));
    CHECK(has_line(text, "soawatch_soa_fields_consistent{" + z + "} 1"));
}

TEST_CASE("metrics: a removed zone vanishes, render_zone has one zone", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    const std::string both = exporter.render(two_zones());
    CHECK_FALSE(samples_with(both, "zone=\"behind.test.\"").empty());

    const std::string after = exporter.render(snapshot_of({zone_in_sync()}));
    CHECK(samples_with(after, "behind.test.").empty());
    CHECK_FALSE(samples_with(after, "zone=\"in-sync.test.\"").empty());

    const std::string one = MetricsExporter::render_zone(zone_behind());
    CHECK(samples_with(one, "in-sync.test.").empty());
    CHECK(has_line(one, "soawatch_reference_serial{zone=\"behind.test.\"} 2024050103"));
    CHECK(has_line(one, "# TYPE soawatch_serial_behind gauge"));
    // Only zone series: no agent or process metrics.
    CHECK(samples_with(one, "soawatch_build_info").empty());
    CHECK(samples_with(one, "process_").empty());
    for (const auto& line : lines_of(one))
        if (!line.empty() && line[0] != '#')
            CHECK(line.find("zone=\"behind.test.\"") != std::string::npos);
}

TEST_CASE("metrics: an unknown zone has no reference series", "[exporters][metrics]") {
    ZoneStatus z;
    z.zone = "new.test.";
    z.discovery_error = "SERVFAIL from 127.0.0.53";
    const std::string text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_zone_status{zone=\"new.test.\"} 3"));
    CHECK(has_line(text, "soawatch_zone_consistent{zone=\"new.test.\"} 0"));
    CHECK(samples_with(text, "soawatch_reference_serial").empty());
    CHECK(samples_with(text, "soawatch_soa_fields_consistent").empty());
    CHECK(samples_with(text, "soawatch_last_check_timestamp_seconds").empty());
    CHECK(has_line(text, "soawatch_zone_nameserver_addresses{zone=\"new.test.\"} 0"));
}

TEST_CASE("metrics: primary down, SOA fields differ", "[exporters][metrics]") {
    ZoneStatus z = zone_in_sync();
    z.servers[0].state = ServerState::unusable;
    z.servers[0].error = ProbeError::connection_refused;
    z.servers[0].soa.reset();
    // Case differences in names are no difference (RFC 4343); a different timer is.
    z.servers[1].soa->rname = "HostMaster.Example.TEST.";
    check_soa_fields(z);  // what the evaluator does
    std::string text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_primary_up{zone=\"in-sync.test.\"} 0"));
    CHECK(has_line(text, "soawatch_soa_fields_consistent{zone=\"in-sync.test.\"} 1"));

    z.servers[2].soa->expire = 604800;
    check_soa_fields(z);
    text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_soa_fields_consistent{zone=\"in-sync.test.\"} 0"));
}

TEST_CASE("metrics: agent-level series", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    std::string text = exporter.render(two_zones());
    CHECK(has_line(text, "soawatch_build_info{revision=\"abc123\",version=\"1.2.3\"} 1"));
    CHECK(has_line(text, "soawatch_config_last_reload_successful 0"));
    CHECK(has_line(text, "soawatch_dns_queries_sent_total 42"));
    CHECK(has_line(text, "soawatch_zone_checks_total 10"));
    CHECK(has_line(text, "soawatch_zones_watched 2"));
    CHECK(has_line(text, "soawatch_ready 1"));
    CHECK(has_line(text, "# TYPE soawatch_dns_queries_sent_total counter"));
    CHECK(has_line(text, "# TYPE soawatch_dns_queries_inflight gauge"));
    for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                             "process_virtual_memory_bytes ", "process_open_fds ",
                             "process_max_fds ", "process_start_time_seconds "})
        CHECK(samples_with(text, name).size() == 1);

    exporter.set_reload_result(true, fixture_now());
    exporter.set_reload_result(false, fixture_now() + std::chrono::seconds(60));
    exporter.observe_probe(observation("ns1.in-sync.test.", "192.0.2.11", 0.003));
    exporter.observe_probe(observation("ns1.in-sync.test.", "192.0.2.11", 0.2));
    exporter.observe_probe(observation("", "192.0.2.1", 0.0004));
    SoaObservation unanswered = observation("ns2.in-sync.test.", "2001:db8::12", 2.0);
    unanswered.answered = false;
    unanswered.error = ProbeError::timeout;
    exporter.observe_probe(unanswered);
    exporter.observe_propagation({"ns1.in-sync.test.", "192.0.2.11", 2024050101, 7.5});

    text = exporter.render(two_zones());
    CHECK(has_line(text, "soawatch_config_last_reload_successful 0"));
    CHECK(has_line(text, "soawatch_config_last_reload_success_timestamp_seconds 1714564800"));
    const std::string ns1 = "address=\"192.0.2.11\",nameserver=\"ns1.in-sync.test.\"";
    CHECK(has_line(text, "soawatch_probe_duration_seconds_bucket{" + ns1 + ",le=\"0.0025\"} 0"));
    CHECK(has_line(text, "soawatch_probe_duration_seconds_bucket{" + ns1 + ",le=\"0.005\"} 1"));
    CHECK(has_line(text, "soawatch_probe_duration_seconds_bucket{" + ns1 + ",le=\"0.25\"} 2"));
    CHECK(has_line(text, "soawatch_probe_duration_seconds_bucket{" + ns1 + ",le=\"+Inf\"} 2"));
    CHECK(has_line(text, "soawatch_probe_duration_seconds_count{" + ns1 + "} 2"));
    CHECK(has_line(text,
                   "soawatch_probe_duration_seconds_bucket{address=\"192.0.2.1\","
                   "nameserver=\"192.0.2.1\",le=\"0.0005\"} 1"));
    CHECK(samples_with(text, "2001:db8::12\",nameserver").empty());  // unanswered: no sample
    CHECK(has_line(text,
                   "soawatch_propagation_seconds_bucket{nameserver=\"ns1.in-sync.test.\","
                   "le=\"5\"} 0"));
    CHECK(has_line(text,
                   "soawatch_propagation_seconds_bucket{nameserver=\"ns1.in-sync.test.\","
                   "le=\"10\"} 1"));
    CHECK(has_line(text, "soawatch_propagation_seconds_sum{nameserver=\"ns1.in-sync.test.\"} 7.5"));
}

TEST_CASE("metrics: every family has HELP and TYPE once", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    exporter.observe_probe(observation("ns1.in-sync.test.", "192.0.2.11", 0.003));
    const std::string text = exporter.render(two_zones());
    std::set<std::string> help, type;
    for (const auto& line : lines_of(text)) {
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(help.insert(name).second);
            CHECK(line.size() > 8 + name.size());  // a non-empty help text
        } else if (line.rfind("# TYPE ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(type.insert(name).second);
            CHECK(help.count(name) == 1);
        }
    }
    CHECK(help == type);
    for (const char* name : {"soawatch_soa_serial",
                             "soawatch_reference_serial",
                             "soawatch_serial_behind",
                             "soawatch_serial_lag_seconds",
                             "soawatch_zone_consistent",
                             "soawatch_zone_status",
                             "soawatch_nameserver_up",
                             "soawatch_primary_up",
                             "soawatch_primary_info",
                             "soawatch_probe_errors_total",
                             "soawatch_last_serial_change_timestamp_seconds",
                             "soawatch_last_check_timestamp_seconds",
                             "soawatch_soa_refresh_seconds",
                             "soawatch_soa_retry_seconds",
                             "soawatch_soa_expire_seconds",
                             "soawatch_soa_minimum_seconds",
                             "soawatch_soa_fields_consistent",
                             "soawatch_last_propagation_seconds",
                             "soawatch_zone_nameserver_addresses",
                             "soawatch_zone_usable_nameservers",
                             "soawatch_zone_unresolved_nameservers",
                             "soawatch_zone_nameservers_capped",
                             "soawatch_zone_discovery_from_cache",
                             "soawatch_nameserver_zones",
                             "soawatch_nameserver_max_serial_lag_seconds",
                             "soawatch_nameserver_probe_errors_total",
                             "soawatch_build_info",
                             "soawatch_config_last_reload_successful",
                             "soawatch_config_last_reload_success_timestamp_seconds",
                             "soawatch_probe_duration_seconds",
                             "soawatch_dns_queries_sent_total",
                             "soawatch_dns_queries_inflight",
                             "soawatch_zone_checks_total",
                             "soawatch_discovery_errors_total",
                             "soawatch_notify_received_total",
                             "soawatch_notify_ignored_total",
                             "soawatch_cycle_duration_seconds",
                             "soawatch_schedule_delay_seconds",
                             "soawatch_zones_watched",
                             "soawatch_ready",
                             "process_cpu_seconds_total",
                             "process_resident_memory_bytes",
                             "process_virtual_memory_bytes",
                             "process_open_fds",
                             "process_max_fds",
                             "process_start_time_seconds"}) {
        INFO(name);
        CHECK(type.count(name) == 1);
    }
}

TEST_CASE("metrics: per-address series only for zones not in sync", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"}, {.per_address = PerAddressSeries::not_in_sync});
    const std::string text = exporter.render(two_zones());
    const std::string ok = "zone=\"in-sync.test.\"";
    const std::string bad = "zone=\"behind.test.\"";
    // The zone in sync keeps its zone-level series and loses its per-address ones.
    CHECK(has_line(text, "soawatch_zone_status{" + ok + "} 0"));
    CHECK(has_line(text, "soawatch_reference_serial{" + ok + "} 2024050101"));
    CHECK(has_line(text, "soawatch_primary_up{" + ok + "} 1"));
    CHECK(has_line(text, "soawatch_soa_fields_consistent{" + ok + "} 1"));
    CHECK(has_line(text, "soawatch_zone_nameserver_addresses{" + ok + "} 2"));
    for (const char* family :
         {"soawatch_soa_serial{", "soawatch_serial_behind{", "soawatch_serial_lag_seconds{",
          "soawatch_nameserver_up{", "soawatch_last_propagation_seconds{"}) {
        INFO(family);
        CHECK(samples_with(text, family + ok).empty());
    }
    // The zone not in sync keeps everything.
    const std::string ns2 = bad + ",nameserver=\"ns2.behind.test.\",address=\"198.51.100.2\"";
    CHECK(has_line(text, "soawatch_serial_behind{" + ns2 + "} 2"));
    CHECK(samples_with(text, "soawatch_probe_errors_total{" + bad).size() == 2);
    // The same body as with every series, less the lines left out.
    const std::string all = MetricsExporter({"1.2.3", "abc123"}).render(two_zones());
    CHECK(lines_of(text).size() < lines_of(all).size());
    for (const auto& line : lines_of(text))
        if (line.rfind("process_", 0) != 0) CHECK(has_line(all, line));
}

TEST_CASE("metrics: per-nameserver totals over all zones", "[exporters][metrics]") {
    ZoneStatus other = zone_behind();
    other.zone = "other.test.";
    const std::string text =
        MetricsExporter({"1.2.3", "abc123"}).render(snapshot_of({zone_behind(), other}));
    const std::string ns2 = "nameserver=\"ns2.behind.test.\",address=\"198.51.100.2\"";
    const std::string dead = "nameserver=\"198.51.100.3\",address=\"198.51.100.3\"";
    CHECK(has_line(text, "soawatch_nameserver_zones{" + ns2 + ",state=\"behind\"} 2"));
    CHECK(has_line(text, "soawatch_nameserver_zones{" + ns2 + ",state=\"in_sync\"} 0"));
    CHECK(has_line(text, "soawatch_nameserver_zones{" + dead + ",state=\"unusable\"} 2"));
    CHECK(has_line(text, "soawatch_nameserver_max_serial_lag_seconds{" + ns2 + "} 30"));
    CHECK(has_line(text,
                   "soawatch_nameserver_probe_errors_total{" + dead + ",reason=\"timeout\"} 8"));
    CHECK(has_line(text,
                   "soawatch_nameserver_probe_errors_total{" + dead + ",reason=\"refused\"} 2"));
    CHECK(samples_with(text, "soawatch_nameserver_probe_errors_total{" + ns2).empty());
}

TEST_CASE("metrics: the body streamed in pieces is the whole body, each piece bounded",
          "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    std::vector<std::string> pieces;
    constexpr std::size_t kPieceBytes = 200;
    prom::StreamedText out(
        [&pieces](std::string_view piece) {
            pieces.emplace_back(piece);
            return true;
        },
        kPieceBytes);
    REQUIRE(exporter.render(two_zones(), out));
    REQUIRE(out.finish());
    std::string joined;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        joined += pieces[i];
        // A piece ends at the end of a line, after the zone whose samples crossed the size (the
        // first one holds the agent's and the process' metrics, written in one go).
        CHECK(pieces[i].back() == '\n');
        if (i > 0) CHECK(pieces[i].size() < kPieceBytes + 600);
    }
    CHECK(pieces.size() > 10);
    auto without_process = [](const std::string& text) {
        std::string out;
        for (const auto& line : lines_of(text))
            if (line.find("process_") == std::string::npos) out += line + "\n";
        return out;
    };
    CHECK(without_process(joined) == without_process(exporter.render(two_zones())));
}

TEST_CASE("metrics: streaming stops when the reader is gone", "[exporters][metrics]") {
    MetricsExporter exporter({"1.2.3", "abc123"});
    int pieces = 0;
    prom::StreamedText out([&pieces](std::string_view) { return ++pieces < 3; }, 100);
    CHECK_FALSE(exporter.render(two_zones(), out));
    CHECK(pieces == 3);
    CHECK_FALSE(out.finish());
    CHECK(out.failed());
}

TEST_CASE("metrics: label values from the network are escaped and valid UTF-8",
          "[exporters][metrics]") {
    ZoneStatus z = zone_behind();
    z.zone = "we\"ird\\zone.test.";
    z.servers[0].target.edit().nameserver = std::string("ns\n1\xff.test.");
    const std::string text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_zone_status{zone=\"we\\\"ird\\\\zone.test.\"} 2"));
    CHECK(has_line(text,
                   "soawatch_nameserver_up{zone=\"we\\\"ird\\\\zone.test.\",nameserver=\"ns\\n1"
                   "\xEF\xBF\xBD.test.\",address=\"198.51.100.1\"} 1"));
}

TEST_CASE("metrics: the text writer matches prometheus-cpp's serializer", "[exporters][metrics]") {
    const std::vector<double> values = {0,      1,      0.1,          2.5,   1714564800.25,
                                        1e-7,   1e9,    4294967295.0, -3.75, 1.0 / 3,
                                        123456, 0.0005, 1e300};
    const std::vector<std::string> label_values = {"plain", "a\"b", "back\\slash", "new\nline",
                                                   "caf\xC3\xA9"};
    prometheus::MetricFamily family{"x_value", "A help text.", prometheus::MetricType::Gauge, {}};
    std::string ours;
    prom::append_family_header(ours, "x_value", "A help text.", "gauge");
    for (double v : values) {
        for (const auto& lv : label_values) {
            prometheus::ClientMetric m;
            m.label = {{"zone", lv}, {"address", "192.0.2.1"}};
            m.gauge.value = v;
            family.metric.push_back(m);
            prom::LabelSet labels;
            labels.add("zone", lv).add("address", "192.0.2.1");
            prom::append_sample(ours, "x_value", labels, v);
        }
    }
    std::ostringstream theirs;
    prometheus::TextSerializer().Serialize(theirs, {family});
    CHECK(ours == theirs.str());

    std::string integers;
    prom::append_value(integers, uint64_t{4294967295});
    prom::append_value(integers, uint64_t{0});
    CHECK(integers == "42949672950");
}

TEST_CASE("metrics: promtool check metrics accepts the whole body", "[exporters][metrics]") {
    std::string promtool;
    for (const char* candidate : {"/usr/bin/promtool", "/usr/local/bin/promtool"})
        if (std::filesystem::exists(candidate)) promtool = candidate;
    if (promtool.empty() && std::system("command -v promtool >/dev/null 2>&1") == 0)
        promtool = "promtool";
    if (promtool.empty()) {
        WARN("SKIPPED: promtool not found (install Debian's `prometheus` package)");
        return;
    }

    MetricsExporter exporter({"1.2.3", "abc123"});
    exporter.set_reload_result(true, fixture_now());
    exporter.observe_probe(observation("ns1.in-sync.test.", "192.0.2.11", 0.003));
    exporter.observe_probe(observation("", "192.0.2.1", 0.02));
    exporter.observe_propagation({"ns1.in-sync.test.", "192.0.2.11", 2024050101, 7.5});
    ZoneStatus odd = zone_behind();
    odd.zone = "we\"ird\\zone.test.";
    odd.servers[0].target.edit().nameserver = std::string("ns\n1\xff.test.");
    ZoneStatus unknown;
    unknown.zone = "new.test.";
    const std::string body =
        exporter.render(snapshot_of({zone_in_sync(), zone_behind(), odd, unknown}));

    const auto dir = std::filesystem::temp_directory_path();
    const auto input = dir / ("soawatch-metrics-" + std::to_string(::getpid()) + ".txt");
    const auto output = dir / ("soawatch-promtool-" + std::to_string(::getpid()) + ".txt");
    {
        std::ofstream out(input, std::ios::binary);
        out << body;
    }
    const std::string command =
        promtool + " check metrics < " + input.string() + " > " + output.string() + " 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(output);
    const std::string report((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    std::filesystem::remove(input);
    std::filesystem::remove(output);
    INFO("promtool said:\n" << report);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(report.empty());
}

TEST_CASE("metrics: transfer audit, open AXFR and the keyed check", "[exporters][metrics]") {
    ZoneStatus z = zone_in_sync();
    CHECK(samples_with(MetricsExporter::render_zone(z), "soawatch_transfer").empty());
    auto audit = std::make_shared<TransferAudit>();
    TransferObservation refused;
    refused.target = {"", "192.0.2.1", 53};
    refused.result = TransferResult::refused;
    TransferObservation open;
    open.target = {"ns1.in-sync.test.", "192.0.2.11", 53};
    open.result = TransferResult::open;
    audit->axfr = {refused, open};
    audit->signed_ixfr = refused;
    audit->signed_ixfr->result = TransferResult::badsig;
    z.transfer = audit;
    const std::string text = MetricsExporter::render_zone(z);
    const std::string zl = "zone=\"in-sync.test.\"";
    CHECK(has_line(text, "soawatch_transfer_open{" + zl +
                             ",nameserver=\"192.0.2.1\",address=\"192.0.2.1\"} 0"));
    CHECK(has_line(text, "soawatch_transfer_open{" + zl +
                             ",nameserver=\"ns1.in-sync.test.\",address=\"192.0.2.11\"} 1"));
    CHECK(has_line(text, "soawatch_transfer_tsig_ok{" + zl + ",address=\"192.0.2.1\"} 0"));
}

TEST_CASE("metrics: delegation check, its problems and findings", "[exporters][metrics]") {
    ZoneStatus z = zone_in_sync();
    CHECK(samples_with(MetricsExporter::render_zone(z), "soawatch_delegation").empty());
    auto audit = std::make_shared<soawatch::DelegationAudit>();
    NsObservation child;
    child.target = {"ns1.in-sync.test.", "192.0.2.11", 53};
    child.names = {"ns1.in-sync.test."};
    audit->child = {child};
    soawatch::find_delegation_problems(*audit, "in-sync.test.");  // no parent view, one name
    z.delegation = audit;
    std::string text = MetricsExporter::render_zone(z);
    const std::string zl = "zone=\"in-sync.test.\"";
    CHECK(samples_with(text, "soawatch_delegation_consistent").empty());  // no referral
    CHECK(has_line(text, "soawatch_ns_set_consistent{" + zl + "} 1"));
    CHECK(has_line(text, "soawatch_delegation_problem{" + zl + ",reason=\"too_few_ns\"} 1"));
    CHECK(has_line(text, "soawatch_delegation_problem{" + zl + ",reason=\"glue_mismatch\"} 0"));
    CHECK(
        has_line(text, "soawatch_delegation_finding_info{" + zl +
                           ",reason=\"too_few_ns\",side=\"child\",names=\"ns1.in-sync.test.\"} 1"));

    NsObservation referral = child;
    referral.target = {"", "192.0.2.53", 53};
    referral.referral = true;
    referral.names = {"ns1.in-sync.test.", "ns2.in-sync.test."};
    audit->parent = {referral};
    soawatch::find_delegation_problems(*audit, "in-sync.test.");
    text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_delegation_consistent{" + zl + "} 0"));
    CHECK(has_line(text,
                   "soawatch_delegation_problem{" + zl + ",reason=\"parent_child_ns_differ\"} 1"));
    // A zone without findings has the consistency gauges at 1 and no problem series.
    child.names = referral.names;
    audit->child = {child};
    soawatch::find_delegation_problems(*audit, "in-sync.test.");
    REQUIRE(audit->findings.empty());
    text = MetricsExporter::render_zone(z);
    CHECK(has_line(text, "soawatch_delegation_consistent{" + zl + "} 1"));
    CHECK(has_line(text, "soawatch_ns_set_consistent{" + zl + "} 1"));
    CHECK(samples_with(text, "soawatch_delegation_problem").empty());
}
