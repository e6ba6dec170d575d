#include "exporters/api/api_json.hpp"

#include <cstddef>

#include "agent/common/text_util.hpp"
#include "exporters/api/delegation_json.hpp"
#include "exporters/api/signature_json.hpp"
#include "probes/dns_wire.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

using nlohmann::json;

json soa_to_json(const std::optional<dns::SoaRdata>& soa) {
    if (!soa) return nullptr;
    return json{{"mname", soa->mname},     {"rname", soa->rname}, {"serial", soa->serial},
                {"refresh", soa->refresh}, {"retry", soa->retry}, {"expire", soa->expire},
                {"minimum", soa->minimum}};
}

// RFC 1982 steps behind the reference: 0 in sync, null where no count applies (unusable, ahead,
// incomparable): 0 would read as "in sync".
json behind_steps(const NameserverStatus& s) {
    switch (s.state) {
        case ServerState::behind:
            return s.serial_behind;
        case ServerState::in_sync:
        case ServerState::reference:
            return 0;
        default:
            return nullptr;
    }
}

// The instances behind an anycast address (agent/anycast.hpp), by NSID; empty unless two or
// more NSIDs answered the address within the window.
json instances_to_json(const NameserverStatus& s) {
    json out = json::array();
    if (!s.instances) return out;
    for (const InstanceStatus& i : *s.instances)
        out.push_back(json{{"nsid", nsid_display(i.nsid)},
                           {"nsid_hex", nsid_hex(i.nsid)},
                           {"serial", i.serial},
                           {"behind", i.serial_behind},
                           {"lagging", i.lagging},
                           {"last_seen", rfc3339(i.last_seen)}});
    return out;
}

json server_to_json(const NameserverStatus& s) {
    json errors = json::object();
    for (ProbeError e : all_probe_errors) {
        const uint64_t n = s.errors_by_reason[static_cast<std::size_t>(e)];
        if (n != 0) errors[std::string(probe_error_name(e))] = n;
    }
    const bool has_soa = s.state != ServerState::unusable && s.soa.has_value();
    return json{
        {"nameserver", s.target->nameserver.empty() ? json(nullptr) : json(s.target->nameserver)},
        {"address", s.target->address},
        {"port", s.target->port},
        {"is_primary", s.is_primary},
        {"in_ns_set", s.in_ns_set},
        {"state", server_state_name(s.state)},
        {"serial", has_soa ? json(s.soa->serial) : json(nullptr)},
        {"behind", behind_steps(s)},
        {"lag_seconds", s.lag_seconds},
        {"behind_since", s.behind_since ? json(rfc3339(s.behind_since->wall)) : json(nullptr)},
        {"error", s.error == ProbeError::none ? json(nullptr) : json(probe_error_name(s.error))},
        {"error_detail", s.error_detail.str()},
        {"answered", s.answered},
        {"rcode", s.answered ? json(dns::rcode_name(s.rcode)) : json(nullptr)},
        {"authoritative", s.authoritative},
        {"transport", s.transport == Transport::tcp ? "tcp" : "udp"},
        {"rtt_ms", s.answered ? json(s.rtt.count() * 1000) : json(nullptr)},
        {"last_in_sync", optional_time(s.last_in_sync)},
        {"last_success", optional_time(s.last_success)},
        {"consecutive_failures", s.consecutive_failures},
        {"last_propagation_seconds",
         s.last_propagation_seconds ? json(*s.last_propagation_seconds) : json(nullptr)},
        {"probes_total", s.probes_total},
        {"probe_errors", std::move(errors)},
        {"soa", has_soa ? soa_to_json(s.soa) : json(nullptr)},
        // EDNS EXPIRE (RFC 7314): null where unknown (no usable answer with EDNS yet).
        {"expire_supported", s.expire_supported ? json(*s.expire_supported) : json(nullptr)},
        {"expire_remaining_seconds",
         s.expire_remaining ? json(*s.expire_remaining) : json(nullptr)},
        {"refresh_age_seconds", s.refresh_age ? json(*s.refresh_age) : json(nullptr)},
        {"expires_at", optional_time(s.expires_at)},
        {"expired", s.expired},
        {"refresh_failing", s.refresh_failing},
        // NSID (RFC 5001) of the instance that answered last: text (hex when not printable),
        // and always the hex of the octets; null where none was answered.
        {"nsid", s.nsid.empty() ? json(nullptr) : json(nsid_display(s.nsid))},
        {"nsid_hex", s.nsid.empty() ? json(nullptr) : json(nsid_hex(s.nsid))},
        {"dnssec", server_signature_json(s)},  // RRSIG(SOA) served: signature_json.hpp
        {"instances", instances_to_json(s)},
    };
}

json field_mismatches_json(const ZoneStatus& z) {
    json out = json::array();
    for (const auto& m : z.soa_field_mismatches)
        out.push_back(json{{"nameserver", m.nameserver},
                           {"address", m.address},
                           {"field", m.field},
                           {"value", m.value},
                           {"reference", m.reference}});
    return out;
}

// Name, error kind and detail as fields: a machine need not parse "name (reason)".
json unresolved_to_json(const std::vector<UnresolvedNameserver>& list) {
    json out = json::array();
    for (const auto& ns : list)
        out.push_back(
            {{"name", ns.name}, {"error", address_error_name(ns.error)}, {"detail", ns.detail}});
    return out;
}

json transfer_observation_to_json(const TransferObservation& obs) {
    return json{
        {"nameserver", obs.target.nameserver.empty() ? json(nullptr) : json(obs.target.nameserver)},
        {"address", obs.target.address},
        {"port", obs.target.port},
        {"result", transfer_result_name(obs.result)},
        {"detail", obs.detail},
        {"rcode", obs.rcode ? json(dns::rcode_name(*obs.rcode)) : json(nullptr)},
        {"serial", obs.serial ? json(*obs.serial) : json(nullptr)},
        {"rtt_ms", obs.rtt.count() * 1000},
        {"at", rfc3339(obs.at)},
    };
}

// The transfer audit (transfer_check), null while it is off or has not run: docs/API.md.
json transfer_to_json(const TransferAudit* audit) {
    if (audit == nullptr) return nullptr;
    json axfr = json::array();
    bool open = false;
    for (const auto& obs : audit->axfr) {
        axfr.push_back(transfer_observation_to_json(obs));
        open = open || obs.result == TransferResult::open;
    }
    const auto& keyed = audit->signed_ixfr;
    return json{
        {"audited_at", rfc3339(audit->at)},
        {"open", open},
        {"axfr", std::move(axfr)},
        {"tsig_ok", keyed ? json(keyed->result == TransferResult::ok) : json(nullptr)},
        {"signed_ixfr", keyed ? transfer_observation_to_json(*keyed) : json(nullptr)},
    };
}

}  // namespace

json optional_time(const std::optional<Clock::time_point>& t) {
    return t ? json(rfc3339(*t)) : json(nullptr);
}

json zone_to_json(const ZoneStatus& z, std::string_view vantage) {
    json servers = json::array();
    for (const NameserverStatus& s : z.servers) servers.push_back(server_to_json(s));
    json out{
        {"zone", z.zone},
        {"verdict", verdict_name(z.verdict)},
        {"consistent", z.consistent},
        {"reference_serial", z.reference_serial ? json(*z.reference_serial) : json(nullptr)},
        {"reference_source", z.reference_from_primary ? "primary" : "newest"},
        {"reference_soa", soa_to_json(z.reference_soa)},
        {"last_check", optional_time(z.last_check)},
        {"last_serial_change", optional_time(z.last_serial_change)},
        {"check_duration_ms", z.check_duration.count() * 1000},
        {"checks_total", z.checks_total},
        {"reasons", z.reasons},
        {"usable_nameservers", z.usable_servers},
        {"unresolved_nameservers", unresolved_to_json(z.unresolved_nameservers)},
        {"discovery_error", z.discovery_error.empty() ? json(nullptr) : json(z.discovery_error)},
        {"discovery_from_cache", z.discovery_from_cache},
        {"nameservers_capped", z.nameservers_capped},
        {"fast_reprobe", z.fast_reprobe},
        {"soa_fields_consistent", z.soa_field_mismatches.empty()},
        {"soa_field_mismatches", field_mismatches_json(z)},
        {"soa_timers_sane", z.reference_soa ? json(z.soa_timer_problems.empty()) : json(nullptr)},
        {"soa_timer_problems", z.soa_timer_problems},
        {"servers", std::move(servers)},
        {"transfer", transfer_to_json(z.transfer.get())},
        {"dnssec", zone_signature_json(z)},
        {"delegation", delegation_to_json(z.delegation.get(), z.delegation_checked_at)},
    };
    if (!vantage.empty()) out["vantage"] = vantage;
    return out;
}

json snapshot_to_json(const Snapshot& snapshot) {
    json zones = json::array();
    for (const ZoneStatusPtr& z : snapshot.zones)
        if (z) zones.push_back(zone_to_json(*z, snapshot.vantage));
    json out{{"generated_at", rfc3339(snapshot.taken)}, {"zones", std::move(zones)}};
    if (!snapshot.vantage.empty()) out["vantage"] = snapshot.vantage;
    return out;
}

std::string dump_snapshot_json(const Snapshot& snapshot) {
    // What dump_json writes for the object: compact, keys in sorted order ("generated_at",
    // "vantage", "zones"), array elements separated by a bare comma.
    std::string out = "{\"generated_at\":";
    out += dump_json(rfc3339(snapshot.taken));
    if (!snapshot.vantage.empty()) {
        out += ",\"vantage\":";
        out += dump_json(snapshot.vantage);
    }
    out += ",\"zones\":[";
    bool first = true;
    for (const ZoneStatusPtr& z : snapshot.zones) {
        if (!z) continue;
        if (!first) out += ',';
        first = false;
        out += dump_json(zone_to_json(*z, snapshot.vantage));
    }
    out += "]}";
    return out;
}

json labels_json(const AlertLabels& labels) {
    json out = json::object();
    for (const auto& [name, value] : labels) out[name] = value;
    return out;
}

json annotations_json(const Alert& a) {
    return json{{"summary", a.summary}, {"description", a.description}};
}

json alerts_to_json(const AlertsSnapshot& alerts) {
    json list = json::array();
    for (const Alert& a : alerts.alerts) {
        list.push_back(json{
            {"labels", labels_json(a.labels)},
            {"annotations", annotations_json(a)},
            {"state", alert_state_name(a.state)},
            {"activeAt", rfc3339(a.active_since)},
            {"firingAt", optional_time(a.firing_since)},
            {"for", format_duration(a.for_duration)},
            {"fingerprint", a.fingerprint},
            {"generatorURL", a.generator_url},
        });
    }
    return json{{"alerts", std::move(list)}};
}

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace soawatch
