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
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/cli/commands.hpp"
#include "agent/common/log.hpp"
#include "agent/config/config.hpp"
#include "agent/scheduler.hpp"
#include "agent/status_store.hpp"
#include "agent/zone_check.hpp"
#include "exporters/api/api_json.hpp"
#include "probes/dns_wire.hpp"
#include "probes/event_loop.hpp"

namespace soawatch {

namespace {

constexpr int kExitUnknown = 3;

const char* const kUsage = R"(Usage: soawatch check [options] ZONE...
       soawatch check --config.file=FILE [--json] [--summary] [--stats]

Asks every authoritative nameserver address of each ZONE for its SOA (RD=0, straight to the
address, UDP with TCP on truncation), compares the serials (RFC 1982) and prints one row per
address with a verdict. Exit codes follow the Nagios/Icinga plugin conventions:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the worst zone decides: CRITICAL > WARNING > UNKNOWN > OK).

With --config.file, every zone of the agent's configuration file is checked once, with its
settings (nameservers, primary, port, timeout, retries, resolvers), all at once, through the
agent's own scheduler, prober and evaluator.

Options:
  --config.file FILE         check every zone of this agent configuration file (no ZONE
                             arguments and no probe options below then)
  --resolver IP[:PORT]       recursive resolver for discovering NS names and their addresses
                             (repeatable; default: the system's /etc/resolv.conf)
  --port N                   port of the authoritative servers (default 53)
  --primary IP[:PORT]        hidden primary: its serial is the reference (default: the newest
                             serial seen among the nameservers)
  --nameserver NAME_OR_IP    probe this nameserver instead of discovering the NS set
                             (repeatable; IP[:PORT] or a host name resolved via --resolver)
  --timeout DURATION         per-try timeout, e.g. 500ms, 2s (default 2s)
  --retries N                tries after the first on timeout (default 2)
  --edns-bufsize N           EDNS UDP payload size to advertise; 0 sends plain RFC 1035
                             queries (default 1232)
  -4                         probe IPv4 addresses only
  -6                         probe IPv6 addresses only
  --json                     print the result as one JSON document
  --summary                  print the first line and the zones that are not OK, no table
  --stats                    print one line about the round on stderr: zones, probes, seconds,
                             probes per second, CPU seconds, peak memory
  -h, --help                 show this help
)";

struct CheckOptions {
    std::vector<Endpoint> resolvers;
    GlobalConfig global;
    std::optional<std::string> primary_text;
    std::vector<std::string> nameservers;
    std::vector<std::string> zones;
    std::optional<std::string> config_file;
    bool probe_options = false;  // any option that --config.file replaces
    bool json = false;
    bool summary = false;
    bool stats = false;
};

class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

unsigned parse_unsigned(const std::string& flag, const std::string& value, unsigned max) {
    if (value.empty() || value.size() > 10 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw UsageError(flag + ": not a number: \"" + value + "\"");
    unsigned long n = std::stoul(value);
    if (n > max)
        throw UsageError(flag + ": " + value + " is out of range (0.." + std::to_string(max) + ")");
    return static_cast<unsigned>(n);
}

CheckOptions parse_check_args(int argc, char** argv) {
    CheckOptions o;
    bool only4 = false, only6 = false;
    std::vector<std::string> args(argv, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        std::string value;
        bool has_inline = false;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_inline = true;
            }
        }
        auto need_value = [&]() -> std::string {
            if (has_inline) return value;
            if (i + 1 >= args.size()) throw UsageError(arg + ": needs a value");
            return args[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            std::exit(0);
        } else if (arg == "--config.file") {
            o.config_file = need_value();
        } else if (arg == "--resolver") {
            o.probe_options = true;
            std::string error;
            auto ep = parse_endpoint(need_value(), 53, &error);
            if (!ep) throw UsageError("--resolver: " + error);
            o.resolvers.push_back(*ep);
        } else if (arg == "--port") {
            o.probe_options = true;
            unsigned port = parse_unsigned(arg, need_value(), 65535);
            if (port == 0) throw UsageError("--port: 0 is not a port");
            o.global.probe.port = static_cast<uint16_t>(port);
        } else if (arg == "--primary") {
            o.probe_options = true;
            o.primary_text = need_value();
        } else if (arg == "--nameserver") {
            o.probe_options = true;
            o.nameservers.push_back(need_value());
        } else if (arg == "--timeout") {
            o.probe_options = true;
            std::string v = need_value();
            auto d = parse_duration(v);
            if (!d || d->count() <= 0)
                throw UsageError("--timeout: not a duration: \"" + v + "\" (use e.g. 500ms, 2s)");
            o.global.probe.timeout = *d;
        } else if (arg == "--retries") {
            o.probe_options = true;
            o.global.probe.retries = parse_unsigned(arg, need_value(), 10);
        } else if (arg == "--edns-bufsize") {
            o.probe_options = true;
            unsigned size = parse_unsigned(arg, need_value(), 65535);
            if (size != 0 && size < 512) throw UsageError("--edns-bufsize: 0 or 512..65535");
            o.global.probe.edns_udp_size = static_cast<uint16_t>(size);
        } else if (arg == "-4") {
            o.probe_options = true;
            only4 = true;
        } else if (arg == "-6") {
            o.probe_options = true;
            only6 = true;
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "--summary") {
            o.summary = true;
        } else if (arg == "--stats") {
            o.stats = true;
        } else if (!arg.empty() && arg[0] == '-') {
            throw UsageError("unknown option " + arg + " (see soawatch check --help)");
        } else {
            std::string reason = dns::validate_name(arg);
            if (!reason.empty()) throw UsageError("invalid zone name \"" + arg + "\": " + reason);
            o.zones.push_back(dns::canonical_name(arg));
        }
    }
    if (o.json && o.summary) throw UsageError("--json and --summary exclude each other");
    if (o.config_file) {
        if (!o.zones.empty() || o.probe_options)
            throw UsageError(
                "--config.file: zones and probe settings come from the file; give no ZONE "
                "arguments and no probe options with it");
        return o;
    }
    if (only4 && only6) throw UsageError("-4 and -6 exclude each other");
    if (only4) o.global.probe.ipv6 = false;
    if (only6) o.global.probe.ipv4 = false;
    if (o.zones.empty()) throw UsageError("no zone given (see soawatch check --help)");
    for (const auto& ns : o.nameservers) {
        std::string error;
        if (!parse_endpoint(ns, o.global.probe.port, &error) && !dns::validate_name(ns).empty())
            throw UsageError("--nameserver: \"" + ns + "\" is neither an IP[:PORT] nor a name");
    }
    o.global.resolvers = o.resolvers;
    return o;
}

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

void print_table(std::ostream& out, const std::vector<ZoneStatusPtr>& zones) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"zone", "nameserver", "address", "serial", "rtt", "state"});
    for (const auto& zone : zones) {
        const ZoneStatus& z = *zone;
        for (const auto& s : z.servers) {
            std::string address = s.target.address;
            if (address.find(':') != std::string::npos) address = "[" + address + "]";
            if (s.target.port != 53) address += ":" + std::to_string(s.target.port);
            rows.push_back({z.zone, s.is_primary ? "(primary)" : s.target.nameserver, address,
                            s.soa ? std::to_string(s.soa->serial) : "-", rtt_text(s),
                            state_text(s)});
        }
        for (const auto& name : z.unresolved_nameservers)
            rows.push_back({z.zone, name.substr(0, name.find(' ')), "-", "-", "-", "no_address"});
        if (z.servers.empty() && z.unresolved_nameservers.empty())
            rows.push_back({z.zone, "-", "-", "-", "-", "no_nameservers"});
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
}

int severity_rank(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return 0;
        case Verdict::unknown:
            return 1;
        case Verdict::warning:
            return 2;
        case Verdict::critical:
            return 3;
    }
    return 1;
}

// What one round cost, for --stats.
struct RoundStats {
    std::size_t zones = 0;
    uint64_t probes = 0;     // SOA probes completed (one per address and round, the primary too)
    uint64_t queries = 0;    // DNS queries sent (retries, TCP and discovery included)
    uint64_t timeouts = 0;   // probes that got no answer at all
    double seconds = 0;      // from the first check started to the last one finished
    double cpu_seconds = 0;  // user + system CPU of the process over the same time
    long max_rss_bytes = 0;  // of the process so far
};

double cpu_seconds_now() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
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
    EventLoop loop;
    DiscoveryOptions discovery_options;
    for (const auto& r : config.global.resolvers)
        discovery_options.resolvers.push_back({r.address, r.port});
    discovery_options.timeout = config.global.probe.timeout;
    Discovery discovery(loop, discovery_options);
    SoaProber prober(loop);
    ZoneChecker checker(discovery, prober);
    StatusStore store;
    Scheduler scheduler(loop, checker, store,
                        [&stats](const ZoneCheckResult& r, const ZoneStatus&) {
                            stats.probes += r.observations.size() + (r.primary ? 1 : 0);
                            for (const auto& obs : r.observations)
                                stats.timeouts += obs.error == ProbeError::timeout;
                            if (r.primary)
                                stats.timeouts += r.primary->error == ProbeError::timeout;
                        });
    scheduler.set_first_round_window(EventLoop::Clock::duration::zero());

    const double cpu_before = cpu_seconds_now();
    const auto started = EventLoop::Clock::now();
    scheduler.apply(config);
    loop.run_until([&] { return scheduler.first_round_done(); });
    stats.seconds = std::chrono::duration<double>(EventLoop::Clock::now() - started).count();
    stats.cpu_seconds = cpu_seconds_now() - cpu_before;
    stats.zones = config.zones.size();
    stats.queries = prober.queries_sent() + discovery.lookups_sent();
    stats.max_rss_bytes = max_rss_bytes();
    scheduler.stop();
    return store.snapshot();
}

void print_stats(const RoundStats& s) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "soawatch check: stats zones=%zu probes=%llu queries=%llu timeouts=%llu "
                  "seconds=%.3f probes_per_second=%.0f cpu_seconds=%.3f max_rss_bytes=%ld\n",
                  s.zones, static_cast<unsigned long long>(s.probes),
                  static_cast<unsigned long long>(s.queries),
                  static_cast<unsigned long long>(s.timeouts), s.seconds,
                  s.seconds > 0 ? static_cast<double>(s.probes) / s.seconds : 0.0, s.cpu_seconds,
                  s.max_rss_bytes);
    std::cerr << line;
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
    CheckOptions options;
    try {
        options = parse_check_args(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "soawatch check: " << e.what() << '\n';
        return kExitUnknown;
    }

    Config config;
    std::vector<std::string> order;  // zones in the order they are printed
    if (options.config_file) {
        try {
            config = load_config(*options.config_file);
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
        if (severity_rank(z->verdict) > severity_rank(worst)) worst = z->verdict;

    if (options.json) {
        nlohmann::json doc;
        doc["verdict"] = verdict_name(worst);
        doc["exit_code"] = static_cast<int>(worst);
        doc["zones"] = nlohmann::json::array();
        for (const auto& z : results) doc["zones"].push_back(zone_to_json(*z));
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
