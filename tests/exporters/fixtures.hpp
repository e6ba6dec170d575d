// Hand-built snapshots for the exporter tests (metrics, JSON API, status page, HTTP server).
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/status_store.hpp"
#include "agent/zone_status.hpp"

namespace soawatch::test {

// 2024-05-01T12:00:00Z
inline Clock::time_point fixture_now() {
    return Clock::time_point(std::chrono::seconds(1714564800));
}

inline dns::SoaRdata soa(uint32_t serial, std::string mname = "ns1.example.test.",
                         std::string rname = "hostmaster.example.test.") {
    return dns::SoaRdata{std::move(mname), std::move(rname), serial, 7200, 3600, 1209600, 300};
}

inline NameserverStatus server(std::string name, std::string address, ServerState state,
                               std::optional<uint32_t> serial) {
    NameserverStatus s;
    s.target = ProbeTarget{std::move(name), std::move(address), 53};
    s.state = state;
    if (serial) {
        s.answered = true;
        s.authoritative = true;
        s.soa = soa(*serial);
        s.rtt = std::chrono::microseconds(1500);
        s.last_success = fixture_now();
        s.last_in_sync = fixture_now();
    }
    s.probes_total = 10;
    return s;
}

// in-sync.test.: a hidden primary and two NS addresses, all on serial 2024050101.
inline ZoneStatus zone_in_sync() {
    ZoneStatus z;
    z.zone = "in-sync.test.";
    z.has_primary = true;
    z.reference_from_primary = true;
    z.reference_serial = 2024050101;
    z.reference_soa = soa(2024050101);
    z.last_serial_change = fixture_now() - std::chrono::seconds(3600);
    z.last_check = fixture_now() - std::chrono::seconds(5);
    auto primary = server("", "192.0.2.1", ServerState::reference, 2024050101);
    primary.is_primary = true;
    primary.in_ns_set = false;
    z.servers.push_back(primary);
    auto ns1 = server("ns1.in-sync.test.", "192.0.2.11", ServerState::in_sync, 2024050101);
    ns1.last_propagation_seconds = 2.5;
    z.servers.push_back(ns1);
    z.servers.push_back(
        server("ns2.in-sync.test.", "2001:db8::12", ServerState::in_sync, 2024050101));
    z.consistent = true;
    z.verdict = Verdict::ok;
    z.usable_servers = 2;
    z.checks_total = 7;
    return z;
}

// behind.test.: no primary; ns1 has the newest serial, ns2 is 2 steps behind for 30 s, and
// 198.51.100.3 (given as an address) times out.
inline ZoneStatus zone_behind() {
    ZoneStatus z;
    z.zone = "behind.test.";
    z.reference_serial = 2024050103;
    z.reference_soa = soa(2024050103);
    z.last_serial_change = fixture_now() - std::chrono::seconds(30);
    z.last_check = fixture_now() - std::chrono::seconds(1);
    z.servers.push_back(
        server("ns1.behind.test.", "198.51.100.1", ServerState::in_sync, 2024050103));
    auto ns2 = server("ns2.behind.test.", "198.51.100.2", ServerState::behind, 2024050101);
    ns2.serial_behind = 2;
    ns2.lag_seconds = 30;
    ns2.behind_since = Instant{fixture_now() - std::chrono::seconds(30), MonoClock::now()};
    ns2.last_in_sync = fixture_now() - std::chrono::seconds(31);
    z.servers.push_back(ns2);
    auto dead = server("", "198.51.100.3", ServerState::unusable, std::nullopt);
    dead.error = ProbeError::timeout;
    dead.error_detail = "no answer after 3 tries";
    dead.consecutive_failures = 4;
    dead.lag_seconds = 30;
    dead.errors_by_reason[static_cast<std::size_t>(ProbeError::timeout)] = 4;
    dead.errors_by_reason[static_cast<std::size_t>(ProbeError::refused)] = 1;
    z.servers.push_back(dead);
    z.consistent = false;
    z.verdict = Verdict::critical;
    z.reasons = {"ns2.behind.test. (198.51.100.2) is 2 serials behind for 30s",
                 "198.51.100.3 does not answer: timeout"};
    z.usable_servers = 2;
    z.unresolved_nameservers = {{"ns4.behind.test.", AddressError::nxdomain,
                                 "A: ns4.behind.test. does not exist (NXDOMAIN)"}};
    z.checks_total = 3;
    return z;
}

inline ZoneStatusPtr ptr(ZoneStatus z) {
    return std::make_shared<const ZoneStatus>(std::move(z));
}

// Zones must be sorted by name, as the StatusStore publishes them.
inline Snapshot snapshot_of(std::vector<ZoneStatus> zones) {
    Snapshot snap;
    std::sort(zones.begin(), zones.end(),
              [](const ZoneStatus& a, const ZoneStatus& b) { return a.zone < b.zone; });
    for (auto& z : zones) snap.zones.push_back(ptr(std::move(z)));
    snap.taken = fixture_now();
    snap.stats.zones = snap.zones.size();
    snap.stats.first_round_done = true;
    snap.stats.queries_sent = 42;
    snap.stats.checks_total = 10;
    return snap;
}

}  // namespace soawatch::test
