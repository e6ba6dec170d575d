#include "agent/delegation_findings.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace soawatch {

namespace {

using Names = std::vector<std::string>;

Names difference(const Names& a, const Names& b) {  // both sorted
    Names out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::string join(const Names& names, const char* separator = ", ") {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? separator : "") + names[i];
    return out;
}

std::string who(const ProbeTarget& target) {
    if (target.nameserver.empty()) return target.address;
    return target.nameserver + " (" + target.address + ")";
}

bool is_ipv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}

void add(Names& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

void unions(DelegationAudit& audit) {
    std::set<std::string> parent, child;
    std::set<std::pair<std::string, std::string>> glue;
    bool any_parent = false, any_child = false;
    for (const auto& obs : audit.parent) {
        if (!obs.usable() || !obs.referral) continue;
        any_parent = true;
        parent.insert(obs.names.begin(), obs.names.end());
        glue.insert(obs.glue.begin(), obs.glue.end());
    }
    for (const auto& obs : audit.child) {
        if (!obs.usable() || obs.referral) continue;
        any_child = true;
        child.insert(obs.names.begin(), obs.names.end());
    }
    audit.parent_ns.reset();
    audit.child_ns.reset();
    if (any_parent) audit.parent_ns = Names(parent.begin(), parent.end());
    if (any_child) audit.child_ns = Names(child.begin(), child.end());
    audit.parent_glue.assign(glue.begin(), glue.end());
}

// RFC 1034 4.2.2: the parent's NS RRset should be the zone's own; a name only at the parent is a
// lame delegation waiting to happen (or a server the zone forgot), a name only at the child is a
// server the resolvers are never sent to.
void parent_child(const DelegationAudit& audit, const std::string& zone,
                  std::vector<DelegationFinding>& out) {
    if (!audit.parent_ns || !audit.child_ns) return;
    const Names only_parent = difference(audit.parent_ns->items(), audit.child_ns->items());
    const Names only_child = difference(audit.child_ns->items(), audit.parent_ns->items());
    if (!only_parent.empty()) {
        DelegationFinding f;
        f.problem = DelegationProblem::parent_child_differ;
        f.side = "parent";
        f.names = only_parent;
        for (const auto& obs : audit.parent)
            if (obs.usable() && obs.referral) add(f.addresses, obs.target.address);
        f.text = "the parent delegates " + zone + " to " + join(only_parent) +
                 ", which the zone's own NS set does not list (" + join(audit.child_ns->items()) +
                 ")";
        out.push_back(std::move(f));
    }
    if (!only_child.empty()) {
        DelegationFinding f;
        f.problem = DelegationProblem::parent_child_differ;
        f.side = "child";
        f.names = only_child;
        for (const auto& obs : audit.child)
            if (obs.usable() && !obs.referral) add(f.addresses, obs.target.address);
        f.text = "the NS set of " + zone + " lists " + join(only_child) +
                 ", to which the parent does not delegate (" + join(audit.parent_ns->items()) + ")";
        out.push_back(std::move(f));
    }
}

void ns_sets(const DelegationAudit& audit, const std::string& zone,
             std::vector<DelegationFinding>& out) {
    std::map<Names, std::vector<const NsObservation*>> sets;
    for (const auto& obs : audit.child)
        if (obs.usable() && !obs.referral) sets[obs.names.items()].push_back(&obs);
    if (sets.size() < 2) return;
    DelegationFinding f;
    f.problem = DelegationProblem::ns_sets_differ;
    // The names not every server lists.
    Names common = sets.begin()->first;
    for (const auto& [names, servers] : sets) {
        Names kept;
        std::set_intersection(common.begin(), common.end(), names.begin(), names.end(),
                              std::back_inserter(kept));
        common = std::move(kept);
    }
    f.names = difference(audit.child_ns->items(), common);
    f.text =
        "the servers of " + zone + " answer " + std::to_string(sets.size()) + " different NS sets:";
    bool first = true;
    for (const auto& [names, servers] : sets) {
        f.text += first ? " " : "; ";
        first = false;
        for (std::size_t i = 0; i < servers.size(); ++i) {
            f.text += (i ? ", " : "") + who(servers[i]->target);
            add(f.addresses, servers[i]->target.address);
        }
        f.text += " answer " + join(names);
    }
    out.push_back(std::move(f));
}

// Glue for an in-zone name is a copy of the zone's own address records (RFC 1034 4.2.1): a copy
// that differs sends resolvers to an address the zone does not list. Compared per address family
// the parent gives glue of: a missing family is no mismatch.
void glue(const DelegationAudit& audit, const std::string& zone,
          std::vector<DelegationFinding>& out) {
    std::map<std::string, Names> glue_by_name;
    for (const auto& [name, address] : audit.parent_glue)
        if (is_in_zone(name, zone)) glue_by_name[name].push_back(address);
    for (const auto& [name, glue_addresses] : glue_by_name) {
        // One finding per name (both families in it): a name is one alert line.
        DelegationFinding f;
        f.problem = DelegationProblem::glue_mismatch;
        f.side = "parent";
        f.names = {name};
        for (const bool v6 : {false, true}) {
            Names glued;
            for (const auto& a : glue_addresses)
                if (is_ipv6(a) == v6) glued.push_back(a);
            if (glued.empty()) continue;
            const AddressObservation* own = nullptr;
            for (const auto& obs : audit.in_zone_addresses)
                if (obs.name == name && obs.type == (v6 ? dns::rrtype::AAAA : dns::rrtype::A) &&
                    obs.error.empty())
                    own = &obs;
            if (!own || own->addresses == glued) continue;
            for (const auto& a : glued) add(f.addresses, a);
            for (const auto& a : own->addresses) add(f.addresses, a);
            f.text += std::string(f.text.empty() ? "" : "; ") + "the parent's glue for " + name +
                      " is " + join(glued) + ", the zone says " +
                      (own->addresses.empty() ? std::string("it has no ") + (v6 ? "AAAA" : "A")
                                              : join(own->addresses));
        }
        if (!f.text.empty()) out.push_back(std::move(f));
    }
}

void unresolvable(const DelegationAudit& audit, const std::string& zone,
                  std::vector<DelegationFinding>& out) {
    if (audit.unresolved.empty()) return;
    DelegationFinding f;
    f.problem = DelegationProblem::ns_unresolvable;
    f.side = "child";
    std::string details;
    for (const auto& u : audit.unresolved) {
        f.names.push_back(u.name);
        details += (details.empty() ? "" : "; ") + u.detail;
    }
    f.text = "NS name(s) of " + zone + " without an address: " + join(f.names) +
             (details.empty() ? "" : " (" + details + ")");
    out.push_back(std::move(f));
}

// RFC 1034 4.1: "at least two name servers" per zone; RFC 2182 5 explains why.
void too_few(const std::optional<SharedStringList>& set, const char* side, const std::string& zone,
             std::vector<DelegationFinding>& out) {
    if (!set || set->size() >= 2) return;
    DelegationFinding f;
    f.problem = DelegationProblem::too_few_ns;
    f.side = side;
    f.names = set->items();
    f.text = std::string(side == std::string("parent") ? "the parent delegates " + zone + " to "
                                                       : "the NS set of " + zone + " has ") +
             std::to_string(set->size()) + " name" + (set->size() == 1 ? "" : "s") +
             (set->empty() ? "" : " (" + join(set->items()) + ")") +
             ": at least two are needed (RFC 1034 4.1, RFC 2182 5)";
    out.push_back(std::move(f));
}

}  // namespace

bool is_in_zone(const std::string& name, const std::string& zone) {
    if (zone == ".") return true;
    if (name == zone) return true;
    return name.size() > zone.size() &&
           name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
           name[name.size() - zone.size() - 1] == '.';
}

void find_delegation_problems(DelegationAudit& audit, const std::string& zone) {
    unions(audit);
    audit.findings.clear();
    parent_child(audit, zone, audit.findings);
    ns_sets(audit, zone, audit.findings);
    glue(audit, zone, audit.findings);
    unresolvable(audit, zone, audit.findings);
    too_few(audit.parent_ns, "parent", zone, audit.findings);
    too_few(audit.child_ns, "child", zone, audit.findings);
}

void apply_delegation_findings(ZoneStatus& status) {
    if (!status.delegation || status.delegation->findings.empty()) return;
    for (const auto& f : status.delegation->findings) status.reasons.push_back(f.text);
    if (status.verdict == Verdict::ok) status.verdict = Verdict::warning;
}

}  // namespace soawatch
