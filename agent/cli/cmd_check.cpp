// `soawatch check`: the one-shot command line check.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/catalog_members.hpp"
#include "agent/catalog_watcher.hpp"
#include "agent/cli/check_flags.hpp"
#include "agent/cli/commands.hpp"
#include "agent/common/duration.hpp"
#include "agent/common/log.hpp"
#include "agent/config/config.hpp"
#include "agent/config/vantage.hpp"
#include "agent/loop_assignment.hpp"
#include "agent/loop_set.hpp"
#include "agent/scheduler.hpp"
#include "agent/signatures.hpp"
#include "agent/status_store.hpp"
#include "agent/zone_check.hpp"
#include "exporters/api/api_json.hpp"
#include "probes/dns_wire.hpp"
#include "probes/event_loop.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

constexpr int kExitUnknown = 3;

std::string state_text(const NameserverStatus& s) {
    std::string text;
    switch (s.state) {
        case ServerState::behind:
            text = "behind (" + std::to_string(s.serial_behind) + ")";
            break;
        case ServerState::unusable:
            text = std::string(probe_error_name(s.error));
            break;
        default:
            text = std::string(server_state_name(s.state));
            break;
    }
    if (s.state != ServerState::unusable && s.transport == Transport::tcp) text += " (tcp)";
    return text;
}

std::string rtt_text(const NameserverStatus& s) {
    if (!s.answered) return "-";
    char buf[32];
    double ms = s.rtt.count() * 1000;
    std::snprintf(buf, sizeof buf, ms < 10 ? "%.1fms" : "%.0fms", ms);
    return buf;
}

// The secondary's own refresh clock (EDNS EXPIRE, RFC 7314): "12s ago" since it last reached
// its primary, "expired", "no EXPIRE" where it does not answer the option, "-" where unknown.
std::string refresh_text(const NameserverStatus& s) {
    if (s.expired) return "expired";
    if (s.refresh_age) return human_duration(*s.refresh_age) + " ago";
    if (s.expire_supported && !*s.expire_supported) return "no EXPIRE";
    return "-";
}

// The instance that answered (NSID, RFC 5001): its text, or hex when not printable; "-" when
// none was answered.
std::string nsid_text(const NameserverStatus& s) {
    return s.nsid.empty() ? "-" : nsid_display(s.nsid);
}

// The RRSIG(SOA) served (DNSSEC): validity left at the check, "expired", "older" when it runs out
// before the newest one another address serves; "unsigned" where the zone is signed but this
// address answered without one; "-" where none was asked or the zone is unsigned.
std::string signature_text(const ZoneStatus& z, const NameserverStatus& s) {
    const auto& f = s.signature_findings;
    if (f.missing) return "unsigned";
    const auto sig = s.signature();
    if (!sig || !z.last_check) return "-";
    if (f.expired) return "expired";
    const std::string left = human_duration(signature_validity_left(*sig, *z.last_check));
    return f.older ? left + " left, older" : left + " left";
}

void print_table(std::ostream& out, const std::vector<ZoneStatusPtr>& zones) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"zone", "nameserver", "address", "nsid", "serial", "rtt", "state", "refreshed",
                    "signature"});
    for (const auto& zone : zones) {
        const ZoneStatus& z = *zone;
        for (const auto& s : z.servers) {
            std::string address = s.target->address;
            if (address.find(':') != std::string::npos) address = "[" + address + "]";
            if (s.target->port != 53) address += ":" + std::to_string(s.target->port);
            rows.push_back({z.zone, s.is_primary ? "(primary)" : s.target->nameserver, address,
                            nsid_text(s), s.soa ? std::to_string(s.soa->serial) : "-", rtt_text(s),
                            state_text(s), s.is_primary ? "-" : refresh_text(s),
                            signature_text(z, s)});
        }
        for (const auto& ns : z.unresolved_nameservers)
            rows.push_back({z.zone, ns.name, "-", "-", "-", "-",
                            std::string(address_error_name(ns.error)), "-", "-"});
        if (z.servers.empty() && z.unresolved_nameservers.empty())
            rows.push_back({z.zone, "-", "-", "-", "-", "-", "no_nameservers", "-", "-"});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
        }
        out << line << '\n';
    }
    // The instances behind anycast addresses (--anycast-samples): one line per address.
    for (const auto& zone : zones) {
        for (const auto& s : zone->servers) {
            if (!s.instances) continue;
            out << zone->zone << " instances behind " << describe_server(s) << ':';
            for (const auto& i : *s.instances) {
                out << ' ' << nsid_display(i.nsid) << '=' << i.serial;
                if (i.lagging) out << " (" << i.serial_behind << " behind, lagging)";
            }
            out << '\n';
        }
    }
}

// What one round cost, for --stats.
struct RoundStats {
    std::size_t zones = 0;
    uint64_t probes = 0;     // SOA probes completed (one per address and round, the primary too)
    uint64_t queries = 0;    // DNS queries sent (retries, TCP and discovery included)
    uint64_t timeouts = 0;   // probes that got no answer at all
    double seconds = 0;      // from the first check started to the last one finished
    double cpu_seconds = 0;  // user + system CPU of the process over the same time
    double cpu_system_seconds = 0;  // the kernel's share of it (system calls, the UDP path)
    long max_rss_bytes = 0;         // of the process so far
    unsigned loops = 1;             // event loops the zones were sharded across
    // sendmmsg and recvmmsg calls of the UDP queries and answers (DatagramBatch), and datagrams
    // the kernel had no room for.
    uint64_t udp_calls = 0;
    uint64_t datagrams_dropped = 0;
};

struct CpuTimes {
    double user = 0;
    double system = 0;
};

CpuTimes cpu_times_now() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

long max_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss * 1024L;
}

// One round over every zone of `config`, through the agent's own path (scheduler, zone checker,
// discovery, prober, evaluator, store) with no spread: every zone starts at once and the round
// runs as fast as the servers and the event loop allow.
SnapshotPtr check_once(Config config, RoundStats& stats) {
    // One round only: a zone's next check must not come due while slow servers hold the round
    // open (the agent's interval may be shorter than a round against timeouts).
    config.global.interval = std::chrono::hours(24);
    for (auto& zone : config.zones) zone.interval.reset();
    // As the agent: zones sharded across loops (global.loops), never more loops than zones.
    const unsigned loops = std::clamp<unsigned>(loops_to_run(config.global.loops), 1,
                                                std::max<std::size_t>(config.zones.size(), 1));
    EventLoop loop;
    DiscoveryOptions discovery_options;
    for (const auto& r : config.global.resolvers)
        discovery_options.resolvers.push_back({r.address, r.port});
    discovery_options.timeout = config.global.discovery_timeout();
    // Each loop counts its own probes; added up when every loop is done.
    std::vector<RoundStats> per_loop(loops);
    LoopSet loop_set(loop, loops, discovery_options, [&per_loop](unsigned index) {
        RoundStats* mine = &per_loop[index];
        return LoopSet::Observers{[mine](const ZoneCheckResult& r, const ZoneStatus&) {
                                      mine->probes += r.observations.size() + (r.primary ? 1 : 0);
                                      for (const auto& obs : r.observations)
                                          mine->timeouts += obs.error == ProbeError::timeout;
                                      if (r.primary)
                                          mine->timeouts += r.primary->error == ProbeError::timeout;
                                  },
                                  {}};
    });
    for (unsigned i = 0; i < loops; ++i)
        loop_set.shard(i).scheduler.set_first_round_window(EventLoop::Clock::duration::zero());
    // The transfer audits and delegation checks start after their zone's check: wait for
    // those too.
    const auto round_done = [](LoopShard& shard) {
        shard.loop.run_until([&shard] {
            return shard.scheduler.first_round_done() && shard.scheduler.audits_running() == 0;
        });
    };

    const CpuTimes cpu_before = cpu_times_now();
    const auto started = EventLoop::Clock::now();
    loop_set.start(round_done);
    loop_set.apply(config);
    round_done(loop_set.main());
    loop_set.join();  // each of the other loops ends when its round is done
    loop_set.stop();
    stats.seconds = std::chrono::duration<double>(EventLoop::Clock::now() - started).count();
    const CpuTimes cpu_after = cpu_times_now();
    stats.cpu_system_seconds = cpu_after.system - cpu_before.system;
    stats.cpu_seconds = cpu_after.user - cpu_before.user + stats.cpu_system_seconds;
    stats.zones = config.zones.size();
    for (unsigned i = 0; i < loops; ++i) {
        const LoopShard& shard = loop_set.shard(i);
        stats.probes += per_loop[i].probes;
        stats.timeouts += per_loop[i].timeouts;
        stats.queries += shard.prober.queries_sent() + shard.discovery.lookups_sent() +
                         shard.delegation_prober.queries_sent();
        // The loops have ended (join): their batches are read from here safely.
        const DatagramBatch::Stats& udp = shard.loop.datagrams().stats();
        stats.udp_calls += udp.send_calls + udp.receive_calls;
        stats.datagrams_dropped += udp.datagrams_dropped;
    }
    stats.loops = loops;
    stats.max_rss_bytes = max_rss_bytes();
    return loop_set.snapshot();
}

void print_stats(const RoundStats& s) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "soawatch check: stats zones=%zu probes=%llu queries=%llu timeouts=%llu "
                  "seconds=%.3f probes_per_second=%.0f cpu_seconds=%.3f cpu_system_seconds=%.3f "
                  "max_rss_bytes=%ld loops=%u udp_calls=%llu datagrams_dropped=%llu\n",
                  s.zones, static_cast<unsigned long long>(s.probes),
                  static_cast<unsigned long long>(s.queries),
                  static_cast<unsigned long long>(s.timeouts), s.seconds,
                  s.seconds > 0 ? static_cast<double>(s.probes) / s.seconds : 0.0, s.cpu_seconds,
                  s.cpu_system_seconds, s.max_rss_bytes, s.loops,
                  static_cast<unsigned long long>(s.udp_calls),
                  static_cast<unsigned long long>(s.datagrams_dropped));
    std::cerr << line;
}

// zones_from_catalog: each catalog transferred once (the agent's own CatalogWatcher), its members
// added to the config's zones as the agent adds them. A catalog that cannot be had adds none,
// and says why on stderr.
void add_catalog_members(Config& config) {
    if (config.catalogs.empty()) return;
    log::set_level("error");  // the failures are printed below, in check's words
    EventLoop loop;
    ZoneTransferClient client(loop);
    CatalogWatcher watcher(loop, client, [] {});
    watcher.apply(config.catalogs);
    const auto all_refreshed = [&watcher] {
        const auto catalogs = watcher.snapshot();
        return std::all_of(catalogs->begin(), catalogs->end(),
                           [](const CatalogStatus& c) { return c.refreshed; });
    };
    loop.run_until(all_refreshed);
    for (const CatalogStatus& c : *watcher.snapshot())
        if (!c.up) std::cerr << "soawatch check: catalog " << c.catalog << ": " << c.error << '\n';
    config = with_catalog_members(config, watcher.members());
}

// The zones of the command line as a configuration, so both forms take the same path.
std::optional<Config> config_from_arguments(const CheckOptions& options) {
    Config config;
    config.global = options.global;
    for (const auto& zone : options.zones) {
        if (std::any_of(config.zones.begin(), config.zones.end(),
                        [&](const ZoneConfig& z) { return z.name == zone; }))
            continue;  // named twice: checked once, printed twice
        ZoneConfig zc;
        zc.name = zone;
        zc.nameservers = options.nameservers;
        if (options.primary_text) {
            std::string error;
            zc.primary = parse_endpoint(*options.primary_text, options.global.probe.port, &error);
            if (!zc.primary) {
                std::cerr << "soawatch check: --primary: " << error << '\n';
                return std::nullopt;
            }
        }
        config.zones.push_back(std::move(zc));
    }
    return config;
}

}  // namespace

int run_check_command(int argc, char** argv) {
    const ParsedCheckOptions parsed =
        parse_check_options(std::vector<std::string>(argv, argv + argc));
    if (!parsed.error.empty()) {
        std::cerr << "soawatch check: " << parsed.error << " (see soawatch check --help)\n";
        return kExitUnknown;
    }
    const CheckOptions& options = parsed.options;
    if (options.help) {
        std::cout << kCheckUsage;
        return 0;
    }

    Config config;
    std::vector<std::string> order;  // zones in the order they are printed
    if (options.config_file) {
        try {
            config = load_config(*options.config_file);
            add_catalog_members(config);
        } catch (const std::exception& e) {
            std::cerr << "soawatch check: " << e.what() << '\n';
            return kExitUnknown;
        }
        if (config.zones.empty()) {
            std::cout << "SOA UNKNOWN - no zones in " << *options.config_file << '\n';
            return kExitUnknown;
        }
        for (const auto& zone : config.zones) order.push_back(zone.name);
    } else {
        auto from_arguments = config_from_arguments(options);
        if (!from_arguments) return kExitUnknown;
        config = std::move(*from_arguments);
        order = options.zones;
    }
    if (options.loops) config.global.loops = *options.loops;
    if (options.no_delegation_check) {
        config.global.delegation_check = nullptr;
        for (auto& zone : config.zones) zone.delegation_check.reset();
    }
    const std::string vantage = effective_vantage(options.vantage, config.global.vantage);
    // The scheduler's "first round done" is not news here.
    log::set_level("warn");

    RoundStats stats;
    SnapshotPtr snapshot;
    try {
        snapshot = check_once(std::move(config), stats);
    } catch (const std::exception& e) {
        std::cerr << "soawatch check: " << e.what() << '\n';
        return kExitUnknown;
    }
    if (options.stats) print_stats(stats);

    std::unordered_map<std::string_view, ZoneStatusPtr> by_name;
    for (const auto& zone : snapshot->zones) by_name.emplace(zone->zone, zone);
    std::vector<ZoneStatusPtr> results;
    results.reserve(order.size());
    for (const auto& name : order)
        if (auto it = by_name.find(name); it != by_name.end()) results.push_back(it->second);

    Verdict worst = Verdict::ok;
    for (const auto& z : results)
        if (verdict_info(z->verdict).severity_rank > verdict_info(worst).severity_rank)
            worst = z->verdict;

    if (options.json) {
        nlohmann::json doc;
        doc["verdict"] = verdict_name(worst);
        doc["exit_code"] = static_cast<int>(worst);
        if (!vantage.empty()) doc["vantage"] = vantage;
        doc["zones"] = nlohmann::json::array();
        for (const auto& z : results) {
            auto zone = zone_to_json(*z, vantage);
            // One look knows no history: when the reference last changed is unknown, not the
            // moment of this check.
            zone["last_serial_change"] = nullptr;
            doc["zones"].push_back(std::move(zone));
        }
        std::cout << doc.dump(2) << '\n';
        return static_cast<int>(worst);
    }

    // First line in the plugin convention (what Nagios/Icinga show), then the table and reasons.
    std::size_t not_ok = 0;
    for (const auto& z : results) not_ok += z->verdict != Verdict::ok;
    std::cout << "SOA " << verdict_name(worst) << " - ";
    if (not_ok == 0) {
        std::cout << results.size() << (results.size() == 1 ? " zone" : " zones") << " in sync\n";
    } else {
        std::cout << not_ok << " of " << results.size()
                  << (results.size() == 1 ? " zone" : " zones") << " not OK\n";
    }
    if (!options.summary) print_table(std::cout, results);
    for (const auto& z : results) {
        if (options.summary && z->verdict == Verdict::ok) continue;
        std::cout << z->zone << " " << verdict_name(z->verdict);
        if (z->reference_serial)
            std::cout << " (reference " << *z->reference_serial
                      << (z->reference_from_primary ? " from the primary" : ", the newest seen")
                      << ")";
        std::cout << '\n';
        for (const auto& reason : z->reasons) std::cout << "  - " << reason << '\n';
    }
    return static_cast<int>(worst);
}

}  // namespace soawatch
