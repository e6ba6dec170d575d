#include "exporters/api/delegation_json.hpp"

#include "agent/common/text_util.hpp"

namespace soawatch {

namespace {

using nlohmann::json;

json optional_names(const std::optional<SharedStringList>& names) {
    return names ? json(names->items()) : json(nullptr);
}

json ns_answer_to_json(const NsObservation& obs) {
    json glue = json::array();
    for (const auto& [name, address] : obs.glue)
        glue.push_back({{"name", name}, {"address", address}});
    return json{
        {"nameserver", obs.target.nameserver.empty() ? json(nullptr) : json(obs.target.nameserver)},
        {"address", obs.target.address},
        {"port", obs.target.port},
        {"error", obs.error.empty() ? json(nullptr) : json(obs.error)},
        {"referral", obs.referral},
        {"ns", obs.names.items()},
        {"glue", std::move(glue)},
    };
}

}  // namespace

json delegation_to_json(const DelegationAudit* audit, OptionalTime checked_at) {
    if (audit == nullptr) return nullptr;
    json parent = json::array();
    for (const auto& obs : audit->parent) parent.push_back(ns_answer_to_json(obs));
    json child = json::array();
    for (const auto& obs : audit->child) child.push_back(ns_answer_to_json(obs));
    json glue = json::array();
    for (const auto& [name, address] : audit->parent_glue)
        glue.push_back({{"name", name}, {"address", address}});
    json own = json::array();
    for (const auto& obs : audit->in_zone_addresses) {
        own.push_back({{"name", obs.name},
                       {"type", obs.type == dns::rrtype::AAAA ? "AAAA" : "A"},
                       {"asked", obs.target.address},
                       {"error", obs.error.empty() ? json(nullptr) : json(obs.error)},
                       {"addresses", obs.addresses}});
    }
    json unresolved = json::array();
    for (const auto& u : audit->unresolved)
        unresolved.push_back(
            {{"name", u.name}, {"error", address_error_name(u.error)}, {"detail", u.detail}});
    json findings = json::array();
    for (const auto& f : audit->findings) {
        findings.push_back({{"reason", delegation_problem_reason(f.problem)},
                            {"side", f.side.empty() ? json(nullptr) : json(f.side)},
                            {"names", f.names},
                            {"addresses", f.addresses},
                            {"text", f.text}});
    }
    const bool parent_view = audit->parent_ns && audit->child_ns;
    return json{
        {"checked_at", checked_at ? json(rfc3339(*checked_at)) : json(nullptr)},
        {"consistent", parent_view ? json(!audit->has(DelegationProblem::parent_child_differ) &&
                                          !audit->has(DelegationProblem::glue_mismatch))
                                   : json(nullptr)},
        {"ns_set_consistent",
         audit->child_ns ? json(!audit->has(DelegationProblem::ns_sets_differ)) : json(nullptr)},
        {"parent_zone", audit->parent_zone.empty() ? json(nullptr) : json(audit->parent_zone)},
        {"parent_error",
         audit->parent_error.empty() ? json(nullptr) : json(audit->parent_error.str())},
        {"parent_ns", optional_names(audit->parent_ns)},
        {"parent_glue", std::move(glue)},
        {"child_ns", optional_names(audit->child_ns)},
        {"in_zone_addresses", std::move(own)},
        {"unresolved", std::move(unresolved)},
        {"findings", std::move(findings)},
        {"parent", std::move(parent)},
        {"child", std::move(child)},
    };
}

}  // namespace soawatch
