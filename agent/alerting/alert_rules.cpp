#include "agent/alerting/alert_rules.hpp"

#include <algorithm>
#include <map>
#include <string_view>

#include "agent/alerting/signature_alerts.hpp"
#include "agent/anycast.hpp"
#include "agent/common/duration.hpp"
#include "probes/nsid.hpp"

namespace soawatch {

namespace {

using Seconds = std::chrono::duration<double>;

std::string error_text(const NameserverStatus& s) {
    std::string text(probe_error_name(s.error));
    if (!s.error_detail.empty()) text += " (" + s.error_detail.str() + ")";
    return text;
}

// No answer at all: the server (or the path to it) is down.
bool is_unreachable_error(ProbeError e) {
    return e == ProbeError::timeout || e == ProbeError::connection_refused ||
           e == ProbeError::network_error;
}

std::string reference_text(const ZoneStatus& z) {
    if (!z.reference_serial) return "unknown";
    return std::to_string(*z.reference_serial) +
           (z.reference_from_primary ? " (the primary's)" : " (the newest seen)");
}

void serial_mismatch(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    // serial -> who serves it, over the usable nameservers of the NS set.
    std::map<uint32_t, std::vector<std::string>> serving;
    for (const auto& s : z.servers)
        if (!s.is_primary && s.state != ServerState::unusable && s.soa)
            serving[s.soa->serial].push_back(describe_server(s));
    if (serving.size() < 2) return;
    AlertCondition c = alert_condition(AlertRule::zone_serial_mismatch, nullptr);
    c.summary = z.zone + " is served with " + std::to_string(serving.size()) + " different serials";
    c.description = "The nameservers of " + z.zone + " disagree on its SOA serial: ";
    bool first = true;
    for (auto it = serving.rbegin(); it != serving.rend(); ++it) {
        if (!first) c.description += "; ";
        first = false;
        c.description += std::to_string(it->first) + " from ";
        for (std::size_t i = 0; i < it->second.size(); ++i)
            c.description += (i ? ", " : "") + it->second[i];
    }
    c.description += ". The reference is " + reference_text(z) + ".";
    out.push_back(std::move(c));
}

void nameserver_behind(const ZoneStatus& z, const NameserverStatus& s, const AlertRuleSettings& r,
                       std::vector<AlertCondition>& out) {
    if (s.is_primary || s.state != ServerState::behind || !s.soa) return;
    const double max_lag = Seconds(r.max_lag).count();
    if (s.serial_behind <= r.max_serial_behind && s.lag_seconds <= max_lag) return;
    AlertCondition c = alert_condition(AlertRule::nameserver_behind, &s);
    c.summary = describe_server(s) + " is " + std::to_string(s.serial_behind) +
                " serial(s) behind on " + z.zone;
    c.description = describe_server(s) + " serves serial " + std::to_string(s.soa->serial) +
                    " for " + z.zone + ", " + std::to_string(s.serial_behind) +
                    " step(s) behind the reference " + reference_text(z) +
                    ", and has lacked the reference for " + human_duration(s.lag_seconds) +
                    ". Its zone transfers (NOTIFY, IXFR/AXFR) are not getting through.";
    out.push_back(std::move(c));
}

void nameserver_unreachable(const ZoneStatus& z, const NameserverStatus& s,
                            const AlertRuleSettings& r, Clock::time_point now,
                            std::vector<AlertCondition>& out) {
    if (s.is_primary || s.state != ServerState::unusable || !is_unreachable_error(s.error)) return;
    if (s.consecutive_failures < r.consecutive_failures) return;
    AlertCondition c = alert_condition(AlertRule::nameserver_unreachable, &s);
    c.summary = describe_server(s) + " does not answer for " + z.zone;
    c.description = describe_server(s) + " gave no answer to the last " +
                    std::to_string(s.consecutive_failures) + " SOA queries for " + z.zone + ": " +
                    error_text(s) + ".";
    if (s.last_success) {
        c.description +=
            " It last answered " + human_duration(Seconds(now - *s.last_success).count()) + " ago.";
    }
    out.push_back(std::move(c));
}

void nameserver_lame(const ZoneStatus& z, const NameserverStatus& s, const AlertRuleSettings&,
                     std::vector<AlertCondition>& out) {
    // It answers, but not with an authoritative SOA of the zone: a lame delegation (RFC 1912
    // 2.8), a zone it does not load (REFUSED, SERVFAIL after expiry), or a broken answer.
    if (s.is_primary || s.state != ServerState::unusable || s.error == ProbeError::none ||
        is_unreachable_error(s.error))
        return;
    AlertCondition c = alert_condition(AlertRule::nameserver_lame, &s);
    c.summary = describe_server(s) + " is lame for " + z.zone;
    c.description = describe_server(s) + " answers for " + z.zone +
                    " but not with an authoritative SOA: " + error_text(s) +
                    ". Resolvers that pick it get no usable answer for the zone.";
    out.push_back(std::move(c));
}

// ZoneExpiryRisk from the secondary's own clock: its EDNS EXPIRE answer (RFC 7314), or, while
// it does not answer, the moment its last answer said it would expire the zone.
void expiry_risk_from_expire(const ZoneStatus& z, const NameserverStatus& s,
                             const AlertRuleSettings& r, Clock::time_point now,
                             std::vector<AlertCondition>& out) {
    const double expire = z.reference_soa->expire;
    double remaining = 0;
    if (s.expire_remaining) {
        if (!s.expiry_near) return;
        remaining = *s.expire_remaining;
    } else {
        // Unusable now: the countdown it last gave goes on; once it ran out, NameserverLame
        // says the zone expired there.
        if (!s.expires_at || s.expired) return;
        remaining = Seconds(*s.expires_at - now).count();
        if (remaining <= 0 || expire - remaining <= r.expire_fraction * expire) return;
    }
    AlertCondition c = alert_condition(AlertRule::zone_expiry_risk, &s);
    c.summary =
        describe_server(s) + " stops serving " + z.zone + " in " + human_duration(remaining);
    c.description = describe_server(s) + " answers EDNS EXPIRE " +
                    std::to_string(static_cast<uint64_t>(remaining)) + ": it has not refreshed " +
                    z.zone + " from its primary for " +
                    human_duration(std::max(0.0, expire - remaining)) + " of the SOA expire " +
                    human_duration(expire) + ", and stops answering for the zone in " +
                    human_duration(remaining) +
                    " (RFC 1035 3.3.13, RFC 7314) unless it reaches its primary, whatever "
                    "serial it serves now.";
    out.push_back(std::move(c));
}

void expiry_risk(const ZoneStatus& z, const NameserverStatus& s, const AlertRuleSettings& r,
                 Clock::time_point now, std::vector<AlertCondition>& out) {
    if (s.is_primary || !z.reference_soa || z.reference_soa->expire == 0) return;
    // A server that answers EXPIRE is judged by its own clock; the rule below (time without
    // the reference serial) only for servers that do not.
    if (s.expire_supported.value_or(false)) {
        expiry_risk_from_expire(z, s, r, now, out);
        return;
    }
    if (s.state == ServerState::in_sync || s.state == ServerState::ahead ||
        s.state == ServerState::reference)
        return;
    // Time without the reference serial: since it last had it, else since it fell behind. A
    // secondary's own expire timer runs from its last successful refresh, which is no later.
    std::optional<Clock::time_point> since = s.last_in_sync;
    if (s.behind_since && (!since || s.behind_since->wall < *since)) since = s.behind_since->wall;
    if (!since) return;
    const double stale = std::max(0.0, Seconds(now - *since).count());
    const double expire = z.reference_soa->expire;
    if (stale <= r.expire_fraction * expire) return;
    AlertCondition c = alert_condition(AlertRule::zone_expiry_risk, &s);
    c.summary = describe_server(s) + " may stop serving " + z.zone + " (SOA expire " +
                human_duration(expire) + ")";
    const int percent = static_cast<int>(stale * 100 / expire);
    c.description = describe_server(s) + " has been without the reference serial " +
                    reference_text(z) + " for " + human_duration(stale) + ", " +
                    std::to_string(percent) + "% of the zone's SOA expire time of " +
                    human_duration(expire) + " (it is " +
                    (s.state == ServerState::unusable ? "unusable: " + error_text(s)
                                                      : std::string(server_state_name(s.state))) +
                    "). When expire passes without a successful refresh, it stops answering "
                    "for the zone (RFC 1035 3.3.13).";
    out.push_back(std::move(c));
}

void primary_unreachable(const ZoneStatus& z, const NameserverStatus& s, const AlertRuleSettings& r,
                         std::vector<AlertCondition>& out) {
    if (!s.is_primary || s.state != ServerState::unusable) return;
    if (s.consecutive_failures < r.consecutive_failures) return;
    AlertCondition c = alert_condition(AlertRule::primary_unreachable, &s);
    c.summary = "the primary " + s.target->address + " of " + z.zone + " does not answer";
    c.description =
        "The hidden primary " + s.target->address + " of " + z.zone +
        " gave no usable SOA answer to the last " + std::to_string(s.consecutive_failures) +
        " queries: " + error_text(s) +
        ". Secondaries cannot transfer new versions of the zone; the reference "
        "stays at its last known serial " +
        (z.reference_from_primary && z.reference_serial ? std::to_string(*z.reference_serial)
                                                        : std::string("(none known)")) +
        ".";
    out.push_back(std::move(c));
}

// ---- replication beyond the serial (issue 10 parts 1 and 3) ----------------------------------

void secondary_refresh_failing(const ZoneStatus& z, const NameserverStatus& s,
                               const AlertRuleSettings& r, std::vector<AlertCondition>& out) {
    if (s.is_primary || !s.refresh_failing || !s.refresh_age || !z.reference_soa) return;
    const dns::SoaRdata& soa = *z.reference_soa;
    AlertCondition c = alert_condition(AlertRule::secondary_refresh_failing, &s);
    c.summary = describe_server(s) + " has not refreshed " + z.zone + " for " +
                human_duration(*s.refresh_age);
    c.description =
        describe_server(s) + " last reached its primary for " + z.zone + " " +
        human_duration(*s.refresh_age) + " ago (its EDNS EXPIRE answer: " +
        (s.expire_remaining ? std::to_string(*s.expire_remaining) : std::string("?")) +
        " s left of the SOA expire " + std::to_string(soa.expire) + "), more than refresh " +
        std::to_string(soa.refresh) + " + " + std::to_string(r.tolerated_retries) + " x retry " +
        std::to_string(soa.retry) + ". It serves " +
        (s.soa ? "serial " + std::to_string(s.soa->serial) : std::string("the zone")) + " (" +
        std::string(server_state_name(s.state)) +
        ") but its refresh queries or transfers fail: it stops answering for the zone when "
        "expire runs out.";
    out.push_back(std::move(c));
}

double propagation_bound(const ZoneStatus& z, const AlertRuleSettings& r) {
    if (r.max_propagation.count() > 0) return Seconds(r.max_propagation).count();
    return z.reference_soa ? z.reference_soa->refresh / 2.0 : 0;
}

void propagation_slow(const ZoneStatus& z, const NameserverStatus& s, const AlertRuleSettings& r,
                      Clock::time_point now, std::vector<AlertCondition>& out) {
    if (s.is_primary) return;
    const double bound = propagation_bound(z, r);
    if (bound <= 0) return;
    // Still on its way to a server that answers (one that does not is NameserverUnreachable's
    // or NameserverLame's), or the last one that arrived.
    double took = 0;
    bool pending = false;
    if (s.propagation_pending_since && s.state != ServerState::unusable) {
        took = Seconds(now - s.propagation_pending_since->wall).count();
        pending = true;
    }
    if (!pending || took <= bound) {
        pending = false;
        took = s.last_propagation_seconds.value_or(0);
    }
    if (took <= bound) return;
    AlertCondition c = alert_condition(AlertRule::propagation_slow, &s);
    c.summary = "new serials of " + z.zone + " reach " + describe_server(s) + " slowly";
    c.description = std::string(pending ? "The new serial " : "The last new serial ") +
                    reference_text(z) + (pending ? " has been on its way to " : " took ") +
                    (pending ? describe_server(s) + " for " + human_duration(took)
                             : human_duration(took) + " to reach " + describe_server(s)) +
                    ", over the bound of " + human_duration(bound) +
                    (r.max_propagation.count() > 0 ? "" : " (SOA refresh / 2)") +
                    ": NOTIFY (RFC 1996) is not getting through and only the refresh timer "
                    "brings changes there.";
    out.push_back(std::move(c));
}

void soa_fields_mismatch(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    if (z.soa_field_mismatches.empty()) return;
    AlertCondition c = alert_condition(AlertRule::soa_fields_mismatch, nullptr);
    std::map<std::string, int> fields;
    for (const auto& m : z.soa_field_mismatches) ++fields[m.field];
    std::string names;
    for (const auto& [field, n] : fields) names += (names.empty() ? "" : ", ") + field;
    c.summary = "SOA " + names + " of " + z.zone + " differ between servers";
    c.description = "At the reference serial " + reference_text(z) +
                    ", servers answer SOA fields other than the reference SOA's: ";
    bool first = true;
    for (const auto& m : z.soa_field_mismatches) {
        c.description += std::string(first ? "" : "; ") + m.nameserver + " (" + m.address + ") " +
                         m.field + " " + m.value + " vs " + m.reference;
        first = false;
    }
    c.description +=
        ". The same version of a zone should be the same everywhere: a server with its own "
        "copy (a second primary, a stale signer) gives resolvers different timers.";
    out.push_back(std::move(c));
}

void soa_timers_unsafe(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    if (z.soa_timer_problems.empty()) return;
    AlertCondition c = alert_condition(AlertRule::soa_timers_unsafe, nullptr);
    c.summary = "SOA timers of " + z.zone + " are unsafe";
    c.description = "The reference SOA of " + z.zone + " fails " +
                    std::to_string(z.soa_timer_problems.size()) + " sanity rule(s): ";
    for (std::size_t i = 0; i < z.soa_timer_problems.size(); ++i)
        c.description += (i ? "; " : "") + z.soa_timer_problems[i];
    c.description += ".";
    out.push_back(std::move(c));
}

// ---- transfer audit (transfer_check) ----

// "ns1.example. (192.0.2.1)" or "192.0.2.1", as who() says it, for a transfer observation.
std::string transfer_who(const TransferObservation& obs) {
    if (obs.target.nameserver.empty()) return obs.target.address;
    return obs.target.nameserver + " (" + obs.target.address + ")";
}

AlertCondition make_transfer(AlertRule rule, const TransferObservation& obs) {
    AlertCondition c;
    c.rule = rule;
    c.nameserver = nameserver_label(obs.target);
    c.address = obs.target.address;
    return c;
}

void transfer_open(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    if (!z.transfer) return;
    for (const auto& obs : z.transfer->axfr) {
        if (obs.result != TransferResult::open) continue;
        AlertCondition c = make_transfer(AlertRule::zone_transfer_open, obs);
        c.summary = transfer_who(obs) + " hands " + z.zone + " to anyone (open AXFR)";
        c.description = transfer_who(obs) + " answered an AXFR of " + z.zone +
                        " without TSIG, from an address that is not one of its secondaries, " +
                        "with the zone (serial " +
                        (obs.serial ? std::to_string(*obs.serial) : std::string("unknown")) +
                        "): anyone can download every name in it. Restrict transfers to the "
                        "secondaries' addresses and key (BIND allow-transfer, NSD provide-xfr, "
                        "Knot an ACL with action transfer).";
        out.push_back(std::move(c));
    }
}

void primary_transfer_broken(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    if (!z.transfer || !z.transfer->signed_ixfr) return;
    const auto& obs = *z.transfer->signed_ixfr;
    if (obs.result == TransferResult::ok) return;
    AlertCondition c = make_transfer(AlertRule::primary_transfer_broken, obs);
    const std::string result(transfer_result_name(obs.result));
    c.summary = "the primary " + obs.target.address + " does not serve " + z.zone +
                " with the secondaries' key (" + result + ")";
    c.description = "A TSIG-signed IXFR of " + z.zone + " to the primary " + obs.target.address +
                    " with the key the secondaries use was not served: " + result +
                    (obs.detail.empty() ? "" : " (" + obs.detail + ")") +
                    ". Secondaries that use this key cannot refresh the zone and will stop "
                    "serving it when its SOA expire time runs out.";
    out.push_back(std::move(c));
}

// ---- anycast (agent/anycast.hpp) ----

void anycast_instance_behind(const ZoneStatus& z, const NameserverStatus& s,
                             std::vector<AlertCondition>& out) {
    if (!s.instances) return;
    for (const auto& i : *s.instances) {
        if (!i.lagging) continue;
        AlertCondition c = alert_condition(AlertRule::anycast_instance_behind, &s);
        c.nsid = nsid_display(i.nsid);
        c.summary = describe_instance(s, i) + " is " + std::to_string(i.serial_behind) +
                    " serial(s) behind on " + z.zone;
        c.description =
            describe_instance(s, i) + " answers serial " + std::to_string(i.serial) +
            (z.reference_serial ? " while the reference is " + std::to_string(*z.reference_serial)
                                : std::string()) +
            ", and another instance behind the same address answers a newer one: "
            "clients routed to this instance get stale data. Check that instance's "
            "transfers from its primary.";
        out.push_back(std::move(c));
    }
}

// ---- delegation check (delegation_check) ----

// One condition per zone: its summary names the names and the side of the first finding, the
// description every finding.
void delegation_mismatch(const ZoneStatus& z, std::vector<AlertCondition>& out) {
    if (!z.delegation || z.delegation->findings.empty()) return;
    const auto& findings = z.delegation->findings;
    AlertCondition c;
    c.rule = AlertRule::delegation_mismatch;
    const DelegationFinding& first = findings.front();
    c.summary =
        "delegation of " + z.zone + ": " + std::string(delegation_problem_reason(first.problem));
    if (!first.side.empty()) c.summary += " at the " + first.side;
    if (!first.names.empty()) {
        c.summary += " (";
        for (std::size_t i = 0; i < first.names.size(); ++i)
            c.summary += (i ? ", " : "") + first.names[i];
        c.summary += ")";
    }
    if (findings.size() > 1)
        c.summary += " and " + std::to_string(findings.size() - 1) + " more problem(s)";
    c.description = "The delegation check of " + z.zone + " found: ";
    for (std::size_t i = 0; i < findings.size(); ++i)
        c.description += (i ? "; " : "") + findings[i].text;
    c.description +=
        ". Resolvers follow the parent's NS set and glue: fix the delegation at the registrar "
        "or the parent zone, or the zone's own NS RRset, so that both list the same servers.";
    out.push_back(std::move(c));
}

}  // namespace

AlertCondition alert_condition(AlertRule rule, const NameserverStatus* s) {
    AlertCondition c;
    c.rule = rule;
    if (s) {
        c.nameserver = nameserver_label(s->target);
        c.address = s->target->address;
    }
    return c;
}

std::vector<AlertCondition> evaluate_alert_rules(const ZoneStatus& zone, const AlertRuleSet& rules,
                                                 Clock::time_point now) {
    std::vector<AlertCondition> out;
    const auto enabled = [&rules](AlertRule r) { return rules[r].enabled; };
    if (enabled(AlertRule::zone_serial_mismatch)) serial_mismatch(zone, out);
    for (const auto& s : zone.servers) {
        if (enabled(AlertRule::nameserver_behind))
            nameserver_behind(zone, s, rules[AlertRule::nameserver_behind], out);
        if (enabled(AlertRule::nameserver_unreachable))
            nameserver_unreachable(zone, s, rules[AlertRule::nameserver_unreachable], now, out);
        if (enabled(AlertRule::nameserver_lame))
            nameserver_lame(zone, s, rules[AlertRule::nameserver_lame], out);
        if (enabled(AlertRule::zone_expiry_risk))
            expiry_risk(zone, s, rules[AlertRule::zone_expiry_risk], now, out);
        if (enabled(AlertRule::primary_unreachable))
            primary_unreachable(zone, s, rules[AlertRule::primary_unreachable], out);
        if (enabled(AlertRule::secondary_refresh_failing))
            secondary_refresh_failing(zone, s, rules[AlertRule::secondary_refresh_failing], out);
        if (enabled(AlertRule::propagation_slow))
            propagation_slow(zone, s, rules[AlertRule::propagation_slow], now, out);
        if (enabled(AlertRule::anycast_instance_behind)) anycast_instance_behind(zone, s, out);
    }
    if (enabled(AlertRule::soa_fields_mismatch)) soa_fields_mismatch(zone, out);
    if (enabled(AlertRule::soa_timers_unsafe)) soa_timers_unsafe(zone, out);
    // Transfer audit:
    if (enabled(AlertRule::zone_transfer_open)) transfer_open(zone, out);
    if (enabled(AlertRule::primary_transfer_broken)) primary_transfer_broken(zone, out);
    signature_alerts(zone, rules, now, out);  // DNSSEC: SignatureExpired, ExpiringSoon, ...
    // Delegation check:
    if (enabled(AlertRule::delegation_mismatch)) delegation_mismatch(zone, out);
    return out;
}

}  // namespace soawatch
