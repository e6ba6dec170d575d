#include "agent/zone_check.hpp"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "agent/anycast.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch {

namespace {

// The scheduler starts up to 64 checks a pass of the loop; a few passes' worth of buffers.
constexpr std::size_t kSpareObservationBuffers = 256;
constexpr std::size_t kMaxRecycledObservations = 16;

}  // namespace

std::shared_ptr<const std::vector<ProbeTarget>> NameserverLists::intern(
    std::shared_ptr<const std::vector<ProbeTarget>> list) {
    std::string key;
    for (const auto& t : *list)
        key.append(t.nameserver)
            .append(1, '\0')
            .append(t.address)
            .append(1, '\0')
            .append(std::to_string(t.port))
            .append(1, '\n');
    auto& shared = lists_[key];
    if (!shared) shared = std::move(list);
    return shared;
}

namespace {

// Entries that parse as an address (config/endpoint.hpp) are probed as such; the others are
// host names, resolved at each check.
NameserverLists::Split split_entries(const std::vector<std::string>& entries,
                                     uint16_t default_port) {
    NameserverLists::Split split;
    std::vector<ProbeTarget> addresses;
    for (const auto& entry : entries) {
        std::string ignored;
        if (auto endpoint = parse_endpoint(entry, default_port, &ignored))
            addresses.push_back({"", endpoint->address, endpoint->port});
        else
            split.names.push_back(entry);
    }
    if (!addresses.empty())
        split.addresses = std::make_shared<const std::vector<ProbeTarget>>(std::move(addresses));
    return split;
}

}  // namespace

const NameserverLists::Split& NameserverLists::split(const std::vector<std::string>& entries,
                                                     uint16_t default_port) {
    // Zones listed one after another mostly have the same entries: no key to build then.
    if (last_ && last_port_ == default_port && last_entries_ == entries) return *last_;
    std::string key = std::to_string(default_port);
    for (const auto& entry : entries) key.append(1, '\n').append(entry);
    const auto [it, added] = splits_.try_emplace(std::move(key));
    if (added) {
        it->second = split_entries(entries, default_port);
        if (it->second.addresses) it->second.addresses = intern(std::move(it->second.addresses));
    }
    last_ = &it->second;  // unordered_map keeps its elements where they are
    last_port_ = default_port;
    last_entries_ = entries;
    return it->second;
}

ZoneCheckSpec make_check_spec(const GlobalConfig& global, const ZoneConfig& zone,
                              NameserverLists* lists) {
    ZoneCheckSpec spec;
    spec.zone = dns::canonical_name(zone.name);
    spec.primary = zone.primary;
    spec.probe = effective_probe_settings(global, zone);
    if (!zone.nameservers.empty()) {
        if (lists) {
            const auto& split = lists->split(zone.nameservers.items(), spec.probe.port);
            spec.nameserver_addresses = split.addresses;
            spec.nameserver_names = split.names;
        } else {
            auto split = split_entries(zone.nameservers.items(), spec.probe.port);
            spec.nameserver_addresses = std::move(split.addresses);
            spec.nameserver_names = std::move(split.names);
        }
    }
    spec.max_nameservers = global.max_nameservers;
    spec.max_addresses = global.max_addresses;
    spec.transfer_check = effective_transfer_check(global, zone);
    spec.instance_window = instance_window(effective_interval(global, zone));
    spec.anycast_samples = global.anycast_samples;
    spec.delegation_check = effective_delegation_check(global, zone);
    if (!zone.parent_nameservers.empty()) {
        std::vector<ProbeTarget> parents;
        for (const auto& endpoint : zone.parent_nameservers)
            parents.push_back({"", endpoint.address, endpoint.port});
        spec.parent_nameservers = std::make_shared<const std::vector<ProbeTarget>>(parents);
    }
    return spec;
}

// One check in flight: its result, the probes still out, and who waits for it.
struct ZoneChecker::Round {
    ZoneCheckResult result;
    // What a check that waits on lookups still needs of its spec once they answer (their
    // callbacks outlive the caller's spec; the whole spec is not copied for so little).
    unsigned max_addresses = 64;
    std::vector<InstanceSampling> sampling;
    unsigned anycast_samples = 0;  // the spec's
    SoaQuery query;  // the zone's SOA query, built once per check (probes share it: query_ref)
    SoaProbeOptions options;
    // Probes out, plus one until probe_all has started them all (so probes that finish early,
    // the primary's during discovery or an address's before the loop ends, cannot complete
    // the round before every probe is out).
    std::size_t pending = 1;
    Callback done;

    // The query for a probe: shares the round's ownership (no allocation of its own).
    static std::shared_ptr<const SoaQuery> query_ref(const std::shared_ptr<Round>& round) {
        return {round, &round->query};
    }

    // Called once per finished probe (`at`: its observation's moment) and once by probe_all
    // itself (now): the check finished with the last of them.
    void finish_one(const Instant& at) {
        if (--pending > 0) return;
        result.finished = at;
        done(std::move(result));
    }
};

// global.anycast_samples: an address that answered with an NSID and is not sampled already
// (known anycast) is asked again that many times at once, each on its own lane (source port).
void ZoneChecker::sample_on_first_sight(const std::shared_ptr<Round>& round, std::size_t i) {
    const SoaObservation& obs = round->result.observations[i];
    if (!obs.usable() || obs.nsid.empty()) return;
    if (std::any_of(round->sampling.begin(), round->sampling.end(),
                    [&](const InstanceSampling& s) { return s.target == obs.target; }))
        return;
    const ProbeTarget target = obs.target;
    for (unsigned lane = 1; lane <= round->anycast_samples; ++lane) {
        const std::size_t slot = round->result.instance_samples.size();
        round->result.instance_samples.emplace_back();
        ++round->pending;
        prober_.probe(
            Round::query_ref(round), target, round->options,
            [round, slot](SoaObservation sample) {
                round->result.instance_samples[slot] = std::move(sample);
                round->finish_one(round->result.instance_samples[slot].at);
            },
            lane);
    }
}

void ZoneChecker::check(const ZoneCheckSpec& spec, Callback done,
                        std::vector<InstanceSampling> sampling) {
    auto round = std::make_shared<Round>();
    round->done = std::move(done);
    round->sampling = std::move(sampling);
    round->anycast_samples = spec.anycast_samples;
    round->max_addresses = spec.max_addresses;
    auto& result = round->result;
    result.zone = spec.zone;
    result.rules = spec.rules;
    result.dnssec = spec.probe.dnssec;
    result.instance_window = spec.instance_window;
    result.started = Instant::now();
    round->options.timeout = spec.probe.timeout;
    round->options.retries = spec.probe.retries;
    round->options.edns_udp_size = spec.probe.edns_udp_size;
    round->query = build_soa_query(result.zone, round->options.edns_udp_size,
                                   spec.probe.dnssec != DnssecMode::off);
    // The hidden primary's address is configured: its probe needs no discovery, so it starts
    // now rather than after the NS lookups (it runs while they are on the wire).
    if (spec.primary) {
        ++round->pending;
        ProbeTarget primary{"", spec.primary->address, spec.primary->port};
        prober_.probe(Round::query_ref(round), primary, round->options,
                      [round](SoaObservation obs) {
                          round->result.primary = std::move(obs);
                          round->finish_one(round->result.primary->at);
                      });
    }

    auto add_addresses = [round, port = spec.probe.port](std::vector<ProbeTarget>& targets,
                                                         const DiscoveredNameserver& ns) {
        auto& r = round->result;
        if (!ns.stale.empty() && !r.discovery_from_cache) {  // the resolver is down
            r.discovery_from_cache = true;
            r.discovery_error = "addresses of " + ns.name + ": " + ns.stale;
        }
        if (ns.addresses.empty()) {
            round->result.unresolved.push_back({ns.name, ns.error_kind, ns.error});
            return;
        }
        for (const auto& address : ns.addresses) targets.push_back({ns.name, address, port});
    };

    if (spec.discovers()) {
        discovery_.discover(result.zone, spec.max_nameservers, spec.probe.ipv4, spec.probe.ipv6,
                            [this, round, add_addresses,
                             max_nameservers = spec.max_nameservers](const DiscoveryResult& found) {
                                auto& r = round->result;
                                r.discovery_error = found.error;
                                r.discovery_from_cache = found.from_cache;
                                if (found.capped)
                                    r.capped_detail = std::to_string(found.ns_total) +
                                                      " NS names, " +
                                                      std::to_string(max_nameservers) +
                                                      " followed (global.max_nameservers)";
                                std::size_t addresses = 0;
                                for (const auto& ns : found.nameservers)
                                    addresses += ns.addresses.size();
                                std::vector<ProbeTarget> targets;
                                targets.reserve(addresses);
                                for (const auto& ns : found.nameservers) add_addresses(targets, ns);
                                probe_all(round, targets);
                            });
        return;
    }
    // Configured addresses only (the usual case at scale): nothing to wait for, so no join.
    // (Without names there are addresses: else spec.discovers().)
    if (spec.nameserver_names.empty()) {
        probe_all(round, *spec.nameserver_addresses);
        return;
    }

    // Configured nameservers: addresses are used as given, names are resolved.
    struct Join {
        std::vector<ProbeTarget> targets;
        std::vector<DiscoveredNameserver> resolved;
        std::size_t pending = 1;
    };
    auto join = std::make_shared<Join>();
    if (spec.nameserver_addresses) join->targets = *spec.nameserver_addresses;
    auto finish = [this, round, join, add_addresses] {
        if (--join->pending > 0) return;
        std::sort(join->resolved.begin(), join->resolved.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        for (const auto& ns : join->resolved) add_addresses(join->targets, ns);
        probe_all(round, join->targets);
    };
    for (const auto& name : spec.nameserver_names) {
        ++join->pending;
        discovery_.resolve(name, spec.probe.ipv4, spec.probe.ipv6,
                           [join, finish](DiscoveredNameserver ns) {
                               join->resolved.push_back(std::move(ns));
                               finish();
                           });
    }
    finish();
}

void ZoneChecker::recycle(ZoneCheckResult&& result) {
    auto& buffer = result.observations;
    // A zone with hundreds of addresses does not leave its buffer to every later check.
    if (spare_observations_.size() >= kSpareObservationBuffers ||
        buffer.capacity() > kMaxRecycledObservations)
        return;
    buffer.clear();
    spare_observations_.push_back(std::move(buffer));
}

void ZoneChecker::probe_all(const std::shared_ptr<Round>& round,
                            const std::vector<ProbeTarget>& targets) {
    const std::size_t max_addresses = round->max_addresses;
    auto& result = round->result;
    // The same address may appear under two NS names (or twice): probe it once per name is
    // wasteful, but a name is what operators see, so keep each (name, address) pair once. A
    // hostile NS set can list tens of thousands of addresses: linear work only (a set only when
    // there are enough to matter; the usual handful compares directly).
    std::vector<const ProbeTarget*>& unique = unique_targets_;  // its buffer kept from the last
    unique.clear();
    std::size_t total = 0;
    std::unordered_set<std::string> seen;
    const bool few = targets.size() <= 16;
    for (const auto& t : targets) {
        const bool repeated =
            few ? std::any_of(targets.data(), &t, [&](const ProbeTarget& u) { return u == t; })
                : !seen.insert(t.nameserver + '\0' + t.address + '\0' + std::to_string(t.port))
                       .second;
        if (repeated) continue;
        ++total;
        if (unique.size() < max_addresses) unique.push_back(&t);
    }
    if (total > max_addresses) {
        result.capped_detail += (result.capped_detail.empty() ? "" : ", ") + std::to_string(total) +
                                " addresses, " + std::to_string(max_addresses) +
                                " probed (global.max_addresses)";
    }

    if (!spare_observations_.empty()) {
        result.observations = std::move(spare_observations_.back());
        spare_observations_.pop_back();
    }
    result.observations.resize(unique.size());
    round->pending += unique.size();
    for (std::size_t i = 0; i < unique.size(); ++i) {
        prober_.probe(Round::query_ref(round), *unique[i], round->options,
                      [this, round, i](SoaObservation obs) {
                          round->result.observations[i] = std::move(obs);
                          const Instant at = round->result.observations[i].at;
                          if (round->anycast_samples > 0) sample_on_first_sight(round, i);
                          round->finish_one(at);
                      });
    }
    // Anycast addresses: each sample on its own lane (channel, so source port) at once; an
    // address no longer among this round's targets is not sampled.
    std::size_t samples = 0;
    for (const auto& s : round->sampling) samples += s.samples;
    round->result.instance_samples.resize(samples);
    std::size_t next = 0;
    for (const auto& s : round->sampling) {
        const bool probed = std::any_of(unique.begin(), unique.end(),
                                        [&](const ProbeTarget* t) { return *t == s.target; });
        for (unsigned lane = 1; lane <= s.samples; ++lane, ++next) {
            if (!probed) {
                round->result.instance_samples[next].target = s.target;
                round->result.instance_samples[next].error = ProbeError::network_error;
                continue;
            }
            ++round->pending;
            prober_.probe(
                Round::query_ref(round), s.target, round->options,
                [round, next](SoaObservation obs) {
                    round->result.instance_samples[next] = std::move(obs);
                    round->finish_one(round->result.instance_samples[next].at);
                },
                lane);
        }
    }
    round->finish_one(Instant::now());
}

}  // namespace soawatch
