#include "agent/replication.hpp"

#include <algorithm>
#include <chrono>

#include "agent/common/duration.hpp"
#include "agent/common/text_util.hpp"

namespace soawatch {

namespace {

using Seconds = std::chrono::duration<double>;

// EDNS EXPIRE counts whole seconds and each server checks its timers at its own pace: a
// SERVFAIL this close before the predicted moment is still that expiry.
constexpr double kExpirySlackSeconds = 5;

const NameserverStatus* previous_row(const ZoneStatus* prev, const NameserverStatus& s) {
    if (!prev) return nullptr;
    for (const auto& p : prev->servers)
        if (p.is_primary == s.is_primary && p.target == s.target) return &p;
    return nullptr;
}

void add_mismatch(ZoneStatus& z, const NameserverStatus& s, std::string field, std::string value,
                  std::string reference) {
    z.soa_field_mismatches.push_back({std::string(nameserver_label(s.target)), s.target->address,
                                      std::move(field), std::move(value), std::move(reference)});
}

}  // namespace

double refresh_age_bound(const dns::SoaRdata& reference, const AlertRuleSettings& rule) {
    return static_cast<double>(reference.refresh) +
           static_cast<double>(rule.tolerated_retries) * static_cast<double>(reference.retry);
}

void track_expire(const ZoneStatus* previous, ZoneStatus& z, const AlertRuleSet& rules) {
    // Read through const: writing access would unshare the SOA copy the rows share.
    const SharedSoa& reference_soa = z.reference_soa;
    const dns::SoaRdata* reference = reference_soa ? &*reference_soa : nullptr;
    const Clock::time_point now = z.last_check.value_or(Clock::time_point{});
    const AlertRuleSettings& refresh_rule = rules[AlertRule::secondary_refresh_failing];
    const AlertRuleSettings& expiry_rule = rules[AlertRule::zone_expiry_risk];
    for (auto& s : z.servers) {
        const NameserverStatus* p = previous_row(previous, s);
        if (s.state == ServerState::unusable) {
            // Nothing answered about the zone this round: what was known still holds.
            if (p) {
                s.expire_supported = p->expire_supported;
                s.expires_at = p->expires_at;
            }
            // A secondary that counted down and now fails to answer for the zone has expired
            // it (RFC 1035 3.3.13: it no longer considers its data authoritative).
            s.expired = !s.is_primary && s.answered && s.expires_at &&
                        Seconds(*s.expires_at - now).count() <= kExpirySlackSeconds;
            if (s.expired) {
                const double ago = std::max(0.0, Seconds(now - *s.expires_at).count());
                s.error_detail =
                    s.error_detail.str() + (s.error_detail.empty() ? "" : "; ") +
                    "the zone expired there: its EDNS EXPIRE ran out " +
                    (ago < 1 ? std::string("just now") : human_duration(ago) + " ago") +
                    " without a refresh from its primary";
            }
            continue;
        }
        if (s.expire_asked) s.expire_supported = s.expire_remaining.has_value();
        if (!s.expire_remaining || !s.last_success) continue;
        s.expires_at = *s.last_success + std::chrono::seconds(*s.expire_remaining);
        // A primary answers the SOA expire value itself (RFC 7314 2): it refreshes from nobody.
        if (s.is_primary || !reference) continue;
        const uint32_t remaining = *s.expire_remaining;
        s.refresh_age = remaining < reference->expire ? reference->expire - remaining : 0;
        if (refresh_rule.enabled)
            s.refresh_failing = *s.refresh_age > refresh_age_bound(*reference, refresh_rule);
        if (expiry_rule.enabled && reference->expire > 0)
            s.expiry_near = *s.refresh_age > expiry_rule.expire_fraction * reference->expire;
    }
}

void check_soa_fields(ZoneStatus& z) {
    const SharedSoa& reference_soa = z.reference_soa;  // const: keep the copy shared
    if (!reference_soa || !z.reference_serial) return;
    const dns::SoaRdata& ref = *reference_soa;
    for (const auto& s : z.servers) {
        // Only the same version of the zone must agree: a server behind may still hold the
        // timers of its older version, which NameserverBehind already reports.
        if (s.state == ServerState::unusable || !s.soa || s.soa->serial != *z.reference_serial)
            continue;
        if (&*s.soa == &ref) continue;  // the reference's own copy (SharedSoa::share_with)
        const dns::SoaRdata& got = *s.soa;
        if (!same_domain_name(got.mname, ref.mname))
            add_mismatch(z, s, "mname", got.mname, ref.mname);
        if (!same_domain_name(got.rname, ref.rname))
            add_mismatch(z, s, "rname", got.rname, ref.rname);
        const std::pair<const char*, std::pair<uint32_t, uint32_t>> timers[] = {
            {"refresh", {got.refresh, ref.refresh}},
            {"retry", {got.retry, ref.retry}},
            {"expire", {got.expire, ref.expire}},
            {"minimum", {got.minimum, ref.minimum}},
        };
        for (const auto& [field, values] : timers)
            if (values.first != values.second)
                add_mismatch(z, s, field, std::to_string(values.first),
                             std::to_string(values.second));
    }
}

std::vector<std::string> soa_timer_problems(const dns::SoaRdata& soa,
                                            const AlertRuleSettings& limits) {
    std::vector<std::string> out;
    const auto secs = [](Duration d) { return static_cast<double>(d.count()) / 1000; };
    // RFC 1912 2.2: retry is a fraction of refresh, else a failed refresh is retried later
    // than the next regular one would come.
    if (soa.retry >= soa.refresh)
        out.push_back("retry " + std::to_string(soa.retry) + " is not below refresh " +
                      std::to_string(soa.refresh) + " (RFC 1912 2.2)");
    // RFC 1912 2.2: a secondary must get several refresh and retry chances before it expires
    // the zone; at expire <= refresh + retry one lost refresh takes the zone down there.
    if (uint64_t{soa.expire} <= uint64_t{soa.refresh} + soa.retry)
        out.push_back("expire " + std::to_string(soa.expire) + " is not above refresh + retry " +
                      std::to_string(uint64_t{soa.refresh} + soa.retry) + " (RFC 1912 2.2)");
    // RFC 1912 2.2 recommends 2-4 weeks; Zonemaster's Zone05 warns below one week: time to
    // notice and mend a broken primary before its secondaries stop serving the zone.
    if (soa.expire < secs(limits.min_expire))
        out.push_back("expire " + human_duration(soa.expire) + " is shorter than " +
                      human_duration(secs(limits.min_expire)) +
                      " (RFC 1912 2.2; SOATimersUnsafe.min_expire)");
    // RFC 2308 5: the minimum field is the negative caching TTL; values over a day have been
    // found problematic (a name added keeps failing for that long where it was asked).
    if (soa.minimum > secs(limits.max_minimum))
        out.push_back("minimum (negative TTL) " + human_duration(soa.minimum) + " exceeds " +
                      human_duration(secs(limits.max_minimum)) +
                      " (RFC 2308 5; SOATimersUnsafe.max_minimum)");
    return out;
}

void replication_findings(const ZoneStatus& z, const AlertRuleSet& rules,
                          std::vector<std::string>& critical, std::vector<std::string>& warning) {
    const dns::SoaRdata* reference = z.reference_soa ? &*z.reference_soa : nullptr;
    for (const auto& s : z.servers) {
        if (s.is_primary || !s.refresh_age || !reference) continue;
        const std::string age = human_duration(*s.refresh_age);
        if (s.expiry_near && s.expire_remaining) {
            critical.push_back(describe_server(s) + " will stop serving the zone in " +
                               human_duration(*s.expire_remaining) +
                               " (EDNS EXPIRE): no refresh from its primary for " + age +
                               " of the SOA expire " + human_duration(reference->expire));
        } else if (s.refresh_failing) {
            warning.push_back(
                describe_server(s) + " has not refreshed from its primary for " + age +
                " (EDNS EXPIRE; bound: SOA refresh + " +
                std::to_string(rules[AlertRule::secondary_refresh_failing].tolerated_retries) +
                " x retry = " +
                human_duration(
                    refresh_age_bound(*reference, rules[AlertRule::secondary_refresh_failing])) +
                "), whatever its serial says");
        }
    }
    if (rules[AlertRule::soa_fields_mismatch].enabled) {
        for (const auto& m : z.soa_field_mismatches)
            warning.push_back("SOA " + m.field + " differs at " + m.nameserver + " (" + m.address +
                              "): " + m.value + ", reference " + m.reference);
    }
    if (rules[AlertRule::soa_timers_unsafe].enabled) {
        for (const auto& problem : z.soa_timer_problems)
            warning.push_back("SOA timers: " + problem);
    }
}

}  // namespace soawatch
