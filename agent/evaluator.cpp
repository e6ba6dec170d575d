#include "agent/evaluator.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <utility>

#include "agent/anycast.hpp"
#include "agent/common/duration.hpp"
#include "agent/replication.hpp"
#include "agent/serial.hpp"
#include "agent/signatures.hpp"

namespace soawatch {

namespace {

// Serials compare in RFC 1982 arithmetic, where 1 is newer than 4294967295: the messages say so.
constexpr const char* kSerialArithmetic = " in RFC 1982 serial arithmetic";

// One copy per distinct SOA in a status, made at its first use: the rows and the reference of a
// zone in sync hold the same SOA, and an unchanged one is the previous status' copy. (Copying it
// per row and merging the copies afterwards cost two allocations per row and the reference.)
class SoaCopies {
  public:
    explicit SoaCopies(const ZoneStatus* prev) {
        if (prev && prev->reference_soa) remember(prev->reference_soa);
    }
    SharedSoa of(const std::optional<dns::SoaRdata>& soa) {
        if (!soa) return std::nullopt;
        for (std::size_t i = 0; i < count_; ++i)
            if (*std::as_const(known_[i]) == *soa) return known_[i];
        SharedSoa copy(*soa);
        remember(copy);
        return copy;
    }

  private:
    // A handful: a zone's servers answer one or two SOAs (two while a change propagates). More
    // are still copied, just not looked up.
    void remember(const SharedSoa& soa) {
        if (count_ < known_.size()) known_[count_++] = soa;
    }
    std::array<SharedSoa, 4> known_;
    std::size_t count_ = 0;
};

// The row's target: the previous status's copy when it had this address (the common case,
// no lookup: rows keep their order from round to round, so row `index` is tried first), else
// the one this thread's pool shares between zones.
SharedTarget shared_target(const ZoneStatus* prev, std::size_t index, const ProbeTarget& target,
                           bool is_primary) {
    if (prev) {
        const auto same = [&](const NameserverStatus& p) {
            return p.is_primary == is_primary && p.target == target;
        };
        if (index < prev->servers.size() && same(prev->servers[index]))
            return prev->servers[index].target;
        for (const auto& p : prev->servers)
            if (same(p)) return p.target;
    }
    return SharedTargetPool::of_this_thread().intern(target);
}

// Row `index` of the zone's new status.
NameserverStatus row_from(const ZoneStatus* prev, std::size_t index, const SoaObservation& obs,
                          bool is_primary, SoaCopies& soas) {
    NameserverStatus s;
    s.target = shared_target(prev, index, obs.target, is_primary);
    s.is_primary = is_primary;
    s.in_ns_set = !is_primary;
    s.error = obs.error;
    s.error_detail = obs.detail;
    s.answered = obs.answered;
    s.rcode = obs.rcode;
    s.authoritative = obs.authoritative;
    s.transport = obs.transport;
    s.soa = soas.of(obs.soa);
    s.rtt = obs.rtt;
    s.expire_asked = obs.expire_asked;
    s.expire_remaining = obs.expire_remaining;
    s.nsid = obs.nsid;
    s.dnssec_asked = obs.dnssec_asked;
    s.rrsig = obs.rrsig;  // read against last_success, set below with the answer's time
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

// The newest serial (RFC 1982) among this round's usable answers, or none.
const SoaObservation* newest_usable(const std::vector<const SoaObservation*>& observations) {
    const SoaObservation* newest = nullptr;
    for (const auto* obs : observations) {
        if (!obs->usable()) continue;
        if (!newest || compare_serials(newest->soa->serial, obs->soa->serial) == SerialOrder::less)
            newest = obs;
    }
    return newest;
}

// The one serial every address answered this round; none when an address is unusable or two
// disagree.
std::optional<uint32_t> agreed_serial(const std::vector<const SoaObservation*>& observations) {
    std::optional<uint32_t> agreed;
    for (const auto* obs : observations) {
        if (!obs->usable() || (agreed && *agreed != obs->soa->serial)) return std::nullopt;
        agreed = obs->soa->serial;
    }
    return agreed;
}

// The reference without a (answering) primary: the newest serial seen. This round's newest
// answer replaces the previous reference only when it is newer (RFC 1982 section 3.2); an
// older one means the servers that had the reference are unusable or have not been asked yet
// this round, so the reference stays and those behind keep counting their lag. It moves back
// only after every address has agreed on one older serial for kReferenceRollbackRounds rounds
// in a row (a deliberate rollback; z.rolled_back_from tells the caller to log it).
std::optional<uint32_t> newest_seen_reference(
    const ZoneStatus* prev, const std::vector<const SoaObservation*>& observations, ZoneStatus& z,
    SoaCopies& soas) {
    const SoaObservation* newest = newest_usable(observations);
    const bool have_previous = prev && prev->reference_serial && !prev->reference_from_primary;
    if (!have_previous) {
        if (!newest) return std::nullopt;
        z.reference_soa = soas.of(newest->soa);
        return newest->soa->serial;
    }
    const uint32_t kept = *prev->reference_serial;
    if (newest && compare_serials(kept, newest->soa->serial) == SerialOrder::less) {
        z.reference_soa = soas.of(newest->soa);
        return newest->soa->serial;
    }
    if (const auto agreed = agreed_serial(observations); agreed && *agreed != kept) {
        z.rollback_serial = agreed;
        z.rollback_rounds = prev->rollback_serial == agreed ? prev->rollback_rounds + 1 : 1;
        if (z.rollback_rounds >= kReferenceRollbackRounds) {
            z.rolled_back_from = kept;
            z.rollback_serial.reset();
            z.rollback_rounds = 0;
            z.reference_soa = soas.of(newest->soa);
            return *agreed;
        }
    }
    z.reference_soa =
        newest && newest->soa->serial == kept ? soas.of(newest->soa) : prev->reference_soa;
    return kept;
}

}  // namespace

VerdictPolicy verdict_policy(const GlobalConfig& global) {
    return {global.min_usable_nameservers,
            global.min_usable_nameservers_severity == RedundancySeverity::critical};
}

ZoneStatus evaluate(const ZoneStatus* prev, const ZoneCheckResult& r, const VerdictPolicy& policy) {
    ZoneStatus z;
    z.zone = r.zone;
    z.has_primary = r.primary.has_value();
    // Durations from the monotonic side of each Instant, timestamps from the wall side.
    const Instant now = r.finished;
    z.last_check = now.wall;
    z.check_duration = r.finished.mono - r.started.mono;
    z.checks_total = (prev ? prev->checks_total : 0) + 1;
    z.unresolved_nameservers = r.unresolved;
    z.discovery_error = r.discovery_error;
    z.discovery_from_cache = r.discovery_from_cache;
    z.nameservers_capped = !r.capped_detail.empty();

    SoaCopies soas(prev);
    // Rows: the primary first, then the nameservers by name and address.
    std::vector<const SoaObservation*> observations;
    const std::size_t rows = r.observations.size() + (r.primary ? 1 : 0);
    observations.reserve(rows);
    z.servers.reserve(rows);  // exactly: a status lives until the zone's next check
    if (r.primary) {
        observations.push_back(&*r.primary);
        z.servers.push_back(row_from(prev, z.servers.size(), *r.primary, true, soas));
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
            z.servers.push_back(row_from(prev, z.servers.size(), r.observations[i], false, soas));
            observations.push_back(&r.observations[i]);
        }
    }

    // The reference serial.
    std::optional<uint32_t> ref;
    if (r.primary) {
        if (r.primary->usable()) {
            ref = r.primary->soa->serial;
            z.reference_soa = soas.of(r.primary->soa);
            z.reference_from_primary = true;
        } else if (prev && prev->reference_serial && prev->reference_from_primary) {
            ref = prev->reference_serial;  // last known while the primary is unreachable
            z.reference_soa = prev->reference_soa;
            z.reference_from_primary = true;
        }
    }
    // Without a primary, or when it has never answered yet, the newest serial (RFC 1982) seen
    // among the nameservers is the reference: the servers can still be compared with each other.
    if (!ref) ref = newest_seen_reference(prev, observations, z, soas);
    z.reference_serial = ref;

    // When did the current reference first appear?
    const bool changed = ref && prev && prev->reference_serial && *ref != *prev->reference_serial;
    std::optional<Instant> first_sighting;
    for (const auto* obs : observations)
        if (ref && obs->usable() && obs->soa->serial == *ref)
            if (!first_sighting || obs->at.mono < first_sighting->mono) first_sighting = obs->at;
    // A NOTIFY that triggered this round announces the change: time propagation from it.
    const bool signalled = changed && r.change_signal && first_sighting &&
                           r.change_signal->mono <= first_sighting->mono;
    if (changed) {
        z.reference_seen = signalled ? r.change_signal : first_sighting;
        if (z.reference_seen) z.last_serial_change = z.reference_seen->wall;
    } else if (prev && prev->reference_serial && ref) {
        z.reference_seen = prev->reference_seen;
        z.last_serial_change = prev->last_serial_change;
    } else if (ref) {
        z.reference_seen = first_sighting ? first_sighting : std::optional(now);
        // Before any change was seen, the best known bound is when this serial was first seen:
        // dashboards and "zone unchanged for N days" rules need a value from the first round.
        z.last_serial_change =
            prev && prev->last_serial_change ? prev->last_serial_change : z.reference_seen->wall;
    }

    // Per address: state, lag, propagation.
    for (std::size_t i = 0; i < z.servers.size(); ++i) {
        auto& s = z.servers[i];
        const SoaObservation& obs = *observations[i];
        const NameserverStatus* p = find_previous(prev, s);
        if (p) {
            // A failing address mostly fails the same way round after round: keep its text's copy.
            if (s.error_detail.str() == p->error_detail.str()) s.error_detail = p->error_detail;
            s.last_in_sync = p->last_in_sync;
            s.last_success = p->last_success;
            s.behind_since = p->behind_since;
            s.propagation_pending_since = p->propagation_pending_since;
            s.last_propagation_seconds = p->last_propagation_seconds;
            s.errors_by_reason = p->errors_by_reason;
            s.probes_total = p->probes_total;
            s.consecutive_failures = p->consecutive_failures;
            s.serial_behind = p->serial_behind;
            // The last instance that answered stays named while the address answers nothing
            // (a timeout says nothing about who is behind it); an answer without NSID clears it.
            if (!obs.answered) s.nsid = p->nsid;
        }
        // The instances behind the address (anycast), from this round's answers and the last.
        // Most addresses have one identity or none: they skip this without allocating.
        if (!r.instance_samples.empty() ||
            (p && (p->instances || (!obs.nsid.empty() && obs.nsid.view() != p->nsid.view())))) {
            std::vector<const SoaObservation*> heard{&obs};
            if (!s.is_primary)
                for (const auto& sample : r.instance_samples)
                    if (sample.target == s.target) heard.push_back(&sample);
            track_instances(p, heard, ref, now.wall, r.instance_window, s);
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
        s.last_success = obs.at.wall;
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
                        {std::string(nameserver_label(s.target)), s.target->address, serial, secs});
                }
            } else {
                s.propagation_pending_since = z.reference_seen;
            }
        } else if (has_ref && s.propagation_pending_since && !s.is_primary) {
            double secs = seconds_between(*s.propagation_pending_since, obs.at);
            s.last_propagation_seconds = secs;
            z.new_propagations.push_back(
                {std::string(nameserver_label(s.target)), s.target->address, serial, secs});
            s.propagation_pending_since.reset();
        }

        switch (compare_serials(serial, *ref)) {
            case SerialOrder::equal:
                s.state = s.is_primary ? ServerState::reference : ServerState::in_sync;
                s.serial_behind = 0;
                s.lag_seconds = 0;
                s.behind_since.reset();
                s.last_in_sync = obs.at.wall;
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
    track_signatures(z, r.dnssec, rules_of(r), now.wall);

    // Consistency and the verdict.
    // The NS names with a usable address: labels of z.servers' own targets, counted once.
    std::vector<std::string_view> usable_names;
    usable_names.reserve(z.servers.size());
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
                critical.push_back(
                    describe_server(s) + " is unusable: " + std::string(probe_error_name(s.error)) +
                    (s.error_detail.empty() ? "" : " (" + s.error_detail.str() + ")"));
            continue;
        }
        ++ns_rows_total;
        if (s.state != ServerState::unusable) usable_names.push_back(nameserver_label(s.target));
        switch (s.state) {
            case ServerState::behind:
                // A first look (a one-shot check) knows no duration: none is claimed.
                warning.push_back(
                    describe_server(s) + " is " + std::to_string(s.serial_behind) +
                    " serial(s) behind (" + std::to_string(s.soa->serial) + " < " +
                    std::to_string(*ref) + kSerialArithmetic + ")" +
                    (s.probes_total > 1 ? " for " + human_duration(s.lag_seconds) : ""));
                break;
            case ServerState::ahead:
                warning.push_back(describe_server(s) + " is ahead of the reference (" +
                                  std::to_string(s.soa->serial) + " > " + std::to_string(*ref) +
                                  kSerialArithmetic + ")");
                break;
            case ServerState::incomparable:
                warning.push_back(describe_server(s) + " has serial " +
                                  std::to_string(s.soa->serial) +
                                  ", which RFC 1982 cannot order against " + std::to_string(*ref));
                break;
            case ServerState::unusable:
                warning.push_back(
                    describe_server(s) + " is unusable: " + std::string(probe_error_name(s.error)) +
                    (s.error_detail.empty() ? "" : " (" + s.error_detail.str() + ")"));
                break;
            default:
                break;
        }
    }
    std::sort(usable_names.begin(), usable_names.end());
    usable_names.erase(std::unique(usable_names.begin(), usable_names.end()), usable_names.end());
    z.consistent = any_usable && all_match;
    z.usable_servers = static_cast<unsigned>(usable_names.size());
    for (const auto& ns : z.unresolved_nameservers)
        warning.push_back("nameserver " + ns.name + " has no address (" + ns.detail + ")");
    if (z.discovery_from_cache)
        warning.push_back("discovery failed (" + z.discovery_error +
                          "); using the last good answer");
    if (z.nameservers_capped)
        warning.push_back("more nameservers than the configured limits (" + r.capped_detail +
                          "); the rest were not probed");

    replication_findings(z, rules_of(r), critical, warning);
    signature_findings(z, rules_of(r), now.wall, critical, warning);
    instance_findings(z, warning);

    if (ns_rows_total == 0) {
        // Nothing to compare; but an unusable primary is CRITICAL on its own (the zone cannot
        // be updated), and CRITICAL outranks UNKNOWN: a zone whose primary answers NXDOMAIN
        // (it does not exist there) is CRITICAL, not UNKNOWN.
        z.verdict = critical.empty() ? Verdict::unknown : Verdict::critical;
        z.reasons = std::move(critical);
        z.reasons.push_back("no nameserver address known" +
                            (z.discovery_error.empty() ? "" : ": " + z.discovery_error));
        return z;
    }
    if (usable_names.empty()) {
        critical.insert(critical.begin(), "no nameserver is usable");
    } else if (usable_names.size() < policy.min_usable_nameservers) {
        // "Usable", not "answers": a server that answers REFUSED or without authority answers.
        const std::size_t n = usable_names.size();
        auto& list = policy.below_min_usable_is_critical ? critical : warning;
        list.insert(list.begin(),
                    "only " + std::to_string(n) +
                        (n == 1 ? " nameserver is usable" : " nameservers are usable") +
                        "; min_usable_nameservers is " +
                        std::to_string(policy.min_usable_nameservers) +
                        " (RFC 2182 section 5 asks for at least 2)");
    }
    z.verdict = !critical.empty()  ? Verdict::critical
                : !warning.empty() ? Verdict::warning
                                   : Verdict::ok;
    z.reasons = std::move(critical);
    z.reasons.insert(z.reasons.end(), warning.begin(), warning.end());
    return z;
}

}  // namespace soawatch
