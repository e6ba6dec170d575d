#include "exporters/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/common/text_util.hpp"
#include "agent/common/thread_annotations.hpp"
#include "exporters/metrics/process_metrics.hpp"
#include "exporters/metrics/prom_text.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

// ---- per-zone families ------------------------------------------------------------------------

enum ZoneFamily : std::size_t {
    kZoneStatus,
    kZoneConsistent,
    kReferenceSerial,
    kSoaSerial,
    kSerialBehind,
    kSerialLag,
    kNameserverUp,
    kPrimaryUp,
    kPrimaryInfo,
    kProbeErrors,
    kLastSerialChange,
    kLastCheck,
    kSoaRefresh,
    kSoaRetry,
    kSoaExpire,
    kSoaMinimum,
    kSoaFieldsConsistent,
    kLastPropagation,
    kZoneAddresses,
    kZoneUsable,
    kZoneUnresolved,
    kZoneCapped,
    kZoneDiscoveryFromCache,
    kExpireRemaining,
    kRefreshAge,
    kSoaTimersSane,
    kTransferOpen,
    kTransferTsigOk,
    kInstanceInfo,
    kRrsigExpiration,
    kRrsigInception,
    kInstanceSerialBehind,
    kDelegationConsistent,
    kNsSetConsistent,
    kDelegationProblem,
    kDelegationFindingInfo,
    kZoneFamilyCount,
};

struct FamilyDef {
    std::string_view name;
    std::string_view help;
    std::string_view type;
};

constexpr std::array<FamilyDef, kZoneFamilyCount> kZoneFamilies{{
    {"soawatch_zone_status",
     "Verdict of the zone's last check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", "gauge"},
    {"soawatch_zone_consistent",
     "1 when every usable nameserver of the zone has the reference serial.", "gauge"},
    {"soawatch_reference_serial", "The SOA serial every nameserver of the zone should have.",
     "gauge"},
    {"soawatch_soa_serial", "SOA serial the nameserver address answered in the last check.",
     "gauge"},
    {"soawatch_serial_behind",
     "RFC 1982 serial steps the nameserver address is behind the reference, 0 when in sync.",
     "gauge"},
    {"soawatch_serial_lag_seconds",
     "Seconds the nameserver address has lacked the reference serial, 0 when in sync.", "gauge"},
    {"soawatch_nameserver_up",
     "1 when the nameserver address answered authoritatively with the zone's SOA.", "gauge"},
    {"soawatch_primary_up", "1 when the configured hidden primary answered with the SOA.", "gauge"},
    {"soawatch_primary_info",
     "1 for the configured hidden primary: the labels its per-address series carry (leave it out "
     "of nameserver rules with: unless on (zone, nameserver, address) soawatch_primary_info).",
     "gauge"},
    {"soawatch_probe_errors_total", "Failed SOA probes of the nameserver address by reason.",
     "counter"},
    {"soawatch_last_serial_change_timestamp_seconds",
     "Unix time the zone's reference serial last changed.", "gauge"},
    {"soawatch_last_check_timestamp_seconds", "Unix time of the zone's last completed check.",
     "gauge"},
    {"soawatch_soa_refresh_seconds", "REFRESH timer of the zone's reference SOA.", "gauge"},
    {"soawatch_soa_retry_seconds", "RETRY timer of the zone's reference SOA.", "gauge"},
    {"soawatch_soa_expire_seconds", "EXPIRE timer of the zone's reference SOA.", "gauge"},
    {"soawatch_soa_minimum_seconds", "MINIMUM (negative caching TTL) of the zone's reference SOA.",
     "gauge"},
    {"soawatch_soa_fields_consistent",
     "1 when every usable nameserver's SOA has the reference MNAME, RNAME and timers.", "gauge"},
    {"soawatch_last_propagation_seconds",
     "Seconds the last new reference serial took to reach the nameserver address.", "gauge"},
    {"soawatch_zone_nameserver_addresses", "Addresses of the zone's NS set being probed.", "gauge"},
    {"soawatch_zone_usable_nameservers",
     "Addresses of the zone's NS set that answered with a usable SOA.", "gauge"},
    {"soawatch_zone_unresolved_nameservers", "NS names of the zone that resolved to no address.",
     "gauge"},
    {"soawatch_zone_nameservers_capped",
     "1 when the zone has more NS names or addresses than global.max_nameservers or "
     "global.max_addresses allow; the rest are not probed.",
     "gauge"},
    {"soawatch_zone_discovery_from_cache",
     "1 when the resolver failed and the zone's nameservers come from the last good answer.",
     "gauge"},
    {"soawatch_expire_remaining_seconds",
     "EDNS EXPIRE (RFC 7314) the nameserver address answered: seconds before it would expire the "
     "zone; absent where it does not answer the option.",
     "gauge"},
    {"soawatch_refresh_age_seconds",
     "Reference SOA expire minus the EDNS EXPIRE answered: seconds since that secondary last "
     "reached its primary.",
     "gauge"},
    {"soawatch_soa_timers_sane",
     "1 when the reference SOA's timers pass the sanity rules (retry < refresh, expire > refresh "
     "+ retry, expire and minimum within SOATimersUnsafe's limits).",
     "gauge"},
    {"soawatch_transfer_open",
     "1 when an unsigned AXFR from soawatch is answered with the zone (transfer_check), 0 when "
     "refused or failed.",
     "gauge"},
    {"soawatch_transfer_tsig_ok",
     "1 when a TSIG-signed IXFR of the hidden primary with the transfer_check key verifies.",
     "gauge"},
    {"soawatch_nameserver_instance_info",
     "1 for the NSID (RFC 5001) of the instance that last answered the nameserver address: its "
     "text, or hex when not printable. One series per address at a time.",
     "gauge"},
    {"soawatch_rrsig_expiration_timestamp_seconds",
     "Expiration (RFC 4034 3.1.5) of the RRSIG(SOA) the nameserver address served in its last "
     "usable answer; absent where it served none.",
     "gauge"},
    {"soawatch_rrsig_inception_timestamp_seconds",
     "Inception (RFC 4034 3.1.5) of the RRSIG(SOA) the nameserver address served in its last "
     "usable answer; absent where it served none.",
     "gauge"},
    {"soawatch_instance_serial_behind",
     "RFC 1982 steps the instance (NSID) behind an anycast address is behind the reference "
     "serial, 0 when in sync; only for addresses answered from two or more NSIDs within three "
     "intervals, at most 8 instances each.",
     "gauge"},
    {"soawatch_delegation_consistent",
     "1 when the parent's NS set and glue match the zone's own (delegation_check); absent "
     "without a referral from the parent.",
     "gauge"},
    {"soawatch_ns_set_consistent",
     "1 when every server of the zone answers the same NS set (delegation_check).", "gauge"},
    {"soawatch_delegation_problem",
     "1 while the delegation check finds this problem (reason: parent_child_ns_differ, "
     "ns_sets_differ, glue_mismatch, ns_unresolvable, too_few_ns), else 0; only for zones "
     "with at least one finding.",
     "gauge"},
    {"soawatch_delegation_finding_info",
     "1 per finding of the delegation check: its reason, side (parent, child, or empty) and the "
     "NS names concerned (comma-separated), for alert texts.",
     "gauge"},
}};

double unix_seconds(Clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

bool usable(const NameserverStatus& s) {
    return s.state != ServerState::unusable;
}

// The labels every zone and nameserver series starts with: vantage="NAME" when the agent has a
// vantage, none otherwise (no empty label). Every series written through ZoneLabels (l.zone,
// l.of(s)) and the per-nameserver totals start with these; a registry family gets them as its
// constant labels (vantage_labels()). This is the one place: a new family that builds its labels
// from these gets the vantage without knowing of it.
prom::LabelSet agent_labels(std::string_view vantage) {
    prom::LabelSet labels;
    if (!vantage.empty()) labels.add("vantage", vantage);
    return labels;
}

std::map<std::string, std::string> vantage_labels(const std::string& vantage) {
    if (vantage.empty()) return {};
    return {{"vantage", prom::valid_utf8(vantage)}};
}

// The agent's labels, then the zone label, and those with nameserver and address, reused from
// zone to zone (their strings keep their capacity).
struct ZoneLabels {
    explicit ZoneLabels(std::string_view vantage) : agent(agent_labels(vantage)) {}

    prom::LabelSet agent;
    prom::LabelSet zone;
    prom::LabelSet address;

    void set_zone(const ZoneStatus& z) {
        zone = agent;
        zone.add("zone", z.zone);
    }
    const prom::LabelSet& of(const NameserverStatus& s) {
        address = zone;
        address.add("nameserver", nameserver_label(s.target)).add("address", s.target->address);
        return address;
    }
};

bool primary_up(const ZoneStatus& z) {
    return std::any_of(z.servers.begin(), z.servers.end(),
                       [](const NameserverStatus& s) { return s.is_primary && usable(s); });
}

// Servers at the reference serial agree with the reference SOA (agent/replication.cpp decides,
// so the metric, the API and SOAFieldsMismatch say the same).
bool soa_fields_consistent(const ZoneStatus& z) {
    return z.soa_field_mismatches.empty();
}

uint64_t ns_set_addresses(const ZoneStatus& z) {
    return static_cast<uint64_t>(std::count_if(
        z.servers.begin(), z.servers.end(), [](const NameserverStatus& s) { return s.in_ns_set; }));
}

// Zone z's samples of family f (none when the zone has no such series). Without
// `per_address`, the per-address families (soa_serial, serial_behind, serial_lag_seconds,
// nameserver_up, probe_errors_total, last_propagation_seconds) are left out. Samples of one zone
// come in the order of its servers.
void append_zone_family(std::string& out, ZoneFamily f, const ZoneStatus& z, bool per_address,
                        ZoneLabels& l) {
    using prom::append_sample;
    const std::string_view name = kZoneFamilies[f].name;
    const dns::SoaRdata* soa = z.reference_soa ? &*z.reference_soa : nullptr;
    switch (f) {
        case kSoaSerial:
        case kSerialBehind:
        case kSerialLag:
        case kNameserverUp:
        case kProbeErrors:
        case kLastPropagation:
        case kExpireRemaining:
        case kRefreshAge:
        case kInstanceInfo:
        case kRrsigExpiration:
        case kRrsigInception:
        case kInstanceSerialBehind:
            if (!per_address) return;
            break;
        default:
            break;
    }
    l.set_zone(z);
    switch (f) {
        case kZoneStatus:
            append_sample(out, name, l.zone, static_cast<uint64_t>(z.verdict));
            return;
        case kZoneConsistent:
            append_sample(out, name, l.zone, uint64_t{z.consistent});
            return;
        case kReferenceSerial:
            if (z.reference_serial) append_sample(out, name, l.zone, uint64_t{*z.reference_serial});
            return;
        case kSoaSerial:
            for (const NameserverStatus& s : z.servers)
                if (usable(s) && s.soa) append_sample(out, name, l.of(s), uint64_t{s.soa->serial});
            return;
        case kSerialBehind:
            for (const NameserverStatus& s : z.servers)
                append_sample(out, name, l.of(s), uint64_t{s.serial_behind});
            return;
        case kSerialLag:
            for (const NameserverStatus& s : z.servers)
                append_sample(out, name, l.of(s), s.lag_seconds);
            return;
        case kNameserverUp:
            for (const NameserverStatus& s : z.servers)
                append_sample(out, name, l.of(s), uint64_t{usable(s)});
            return;
        case kPrimaryUp:
            if (z.has_primary) append_sample(out, name, l.zone, uint64_t{primary_up(z)});
            return;
        case kPrimaryInfo:
            for (const NameserverStatus& s : z.servers)
                if (s.is_primary) append_sample(out, name, l.of(s), uint64_t{1});
            return;
        case kProbeErrors:
            for (const NameserverStatus& s : z.servers) {
                bool labelled = false;
                for (ProbeError e : all_probe_errors) {
                    const uint64_t n = s.errors_by_reason[static_cast<std::size_t>(e)];
                    if (n == 0) continue;
                    if (!labelled) l.of(s);
                    labelled = true;
                    append_sample(out, name, l.address, "reason", probe_error_name(e), n);
                }
            }
            return;
        case kLastSerialChange:
            if (z.last_serial_change)
                append_sample(out, name, l.zone, unix_seconds(*z.last_serial_change));
            return;
        case kLastCheck:
            if (z.last_check) append_sample(out, name, l.zone, unix_seconds(*z.last_check));
            return;
        case kSoaRefresh:
            if (soa) append_sample(out, name, l.zone, uint64_t{soa->refresh});
            return;
        case kSoaRetry:
            if (soa) append_sample(out, name, l.zone, uint64_t{soa->retry});
            return;
        case kSoaExpire:
            if (soa) append_sample(out, name, l.zone, uint64_t{soa->expire});
            return;
        case kSoaMinimum:
            if (soa) append_sample(out, name, l.zone, uint64_t{soa->minimum});
            return;
        case kSoaFieldsConsistent:
            if (soa) append_sample(out, name, l.zone, uint64_t{soa_fields_consistent(z)});
            return;
        case kLastPropagation:
            for (const NameserverStatus& s : z.servers)
                if (s.last_propagation_seconds)
                    append_sample(out, name, l.of(s), *s.last_propagation_seconds);
            return;
        case kZoneAddresses:
            append_sample(out, name, l.zone, ns_set_addresses(z));
            return;
        case kZoneUsable:
            append_sample(out, name, l.zone, uint64_t{z.usable_servers});
            return;
        case kZoneUnresolved:
            append_sample(out, name, l.zone, uint64_t{z.unresolved_nameservers.size()});
            return;
        case kZoneCapped:
            append_sample(out, name, l.zone, uint64_t{z.nameservers_capped});
            return;
        case kZoneDiscoveryFromCache:
            append_sample(out, name, l.zone, uint64_t{z.discovery_from_cache});
            return;
        case kExpireRemaining:
            for (const NameserverStatus& s : z.servers)
                if (s.expire_remaining)
                    append_sample(out, name, l.of(s), uint64_t{*s.expire_remaining});
            return;
        case kRefreshAge:
            for (const NameserverStatus& s : z.servers)
                if (s.refresh_age) append_sample(out, name, l.of(s), uint64_t{*s.refresh_age});
            return;
        case kSoaTimersSane:
            if (soa) append_sample(out, name, l.zone, uint64_t{z.soa_timer_problems.empty()});
            return;
        case kTransferOpen:
            if (!z.transfer) return;
            for (const TransferObservation& obs : z.transfer->axfr) {
                l.address = l.zone;
                l.address.add("nameserver", nameserver_label(obs.target))
                    .add("address", obs.target.address);
                append_sample(out, name, l.address, uint64_t{obs.result == TransferResult::open});
            }
            return;
        case kTransferTsigOk:
            if (!z.transfer || !z.transfer->signed_ixfr) return;
            l.address = l.zone;
            l.address.add("address", z.transfer->signed_ixfr->target.address);
            append_sample(out, name, l.address,
                          uint64_t{z.transfer->signed_ixfr->result == TransferResult::ok});
            return;
        case kDelegationConsistent:
            if (!z.delegation || !z.delegation->parent_ns || !z.delegation->child_ns) return;
            append_sample(out, name, l.zone,
                          uint64_t{!z.delegation->has(DelegationProblem::parent_child_differ) &&
                                   !z.delegation->has(DelegationProblem::glue_mismatch)});
            return;
        case kNsSetConsistent:
            if (!z.delegation || !z.delegation->child_ns) return;
            append_sample(out, name, l.zone,
                          uint64_t{!z.delegation->has(DelegationProblem::ns_sets_differ)});
            return;
        case kDelegationProblem:
            // Only zones with a finding: five series of 0 for every healthy zone were 39 MB of
            // a 100,000-zone scrape. soawatch_delegation_consistent / _ns_set_consistent say 1
            // for the others.
            if (!z.delegation || z.delegation->findings.empty()) return;
            for (const auto& p : kDelegationProblems)
                append_sample(out, name, l.zone, "reason", p.reason,
                              uint64_t{z.delegation->has(p.problem)});
            return;
        case kDelegationFindingInfo:
            if (!z.delegation) return;
            for (const auto& f : z.delegation->findings) {
                std::string names;
                for (const auto& n : f.names) names += (names.empty() ? "" : ",") + n;
                prom::LabelSet labels = l.zone;
                labels.add("reason", delegation_problem_reason(f.problem))
                    .add("side", f.side)
                    .add("names", names);
                append_sample(out, name, labels, uint64_t{1});
            }
            return;
        case kInstanceInfo:
            // Only the latest instance: an anycast address answered by many keeps one series,
            // whose nsid label changes as they take turns (bounded by the addresses watched).
            for (const NameserverStatus& s : z.servers) {
                if (s.nsid.empty()) continue;
                prom::LabelSet labels = l.of(s);
                labels.add("nsid", nsid_display(s.nsid));
                append_sample(out, name, labels, uint64_t{1});
            }
            return;
        case kRrsigExpiration:
        case kRrsigInception:
            for (const NameserverStatus& s : z.servers) {
                const auto sig = s.signature();
                if (!sig) continue;
                const int64_t t = f == kRrsigExpiration ? sig->expiration : sig->inception;
                append_sample(out, name, l.of(s), static_cast<double>(t));
            }
            return;
        case kInstanceSerialBehind:
            // Bounded: addresses with instances keep at most kMaxInstancesPerAddress of them.
            for (const NameserverStatus& s : z.servers) {
                if (!s.instances) continue;
                for (const InstanceStatus& i : *s.instances) {
                    prom::LabelSet labels = l.of(s);
                    labels.add("nsid", nsid_display(i.nsid));
                    append_sample(out, name, labels, uint64_t{i.serial_behind});
                }
            }
            return;
        case kZoneFamilyCount:
            return;
    }
}

// One family into `out`: its HELP and TYPE, then write_item(text, item) for each item, handed
// on in pieces as they fill (only after a sample: a header never goes out alone). A family with
// no samples is left out entirely. False when `out` stopped taking pieces.
template <typename Items, typename WriteItem>
bool write_family(prom::StreamedText& out, std::string_view name, std::string_view help,
                  std::string_view type, const Items& items, WriteItem&& write_item) {
    std::string& text = out.text();
    const std::size_t header_at = text.size();
    prom::append_family_header(text, name, help, type);
    bool any = false;  // (offsets do not tell: a flush empties the text)
    for (const auto& item : items) {
        const std::size_t before = text.size();
        write_item(text, item);
        if (text.size() == before) continue;
        any = true;
        if (!out.flush_if_full()) return false;
    }
    if (!any) text.resize(header_at);
    return true;
}

// Every per-zone family in turn, each with its HELP, TYPE and the samples of every zone: the
// text format wants a family's samples together, so each family takes its own pass over the
// zones and goes out in pieces as it is written (one pass writing every family would have to
// hold all of them until the end: ~200 MB at 100,000 zones). Families with no series are left
// out entirely. False when `out` stopped taking pieces.
template <typename Zones>
bool write_zone_families(const Zones& zones, PerAddressSeries per_address, std::string_view vantage,
                         prom::StreamedText& out) {
    ZoneLabels labels(vantage);
    for (std::size_t f = 0; f < kZoneFamilyCount; ++f) {
        const auto family = static_cast<ZoneFamily>(f);
        const bool written =
            write_family(out, kZoneFamilies[f].name, kZoneFamilies[f].help, kZoneFamilies[f].type,
                         zones, [&](std::string& text, const auto& zone) {
                             if (!zone) return;
                             const bool all = per_address == PerAddressSeries::all;
                             append_zone_family(text, family, *zone,
                                                all || zone->verdict != Verdict::ok, labels);
                         });
        if (!written) return false;
    }
    return true;
}

// Totals per nameserver address over every zone, always exported: with per-address series
// limited to zones not in sync, these still show every address at a glance.
struct AddressTotals {
    std::array<uint64_t, 6> zones_by_state{};  // indexed by ServerState
    std::array<uint64_t, kProbeErrorKinds> errors{};
    double max_lag_seconds = 0;
};

constexpr ServerState kAllStates[] = {ServerState::reference,    ServerState::in_sync,
                                      ServerState::behind,       ServerState::ahead,
                                      ServerState::incomparable, ServerState::unusable};

// Written in pieces like the zone families (one family after the other); the totals themselves
// are one entry per address. False when `out` stopped taking pieces.
bool write_address_totals(const std::vector<ZoneStatusPtr>& zones, std::string_view vantage,
                          prom::StreamedText& out) {
    // Keys point into the snapshot, which outlives this function.
    std::map<std::pair<std::string_view, std::string_view>, AddressTotals> totals;
    for (const ZoneStatusPtr& zone : zones) {
        if (!zone) continue;
        for (const NameserverStatus& s : zone->servers) {
            AddressTotals& t = totals[{nameserver_label(s.target), s.target->address}];
            ++t.zones_by_state[static_cast<std::size_t>(s.state)];
            for (ProbeError e : all_probe_errors)
                t.errors[static_cast<std::size_t>(e)] +=
                    s.errors_by_reason[static_cast<std::size_t>(e)];
            t.max_lag_seconds = std::max(t.max_lag_seconds, s.lag_seconds);
        }
    }
    const prom::LabelSet agent = agent_labels(vantage);
    prom::LabelSet l;  // the agent's, nameserver, address
    const auto labels_of = [&](const auto& key) -> const prom::LabelSet& {
        l = agent;
        l.add("nameserver", key.first).add("address", key.second);
        return l;
    };
    return write_family(out, "soawatch_nameserver_zones",
                        "Zones in which the nameserver address is in this state.", "gauge", totals,
                        [&](std::string& text, const auto& entry) {
                            const auto& [key, t] = entry;
                            labels_of(key);
                            for (ServerState state : kAllStates)
                                prom::append_sample(
                                    text, "soawatch_nameserver_zones", l, "state",
                                    server_state_name(state),
                                    t.zones_by_state[static_cast<std::size_t>(state)]);
                        }) &&
           write_family(out, "soawatch_nameserver_max_serial_lag_seconds",
                        "The largest serial lag of the nameserver address among its zones.",
                        "gauge", totals,
                        [&](std::string& text, const auto& entry) {
                            const auto& [key, t] = entry;
                            prom::append_sample(text, "soawatch_nameserver_max_serial_lag_seconds",
                                                labels_of(key), t.max_lag_seconds);
                        }) &&
           write_family(
               out, "soawatch_nameserver_probe_errors_total",
               "Failed SOA probes of the nameserver address by reason, summed over the "
               "zones watched now.",
               "counter", totals, [&](std::string& text, const auto& entry) {
                   const auto& [key, t] = entry;
                   labels_of(key);
                   for (ProbeError e : all_probe_errors)
                       if (const uint64_t n = t.errors[static_cast<std::size_t>(e)]; n != 0)
                           prom::append_sample(text, "soawatch_nameserver_probe_errors_total", l,
                                               "reason", probe_error_name(e), n);
               });
}

void append_agent_stats(std::string& out, const AgentStats& s) {
    prom::append_unlabelled_family(out, "soawatch_dns_queries_sent_total",
                                   "DNS queries sent (every try, UDP and TCP).",
                                   static_cast<double>(s.queries_sent), "counter");
    prom::append_unlabelled_family(out, "soawatch_dns_queries_inflight",
                                   "DNS queries waiting for an answer.",
                                   static_cast<double>(s.queries_inflight));
    prom::append_unlabelled_family(out, "soawatch_zone_checks_total", "Zone checks completed.",
                                   static_cast<double>(s.checks_total), "counter");
    prom::append_unlabelled_family(out, "soawatch_discovery_errors_total",
                                   "Failed NS or address lookups.",
                                   static_cast<double>(s.discovery_errors), "counter");
    prom::append_unlabelled_family(out, "soawatch_notify_received_total",
                                   "DNS NOTIFY messages accepted for watched zones.",
                                   static_cast<double>(s.notify_received), "counter");
    prom::append_unlabelled_family(
        out, "soawatch_notify_ignored_total",
        "DNS NOTIFY messages ignored (unknown zone, malformed, or repeated within a "
        "second).",
        static_cast<double>(s.notify_ignored), "counter");
    prom::append_unlabelled_family(out, "soawatch_cycle_duration_seconds",
                                   "Duration of the last full round over all zones.",
                                   s.last_cycle_seconds);
    prom::append_unlabelled_family(out, "soawatch_schedule_delay_seconds",
                                   "Worst lateness of a zone check against its schedule.",
                                   s.max_check_delay_seconds);
    prom::append_unlabelled_family(out, "soawatch_zones_watched", "Zones being watched.",
                                   static_cast<double>(s.zones));
    prom::append_unlabelled_family(out, "soawatch_ready",
                                   "1 once the first round over all zones has completed.",
                                   s.first_round_done ? 1.0 : 0.0);
}

const prometheus::Histogram::BucketBoundaries kProbeDurationBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
const prometheus::Histogram::BucketBoundaries kPropagationBuckets{
    0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};

}  // namespace

// ---- MetricsExporter ----------------------------------------------------------------------------

struct MetricsExporter::Impl {
    struct Series {
        prometheus::Histogram* histogram = nullptr;
        MonoClock::time_point last_observed;
    };

    MetricsOptions options;
    double boot_time = boot_time_seconds();
    prometheus::Registry registry;
    prometheus::Family<prometheus::Gauge>& build_info;
    prometheus::Family<prometheus::Gauge>& reload_ok_family;
    prometheus::Family<prometheus::Gauge>& reload_time_family;
    prometheus::Gauge& reload_ok;
    prometheus::Gauge& reload_time;
    prometheus::Family<prometheus::Histogram>& probe_duration;
    prometheus::Family<prometheus::Histogram>& propagation;

    // The maps of series and their pruning time; the metrics themselves are thread-safe.
    mutable Mutex mutex;
    mutable std::unordered_map<std::string, Series> probe_series
        GUARDED_BY(mutex);  // ns \0 address
    mutable std::unordered_map<std::string, Series> propagation_series GUARDED_BY(mutex);  // ns
    mutable MonoClock::time_point last_prune GUARDED_BY(mutex) = MonoClock::now();

    explicit Impl(const BuildInfo& build, const MetricsOptions& opts)
        : options(opts),
          build_info(prometheus::BuildGauge()
                         .Name("soawatch_build_info")
                         .Help("Version and revision soawatch was built from; always 1.")
                         .Register(registry)),
          reload_ok_family(prometheus::BuildGauge()
                               .Name("soawatch_config_last_reload_successful")
                               .Help("1 when the last configuration (re)load succeeded.")
                               .Register(registry)),
          reload_time_family(prometheus::BuildGauge()
                                 .Name("soawatch_config_last_reload_success_timestamp_seconds")
                                 .Help("Unix time of the last successful configuration (re)load.")
                                 .Register(registry)),
          reload_ok(reload_ok_family.Add({})),
          reload_time(reload_time_family.Add({})),
          probe_duration(prometheus::BuildHistogram()
                             .Name("soawatch_probe_duration_seconds")
                             .Help("Round-trip time of answered SOA queries.")
                             .Labels(vantage_labels(opts.vantage))
                             .Register(registry)),
          propagation(prometheus::BuildHistogram()
                          .Name("soawatch_propagation_seconds")
                          .Help("Time from a new reference serial to the nameserver having it.")
                          .Labels(vantage_labels(opts.vantage))
                          .Register(registry)) {
        build_info
            .Add({{"version", prom::valid_utf8(build.version)},
                  {"revision", prom::valid_utf8(build.revision)}})
            .Set(1);
    }

    void prune_locked(MonoClock::time_point now) const REQUIRES(mutex) {
        if (now - last_prune < std::chrono::minutes(1)) return;
        last_prune = now;
        const auto expired = [&](const Series& s) {
            return now - s.last_observed > options.histogram_idle_expiry;
        };
        for (auto it = probe_series.begin(); it != probe_series.end();) {
            if (expired(it->second)) {
                probe_duration.Remove(it->second.histogram);
                it = probe_series.erase(it);
            } else {
                ++it;
            }
        }
        for (auto it = propagation_series.begin(); it != propagation_series.end();) {
            if (expired(it->second)) {
                propagation.Remove(it->second.histogram);
                it = propagation_series.erase(it);
            } else {
                ++it;
            }
        }
    }
};

MetricsExporter::MetricsExporter(const BuildInfo& build, const MetricsOptions& options)
    : impl_(std::make_unique<Impl>(build, options)) {}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::observe_probe(const SoaObservation& observation) {
    if (!observation.answered) return;
    const std::string_view ns = nameserver_label(observation.target);
    std::string key;
    key.reserve(ns.size() + 1 + observation.target.address.size());
    key.append(ns).append(1, '\0').append(observation.target.address);

    MutexLock lock(impl_->mutex);
    auto [it, inserted] = impl_->probe_series.try_emplace(std::move(key));
    if (inserted) {
        it->second.histogram =
            &impl_->probe_duration.Add({{"nameserver", prom::valid_utf8(ns)},
                                        {"address", prom::valid_utf8(observation.target.address)}},
                                       kProbeDurationBuckets);
    }
    it->second.last_observed = MonoClock::now();
    it->second.histogram->Observe(observation.rtt.count());
}

void MetricsExporter::observe_propagation(const PropagationSample& sample) {
    MutexLock lock(impl_->mutex);
    auto [it, inserted] = impl_->propagation_series.try_emplace(sample.nameserver);
    if (inserted) {
        it->second.histogram = &impl_->propagation.Add(
            {{"nameserver", prom::valid_utf8(sample.nameserver)}}, kPropagationBuckets);
    }
    it->second.last_observed = MonoClock::now();
    it->second.histogram->Observe(sample.seconds);
}

void MetricsExporter::set_reload_result(bool ok, Clock::time_point when) {
    MutexLock lock(impl_->mutex);  // the two gauges change together
    impl_->reload_ok.Set(ok ? 1 : 0);
    if (ok) impl_->reload_time.Set(unix_seconds(when));
}

bool MetricsExporter::render(const Snapshot& snapshot, prom::StreamedText& out) const {
    {
        MutexLock lock(impl_->mutex);
        impl_->prune_locked(MonoClock::now());
    }
    // The registry and its metrics lock themselves: probes keep being observed meanwhile. Its
    // text is small (histograms per nameserver address).
    std::ostringstream registry_text;
    prometheus::TextSerializer().Serialize(registry_text, impl_->registry.Collect());
    out.text() += std::move(registry_text).str();
    append_agent_stats(out.text(), snapshot.stats);
    append_process_metrics(out.text(), impl_->boot_time);
    if (!out.flush_if_full()) return false;
    const std::string& vantage = impl_->options.vantage;
    return write_zone_families(snapshot.zones, impl_->options.per_address, vantage, out) &&
           write_address_totals(snapshot.zones, vantage, out);
}

std::string MetricsExporter::render(const Snapshot& snapshot) const {
    prom::StreamedText out;
    render(snapshot, out);
    return std::move(out).take();
}

std::string MetricsExporter::render_zone(const ZoneStatus& zone, std::string_view vantage) {
    const ZoneStatus* zones[] = {&zone};
    prom::StreamedText out;
    write_zone_families(zones, PerAddressSeries::all, vantage, out);
    return std::move(out).take();
}

}  // namespace soawatch
