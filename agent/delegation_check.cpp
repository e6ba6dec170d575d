#include "agent/delegation_check.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "agent/delegation_findings.hpp"

namespace soawatch {

namespace {

// "example.com." -> "com.", "com." -> ".", "." -> "" (the root has no parent). A label's
// escaped dot ("a\.b.example.") is not a label boundary.
std::string parent_of(const std::string& zone) {
    if (zone == "." || zone.empty()) return "";
    for (std::size_t i = 0; i < zone.size(); ++i) {
        if (zone[i] == '\\') {
            ++i;
            continue;
        }
        if (zone[i] == '.') return i + 1 < zone.size() ? zone.substr(i + 1) : ".";
    }
    return ".";
}

// What makes two lists of answers the same (the pool's key): every field, in order.
std::string answers_key(const SharedVector<NsObservation>& answers) {
    std::string key;
    const auto field = [&key](std::string_view text) {
        key += text;
        key += '\x1f';
    };
    for (const auto& obs : answers) {
        field(obs.target.nameserver);
        field(obs.target.address);
        field(std::to_string(obs.target.port));
        field(obs.error);
        field(obs.referral ? "r" : "a");
        for (const auto& name : obs.names) field(name);
        key += '\x1e';
        for (const auto& [name, address] : obs.glue) {
            field(name);
            field(address);
        }
        key += '\x1d';
    }
    return key;
}

// The audit pool's hash: enough to leave operator== a candidate or two. The lists of answers are
// interned first, so the same answers are the same storage.
std::size_t audit_hash(const DelegationAudit& audit) {
    std::string key = audit.parent_zone;
    key += '\x1f';
    key += audit.parent_error.str();
    key += '\x1f';
    key += std::to_string(reinterpret_cast<std::uintptr_t>(audit.parent.shared().get()));
    key += '\x1f';
    key += std::to_string(reinterpret_cast<std::uintptr_t>(audit.child.shared().get()));
    return std::hash<std::string>{}(key);
}

}  // namespace

struct DelegationChecker::Round {
    std::shared_ptr<DelegationAudit> audit = std::make_shared<DelegationAudit>();
    std::string zone;
    uint16_t port = 53;
    bool ipv4 = true;
    bool ipv6 = true;
    unsigned max_nameservers = 32;
    DelegationQueryOptions options;
    Callback done;
    // The answers while they come in; the audit shares them once complete.
    std::vector<NsObservation> parent, child;
    std::size_t pending = 1;  // the first phase: parent and child NS queries (+1 until sent)
    bool addresses_asked = false;
    // The zone's check uses the resolvers (a discovered NS set, or nameservers given by name);
    // a zone whose nameservers are all given as addresses never does, nor does this check.
    bool uses_resolver = true;

    void finish(WeakStringListPool& names, WeakVectorPool<NsObservation>& answers,
                WeakValuePool<DelegationAudit>& audits) {
        audit->parent = std::move(parent);
        audit->child = std::move(child);
        std::sort(audit->unresolved.begin(), audit->unresolved.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        find_delegation_problems(*audit, zone);
        // The audit lives until the zone's next check: one copy of each NS set for all zones,
        // and of each list of answers (zones on the same servers get the same ones).
        for (auto* side : {&audit->parent, &audit->child}) {
            if (side->empty()) continue;
            for (auto& obs : side->edit()) obs.names = names.intern(obs.names);
            *side = answers.intern(*side, answers_key(*side));
        }
        for (auto* set : {&audit->parent_ns, &audit->child_ns})
            if (*set) **set = names.intern(**set);
        // Zones on the same servers mostly find the same: one audit for all of them (about 250
        // bytes a zone at rest, docs/PERFORMANCE.md). Not an audit with findings: their texts
        // name the zone, no other zone has the same.
        if (audit->findings.empty()) {
            const std::size_t hash = audit_hash(*audit);
            done(audits.intern(std::move(audit), hash));
        } else {
            done(std::move(audit));
        }
    }
};

void DelegationChecker::check(const ZoneStatus& status, const ZoneCheckSpec& spec, Callback done) {
    auto round = std::make_shared<Round>();
    round->zone = spec.zone;
    round->port = spec.probe.port;
    round->ipv4 = spec.probe.ipv4;
    round->ipv6 = spec.probe.ipv6;
    round->max_nameservers = spec.max_nameservers;
    round->options.timeout = spec.probe.timeout;
    round->options.retries = spec.probe.retries;
    round->options.edns_udp_size = spec.probe.edns_udp_size;
    round->done = std::move(done);
    round->uses_resolver = spec.discovers() || !spec.nameserver_names.empty();

    // The zone's side: each address of its last check that is in its NS set, once.
    std::set<std::pair<std::string, uint16_t>> seen;
    std::vector<ProbeTarget> child;
    for (const auto& s : status.servers) {
        if (s.is_primary || !s.in_ns_set) continue;
        if (seen.emplace(s.target->address, s.target->port).second) child.push_back(s.target);
    }
    round->child.resize(child.size());
    for (std::size_t i = 0; i < child.size(); ++i) {
        ++round->pending;
        prober_.ask_ns(round->zone, child[i], round->options, [this, round, i](NsObservation obs) {
            round->child[i] = std::move(obs);
            if (--round->pending == 0) ask_addresses(round);
        });
    }

    // The parent's side.
    if (spec.parent_nameservers) {
        ask_parent_servers(round, *spec.parent_nameservers);
    } else if (const std::string parent = parent_of(round->zone); parent.empty()) {
        static const SharedString root("the root zone has no parent");
        round->audit->parent_error = root;
    } else if (!round->uses_resolver) {
        // Every zone of a large configuration may say so: one copy.
        static const SharedString addresses_only(
            "the zone's nameservers are configured as addresses: its parent's servers are not "
            "looked up (set parent_nameservers)");
        round->audit->parent_error = addresses_only;
    } else {
        ask_parent(round, parent);
    }
    if (--round->pending == 0) ask_addresses(round);
}

// The parent's servers, from the resolver: the nearest ancestor of the zone with an NS set
// (an empty non-terminal such as "b.example." in "a.b.example." has none).
void DelegationChecker::ask_parent(const std::shared_ptr<Round>& round, const std::string& parent) {
    ++round->pending;
    round->audit->parent_zone = parent;
    discovery_.discover(
        parent, round->max_nameservers, round->ipv4, round->ipv6,
        [this, round, parent](const DiscoveryResult& found) {
            std::vector<ProbeTarget> servers;
            for (const auto& ns : found.nameservers)
                for (const auto& address : ns.addresses)
                    if (servers.size() < kMaxParentAddresses)
                        servers.push_back({ns.name, address, round->port});
            if (!found.error.empty() && servers.empty()) {
                round->audit->parent_error =
                    "the parent zone " + parent + "'s servers could not be found: " + found.error;
            } else if (found.nameservers.empty() && parent != ".") {
                ask_parent(round, parent_of(parent));  // no NS set: not a zone, try higher
            } else if (servers.empty()) {
                round->audit->parent_error =
                    "the parent zone " + parent + "'s servers have no address";
            } else {
                ask_parent_servers(round, servers);
            }
            if (--round->pending == 0) ask_addresses(round);
        });
}

void DelegationChecker::ask_parent_servers(const std::shared_ptr<Round>& round,
                                           const std::vector<ProbeTarget>& servers) {
    auto& parent = round->parent;
    const std::size_t first = parent.size();
    parent.resize(first + servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
        ++round->pending;
        prober_.ask_ns(round->zone, servers[i], round->options,
                       [this, round, slot = first + i](NsObservation obs) {
                           round->parent[slot] = std::move(obs);
                           if (--round->pending == 0) ask_addresses(round);
                       });
    }
}

// The second phase, once every NS answer is in: the addresses of the NS names.
void DelegationChecker::ask_addresses(const std::shared_ptr<Round>& round) {
    if (round->addresses_asked) return;
    round->addresses_asked = true;
    DelegationAudit& audit = *round->audit;
    if (audit.parent_error.empty()) {
        bool referral = false;
        std::string why;
        for (const auto& obs : round->parent) {
            referral = referral || (obs.usable() && obs.referral);
            if (why.empty() && !obs.usable()) why = obs.target.address + ": " + obs.error;
            if (why.empty() && obs.usable() && !obs.referral)
                why = obs.target.address + " answers authoritatively: it serves the zone too " +
                      "(set parent_nameservers to the parent's own servers)";
        }
        if (!referral) audit.parent_error = "no referral from the parent's servers: " + why;
    }
    // The names of both sides; a child server that answers for the zone answers for its in-zone
    // names too (the first one that gave an NS set is asked).
    std::set<std::string> child_names, all_names;
    const NsObservation* authority = nullptr;
    for (const auto& obs : round->child) {
        if (!obs.usable() || obs.referral) continue;
        if (!authority) authority = &obs;
        child_names.insert(obs.names.begin(), obs.names.end());
    }
    all_names = child_names;
    for (const auto& obs : round->parent)
        if (obs.usable() && obs.referral) all_names.insert(obs.names.begin(), obs.names.end());

    struct Pending {
        std::size_t count = 1;
    };
    auto pending = std::make_shared<Pending>();
    auto finish_one = [this, round, pending] {
        if (--pending->count == 0) round->finish(names_, answers_, audits_);
    };
    std::size_t followed = 0;
    for (const auto& name : all_names) {
        if (++followed > kMaxNames) break;
        const bool in_child = child_names.count(name) > 0;
        if (is_in_zone(name, round->zone)) {
            if (!authority) continue;
            // Both families' answers decide whether the name has an address at all.
            struct Families {
                std::size_t answered = 0, asked = 0;
                bool failed = false, any = false;
            };
            auto families = std::make_shared<Families>();
            for (const uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA}) {
                if ((type == dns::rrtype::A && !round->ipv4) ||
                    (type == dns::rrtype::AAAA && !round->ipv6))
                    continue;
                ++families->asked;
                ++pending->count;
                audit.in_zone_addresses.emplace_back();
                const std::size_t slot = audit.in_zone_addresses.size() - 1;
                prober_.ask_addresses(
                    name, type, authority->target, round->options,
                    [round, families, slot, in_child, finish_one](AddressObservation obs) {
                        families->failed = families->failed || !obs.error.empty();
                        families->any = families->any || !obs.addresses.empty();
                        const bool last = ++families->answered == families->asked;
                        if (last && in_child && !families->failed && !families->any) {
                            round->audit->unresolved.push_back(
                                {obs.name, AddressError::no_address,
                                 obs.name + " has no address in the zone (asked " +
                                     obs.target.address + ")"});
                        }
                        round->audit->in_zone_addresses[slot] = std::move(obs);
                        finish_one();
                    });
            }
        } else if (in_child && round->uses_resolver) {
            ++pending->count;
            discovery_.resolve(
                name, round->ipv4, round->ipv6,
                [round, finish_one](const DiscoveredNameserver& ns) {
                    // A resolver that fails says nothing about the name.
                    if (ns.addresses.empty() && (ns.error_kind == AddressError::nxdomain ||
                                                 ns.error_kind == AddressError::no_address))
                        round->audit->unresolved.push_back({ns.name, ns.error_kind, ns.error});
                    finish_one();
                });
        }
    }
    finish_one();
}

}  // namespace soawatch
