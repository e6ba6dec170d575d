#include "agent/evaluator.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "agent/common/duration.hpp"
#include "agent/replication.hpp"
#include "agent/serial.hpp"

namespace soawatch {

namespace {

using Seconds = std::chrono::duration<double>;

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::max(0.0, Seconds(to - from).count());
}

std::string describe(const NameserverStatus& s) {
    if (s.is_primary) return "primary " + s.target.address;
    if (s.target.nameserver.empty()) return s.target.address;
    return s.target.nameserver + " (" + s.target.address + ")";
}

NameserverStatus row_from(const SoaObservation& obs, bool is_primary) {
    NameserverStatus s;
    s.target = obs.target;
    s.is_primary = is_primary;
    s.in_ns_set = !is_primary;
    s.error = obs.error;
    s.error_detail = obs.detail;
    s.answered = obs.answered;
    s.rcode = obs.rcode;
    s.authoritative = obs.authoritative;
    s.transport = obs.transport;
    s.soa = obs.soa;
    s.rtt = obs.rtt;
    s.expire_asked = obs.expire_asked;
    s.expire_remaining = obs.expire_remaining;
    return s;
}

const NameserverStatus* find_previous(const ZoneStatus* prev, const NameserverStatus& s) {
    if (!prev) return nullptr;
    for (const auto& p : prev->servers)
        if (p.is_primary == s.is_primary && p.target == s.target) return &p;
    return nullptr;
}

// Replication beyond the serial (agent/replication.hpp): EDNS EXPIRE per address, the SOA's
// other fields and its timers, with the thresholds of the zone's rules.
void assess_replication(const ZoneStatus* prev, ZoneStatus& z, const AlertRuleSet& rules) {
    track_expire(prev, z, rules);
    check_soa_fields(z);
    const SharedSoa& reference = z.reference_soa;  // const: writing access would unshare it
    if (reference)
        z.soa_timer_problems = soa_timer_problems(*reference, rules[AlertRule::soa_timers_unsafe]);
}

const AlertRuleSet& rules_of(const ZoneCheckResult& r) {
    static const AlertRuleSet defaults = AlertRuleSet::defaults(Duration{60000});
    return r.rules ? *r.rules : defaults;
}

}  // namespace

ZoneStatus evaluate(const ZoneStatus* prev, const ZoneCheckResult& r) {
    ZoneStatus z;
    z.zone = r.zone;
    z.has_primary = r.primary.has_value();
    const Clock::time_point now = r.finished;
    z.last_check = now;
    z.check_duration = r.finished - r.started;
    z.checks_total = (prev ? prev->checks_total : 0) + 1;
    z.unresolved_nameservers = r.unresolved;
    z.discovery_error = r.discovery_error;
    z.discovery_from_cache = r.discovery_from_cache;
    z.nameservers_capped = !r.capped_detail.empty();

    // Rows: the primary first, then the nameservers by name and address.
    std::vector<const SoaObservation*> observations;
    const std::size_t rows = r.observations.size() + (r.primary ? 1 : 0);
    observations.reserve(rows);
    z.servers.reserve(rows);  // exactly: a status lives until the zone's next check
    if (r.primary) {
        observations.push_back(&*r.primary);
        z.servers.push_back(row_from(*r.primary, true));
    }
    {
        std::vector<std::size_t> order(r.observations.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            const auto& ta = r.observations[a].target;
            const auto& tb = r.observations[b].target;
            return std::tie(ta.nameserver, ta.address, ta.port) <
                   std::tie(tb.nameserver, tb.address, tb.port);
        });
        for (auto i : order) {
            z.servers.push_back(row_from(r.observations[i], false));
            observations.push_back(&r.observations[i]);
        }
    }

    // The reference serial.
    std::optional<uint32_t> ref;
    if (r.primary) {
        if (r.primary->usable()) {
            ref = r.primary->soa->serial;
            z.reference_soa = r.primary->soa;
            z.reference_from_primary = true;
        } else if (prev && prev->reference_serial && prev->reference_from_primary) {
            ref = prev->reference_serial;  // last known while the primary is unreachable
            z.reference_soa = prev->reference_soa;
            z.reference_from_primary = true;
        }
    }
    // Without a primary, or when it has never answered yet, the newest serial (RFC 1982) among
    // the nameservers is the reference: the servers can still be compared with each other.
    if (!ref) {
        for (const auto* obs : observations) {
            if (!obs->usable()) continue;
            uint32_t serial = obs->soa->serial;
            if (!ref || compare_serials(*ref, serial) == SerialOrder::less) {
                ref = serial;
                z.reference_soa = obs->soa;
            }
        }
    }
    z.reference_serial = ref;

    // When did the current reference first appear?
    const bool changed = ref && prev && prev->reference_serial && *ref != *prev->reference_serial;
    std::optional<Clock::time_point> first_sighting;
    for (const auto* obs : observations)
        if (ref && obs->usable() && obs->soa->serial == *ref)
            if (!first_sighting || obs->at < *first_sighting) first_sighting = obs->at;
    // A NOTIFY that triggered this round announces the change: time propagation from it.
    const bool signalled =
        changed && r.change_signal && first_sighting && *r.change_signal <= *first_sighting;
    if (changed) {
        z.reference_seen = signalled ? r.change_signal : first_sighting;
        z.last_serial_change = z.reference_seen;
    } else if (prev && prev->reference_serial && ref) {
        z.reference_seen = prev->reference_seen;
        z.last_serial_change = prev->last_serial_change;
    } else if (ref) {
        z.reference_seen = first_sighting ? first_sighting : std::optional(now);
        // Before any change was seen, the best known bound is when this serial was first seen:
        // dashboards and "zone unchanged for N days" rules need a value from the first round.
        z.last_serial_change =
            prev && prev->last_serial_change ? prev->last_serial_change : z.reference_seen;
    }

    // Per address: state, lag, propagation.
    for (std::size_t i = 0; i < z.servers.size(); ++i) {
        auto& s = z.servers[i];
        const SoaObservation& obs = *observations[i];
        const NameserverStatus* p = find_previous(prev, s);
        if (p) {
            s.last_in_sync = p->last_in_sync;
            s.last_success = p->last_success;
            s.behind_since = p->behind_since;
            s.propagation_pending_since = p->propagation_pending_since;
            s.last_propagation_seconds = p->last_propagation_seconds;
            s.errors_by_reason = p->errors_by_reason;
            s.probes_total = p->probes_total;
            s.consecutive_failures = p->consecutive_failures;
            s.serial_behind = p->serial_behind;
        }
        ++s.probes_total;
        if (!obs.usable()) {
            ++s.errors_by_reason[static_cast<std::size_t>(obs.error)];
            ++s.consecutive_failures;
            s.state = ServerState::unusable;
            // Its serial is unknown: a lag already running keeps running, none starts.
            s.lag_seconds = s.behind_since ? seconds_between(*s.behind_since, now) : 0;
            if (changed && !s.is_primary) s.propagation_pending_since = z.reference_seen;
            continue;
        }
        s.consecutive_failures = 0;
        s.last_success = obs.at;
        if (!ref) continue;  // cannot happen: a usable row always yields a reference (above)
        const uint32_t serial = obs.soa->serial;
        const bool has_ref = serial == *ref;

        if (changed && !s.is_primary) {
            if (has_ref) {
                s.propagation_pending_since.reset();
                if (signalled) {
                    double secs = seconds_between(*z.reference_seen, obs.at);
                    s.last_propagation_seconds = secs;
                    z.new_propagations.push_back(
                        {std::string(nameserver_label(s.target)), s.target.address, serial, secs});
                }
            } else {
                s.propagation_pending_since = z.reference_seen;
            }
        } else if (has_ref && s.propagation_pending_since && !s.is_primary) {
            double secs = seconds_between(*s.propagation_pending_since, obs.at);
            s.last_propagation_seconds = secs;
            z.new_propagations.push_back(
                {std::string(nameserver_label(s.target)), s.target.address, serial, secs});
            s.propagation_pending_since.reset();
        }

        switch (compare_serials(serial, *ref)) {
            case SerialOrder::equal:
                s.state = s.is_primary ? ServerState::reference : ServerState::in_sync;
                s.serial_behind = 0;
                s.lag_seconds = 0;
                s.behind_since.reset();
                s.last_in_sync = obs.at;
                break;
            case SerialOrder::less:
                s.state = ServerState::behind;
                s.serial_behind = serial_steps(serial, *ref);
                if (!s.behind_since)
                    s.behind_since = changed && z.reference_seen ? *z.reference_seen : obs.at;
                s.lag_seconds = seconds_between(*s.behind_since, now);
                break;
            case SerialOrder::greater:
                s.state = ServerState::ahead;
                s.serial_behind = 0;
                s.lag_seconds = 0;
                s.behind_since.reset();
                break;
            case SerialOrder::undefined:
                s.state = ServerState::incomparable;
                s.serial_behind = 0;
                s.lag_seconds = 0;
                break;
        }
    }

    // Addresses with the reference SOA share its copy, and an unchanged reference keeps the
    // previous status' copy: a zone in sync holds one SOA.
    if (prev) z.reference_soa.share_with(prev->reference_soa);
    for (auto& s : z.servers) s.soa.share_with(z.reference_soa);
    assess_replication(prev, z, rules_of(r));

    // Consistency and the verdict.
    std::set<std::string> usable_names;
    std::size_t ns_rows_total = 0;
    bool all_match = ref.has_value();
    bool any_usable = false;
    std::vector<std::string> critical, warning;
    for (const auto& s : z.servers) {
        if (s.state != ServerState::unusable) {
            any_usable = true;
            if (!s.soa || !ref || s.soa->serial != *ref) all_match = false;
        }
        if (s.is_primary) {
            if (s.state == ServerState::unusable)
                critical.push_back(describe(s) +
                                   " is unusable: " + std::string(probe_error_name(s.error)) +
                                   (s.error_detail.empty() ? "" : " (" + s.error_detail + ")"));
            continue;
        }
        ++ns_rows_total;
        if (s.state != ServerState::unusable) usable_names.emplace(nameserver_label(s.target));
        switch (s.state) {
            case ServerState::behind:
                warning.push_back(describe(s) + " is " + std::to_string(s.serial_behind) +
                                  " serial(s) behind (" + std::to_string(s.soa->serial) + " < " +
                                  std::to_string(*ref) + ") for " + human_duration(s.lag_seconds));
                break;
            case ServerState::ahead:
                warning.push_back(describe(s) + " is ahead of the reference (" +
                                  std::to_string(s.soa->serial) + " > " + std::to_string(*ref) +
                                  ")");
                break;
            case ServerState::incomparable:
                warning.push_back(describe(s) + " has serial " + std::to_string(s.soa->serial) +
                                  ", which RFC 1982 cannot order against " + std::to_string(*ref));
                break;
            case ServerState::unusable:
                warning.push_back(describe(s) +
                                  " is unusable: " + std::string(probe_error_name(s.error)) +
                                  (s.error_detail.empty() ? "" : " (" + s.error_detail + ")"));
                break;
            default:
                break;
        }
    }
    z.consistent = any_usable && all_match;
    z.usable_servers = static_cast<unsigned>(usable_names.size());
    for (const auto& name : z.unresolved_nameservers)
        warning.push_back("nameserver " + name + " has no address");
    if (z.discovery_from_cache)
        warning.push_back("discovery failed (" + z.discovery_error +
                          "); using the last good answer");
    if (z.nameservers_capped)
        warning.push_back("more nameservers than the configured limits (" + r.capped_detail +
                          "); the rest were not probed");

    replication_findings(z, rules_of(r), critical, warning);

    if (ns_rows_total == 0) {
        z.verdict = Verdict::unknown;
        z.reasons.push_back("no nameserver address known" +
                            (z.discovery_error.empty() ? "" : ": " + z.discovery_error));
        z.reasons.insert(z.reasons.end(), critical.begin(), critical.end());
        return z;
    }
    if (usable_names.empty()) {
        critical.insert(critical.begin(), "no nameserver answers");
    } else if (usable_names.size() < 2) {
        critical.insert(critical.begin(), "only " + std::to_string(usable_names.size()) +
                                              " nameserver answers; at least 2 are needed "
                                              "(RFC 2182)");
    }
    z.verdict = !critical.empty()  ? Verdict::critical
                : !warning.empty() ? Verdict::warning
                                   : Verdict::ok;
    z.reasons = std::move(critical);
    z.reasons.insert(z.reasons.end(), warning.begin(), warning.end());
    return z;
}

}  // namespace soawatch
