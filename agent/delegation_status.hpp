// What the delegation check (agent/delegation_check) found for one zone: the parent's view (its
// referral: NS set and glue), the zone's own view (each address's NS set, the zone's addresses
// for its in-zone NS names), and the findings drawn from both (agent/delegation_findings).
// Shared between the statuses of one zone until the next check.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/delegation_answer.hpp"
#include "probes/discovery.hpp"

namespace soawatch {

// One kind of delegation problem: its reason code (metrics, API, alerts) and its own finding.
enum class DelegationProblem {
    parent_child_differ,  // names in the parent's NS set or the child's only (RFC 1034 4.2.2)
    ns_sets_differ,       // the zone's servers answer different NS sets
    glue_mismatch,        // the parent's glue differs from the zone's own A/AAAA
    ns_unresolvable,      // an NS name of the zone has no address
    too_few_ns,           // fewer than two NS names (RFC 1034 4.1, RFC 2182 5)
};
struct DelegationProblemInfo {
    DelegationProblem problem;
    std::string_view reason;  // soawatch_delegation_problem{reason}
};
inline constexpr std::array<DelegationProblemInfo, 5> kDelegationProblems{{
    {DelegationProblem::parent_child_differ, "parent_child_ns_differ"},
    {DelegationProblem::ns_sets_differ, "ns_sets_differ"},
    {DelegationProblem::glue_mismatch, "glue_mismatch"},
    {DelegationProblem::ns_unresolvable, "ns_unresolvable"},
    {DelegationProblem::too_few_ns, "too_few_ns"},
}};
static_assert(kDelegationProblems.back().problem == DelegationProblem::too_few_ns,
              "the table covers the enum");
constexpr std::string_view delegation_problem_reason(DelegationProblem p) {
    return kDelegationProblems[static_cast<std::size_t>(p)].reason;
}

struct DelegationFinding {
    DelegationProblem problem = DelegationProblem::parent_child_differ;
    // Where the names are: "parent" (only the parent has them, or its glue / NS set is the
    // problem), "child" (only the zone's servers have them), "" (the zone's servers disagree
    // among themselves).
    std::string side;
    std::vector<std::string> names;      // the NS names concerned
    std::vector<std::string> addresses;  // the addresses concerned (servers, glue, authoritative)
    std::string text;                    // one sentence, for people (reasons, alerts, page)
    bool operator==(const DelegationFinding&) const = default;
};

// What it found, and nothing about when (ZoneStatus::delegation_checked_at): zones whose
// checks found the same share one audit (agent/delegation_check.cpp), as most zones of an
// operator do.
struct DelegationAudit {
    // The parent's side: the zone asked at the parent zone's servers.
    std::string parent_zone;    // where the parent's servers came from ("" when configured)
    SharedString parent_error;  // why there is no parent view (empty: there is one)
    // Shared between zones whose answers are the same (agent/delegation_check).
    SharedVector<NsObservation> parent;
    // The parent's NS set and glue: the union over the parent servers that sent a referral;
    // absent when none did.
    std::optional<SharedStringList> parent_ns;
    std::vector<std::pair<std::string, std::string>> parent_glue;  // (name, address)
    // The zone's side: each address of the zone (from its last check) asked for the NS set.
    SharedVector<NsObservation> child;         // shared as `parent`
    std::optional<SharedStringList> child_ns;  // union of the usable answers
    // The zone's own A/AAAA for its in-zone NS names (asked at one of its servers).
    std::vector<AddressObservation> in_zone_addresses;
    // NS names of the zone (either side) with no address.
    std::vector<UnresolvedNameserver> unresolved;
    std::vector<DelegationFinding> findings;

    bool operator==(const DelegationAudit&) const = default;

    bool has(DelegationProblem p) const {
        for (const auto& f : findings)
            if (f.problem == p) return true;
        return false;
    }
};

}  // namespace soawatch
