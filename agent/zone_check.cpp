#include "agent/zone_check.hpp"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "probes/dns_wire.hpp"

namespace soawatch {

ZoneCheckSpec make_check_spec(const GlobalConfig& global, const ZoneConfig& zone) {
    ZoneCheckSpec spec;
    spec.zone = zone.name;
    spec.primary = zone.primary;
    spec.nameservers = zone.nameservers;
    spec.probe = effective_probe_settings(global, zone);
    spec.max_nameservers = global.max_nameservers;
    spec.max_addresses = global.max_addresses;
    return spec;
}

void ZoneChecker::check(const ZoneCheckSpec& spec, Callback done) {
    auto result = std::make_shared<ZoneCheckResult>();
    result->zone = dns::canonical_name(spec.zone);
    result->started = Clock::now();

    auto add_addresses = [result, port = spec.probe.port](std::vector<ProbeTarget>& targets,
                                                          const DiscoveredNameserver& ns) {
        if (!ns.stale.empty() && !result->discovery_from_cache) {  // the resolver is down
            result->discovery_from_cache = true;
            result->discovery_error = "addresses of " + ns.name + ": " + ns.stale;
        }
        if (ns.addresses.empty()) {
            result->unresolved.push_back(ns.name + " (" + ns.error + ")");
            return;
        }
        for (const auto& address : ns.addresses) targets.push_back({ns.name, address, port});
    };

    if (spec.nameservers.empty()) {
        discovery_.discover(
            result->zone, spec.max_nameservers, spec.probe.ipv4, spec.probe.ipv6,
            [this, result, spec, add_addresses, done = std::move(done)](DiscoveryResult found) {
                result->discovery_error = found.error;
                result->discovery_from_cache = found.from_cache;
                result->capped = found.capped;
                if (found.capped)
                    result->capped_detail = std::to_string(found.ns_total) + " NS names, " +
                                            std::to_string(spec.max_nameservers) +
                                            " followed (global.max_nameservers)";
                std::vector<ProbeTarget> targets;
                for (const auto& ns : found.nameservers) add_addresses(targets, ns);
                probe_all(result, spec, std::move(targets), std::move(done));
            });
        return;
    }

    // Configured nameservers: addresses are used as given, names are resolved.
    struct Join {
        std::vector<ProbeTarget> targets;
        std::vector<DiscoveredNameserver> resolved;
        std::size_t pending = 1;
    };
    auto join = std::make_shared<Join>();
    auto shared_done = std::make_shared<Callback>(std::move(done));
    auto finish = [this, result, spec, join, shared_done, add_addresses] {
        if (--join->pending > 0) return;
        std::sort(join->resolved.begin(), join->resolved.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        for (const auto& ns : join->resolved) add_addresses(join->targets, ns);
        probe_all(result, spec, std::move(join->targets), std::move(*shared_done));
    };
    for (const auto& entry : spec.nameservers) {
        std::string ignored;
        if (auto endpoint = parse_endpoint(entry, spec.probe.port, &ignored)) {
            join->targets.push_back({"", endpoint->address, endpoint->port});
            continue;
        }
        ++join->pending;
        discovery_.resolve(entry, spec.probe.ipv4, spec.probe.ipv6,
                           [join, finish](DiscoveredNameserver ns) {
                               join->resolved.push_back(std::move(ns));
                               finish();
                           });
    }
    finish();
}

void ZoneChecker::probe_all(std::shared_ptr<ZoneCheckResult> result, const ZoneCheckSpec& spec,
                            std::vector<ProbeTarget> targets, Callback done) {
    // The same address may appear under two NS names (or twice): probe it once per name is
    // wasteful, but a name is what operators see, so keep each (name, address) pair once. A
    // hostile NS set can list tens of thousands of addresses: linear work only.
    std::vector<ProbeTarget> unique;
    std::unordered_set<std::string> seen;
    std::size_t total = 0;
    for (auto& t : targets) {
        if (!seen.insert(t.nameserver + '\0' + t.address + '\0' + std::to_string(t.port)).second)
            continue;
        ++total;
        if (unique.size() < spec.max_addresses) unique.push_back(std::move(t));
    }
    if (total > spec.max_addresses) {
        result->capped_detail +=
            (result->capped_detail.empty() ? "" : ", ") + std::to_string(total) + " addresses, " +
            std::to_string(spec.max_addresses) + " probed (global.max_addresses)";
        result->capped = true;
    }

    SoaProbeOptions options;
    options.timeout = spec.probe.timeout;
    options.retries = spec.probe.retries;
    options.edns_udp_size = spec.probe.edns_udp_size;

    result->observations.resize(unique.size());
    auto pending = std::make_shared<std::size_t>(unique.size() + 1);  // +1: sync callbacks
    auto shared_done = std::make_shared<Callback>(std::move(done));
    auto finish = [result, pending, shared_done] {
        if (--*pending > 0) return;
        result->finished = Clock::now();
        (*shared_done)(std::move(*result));
    };
    if (spec.primary) {
        ++*pending;
        ProbeTarget primary{"", spec.primary->address, spec.primary->port};
        prober_.probe(result->zone, primary, options, [result, finish](SoaObservation obs) {
            result->primary = std::move(obs);
            finish();
        });
    }
    for (std::size_t i = 0; i < unique.size(); ++i) {
        prober_.probe(result->zone, unique[i], options, [result, i, finish](SoaObservation obs) {
            result->observations[i] = std::move(obs);
            finish();
        });
    }
    finish();
}

}  // namespace soawatch
