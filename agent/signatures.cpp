#include "agent/signatures.hpp"

#include <chrono>

#include "agent/common/duration.hpp"
#include "agent/common/text_util.hpp"

namespace soawatch {

namespace {

double seconds_of(Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

std::string rrsig_time_text(int64_t unix) {
    return rfc3339(Clock::time_point(std::chrono::seconds(unix)));
}

double signature_validity_left(const NameserverStatus::Signature& sig, Clock::time_point now) {
    return static_cast<double>(sig.expiration) -
           std::chrono::duration<double>(now.time_since_epoch()).count();
}

std::optional<double> signature_expire_bound(const ZoneStatus& zone, const NameserverStatus& s) {
    if (s.is_primary) return std::nullopt;
    // RFC 7314 2: what this secondary says it has left; else the full expire of the reference
    // SOA, what a secondary that has just refreshed has left.
    if (s.expire_remaining) return static_cast<double>(*s.expire_remaining);
    if (zone.reference_soa) return static_cast<double>(zone.reference_soa->expire);
    return std::nullopt;
}

void track_signatures(ZoneStatus& zone, DnssecMode mode, const AlertRuleSet& rules,
                      Clock::time_point now) {
    zone.dnssec = mode;
    for (const auto& s : zone.servers) {
        const auto sig = s.signature();
        if (!sig) continue;
        if (!zone.newest_signature_expiration ||
            sig->expiration > *zone.newest_signature_expiration)
            zone.newest_signature_expiration = sig->expiration;
    }
    zone.signed_zone = zone.newest_signature_expiration.has_value();
    const double min_validity = seconds_of(rules[AlertRule::signature_expiring_soon].min_validity);
    for (auto& s : zone.servers) {
        auto& f = s.signature_findings;
        f = {};
        if (s.state == ServerState::unusable) continue;
        const auto sig = s.signature();
        if (!sig) {
            // Not the hidden primary: it may be the unsigned input of a signer that feeds the
            // secondaries (a "bump in the wire").
            f.missing = !s.is_primary && s.dnssec_asked &&
                        (zone.signed_zone || mode == DnssecMode::required);
            continue;
        }
        const double left = signature_validity_left(*sig, now);
        f.expired = left <= 0;
        f.expiring = !f.expired && left < min_validity;
        const auto bound = signature_expire_bound(zone, s);
        f.below_expire = !f.expired && bound && left < *bound;
        f.older = sig->expiration < *zone.newest_signature_expiration;
    }
}

std::string signature_problem(const NameserverStatus& s) {
    const auto& f = s.signature_findings;
    if (f.missing) return "answers without RRSIG(SOA)";
    const auto sig = s.signature();
    if (!sig) return "";
    const std::string expiration = rrsig_time_text(sig->expiration);
    if (f.expired) return "RRSIG(SOA) expired " + expiration;
    if (f.older) return "RRSIG(SOA) older than the newest: expires " + expiration;
    if (f.expiring) return "RRSIG(SOA) expires soon: " + expiration;
    if (f.below_expire) return "RRSIG(SOA) expires " + expiration + ", before the zone would here";
    return "";
}

void signature_findings(const ZoneStatus& zone, const AlertRuleSet& rules, Clock::time_point now,
                        std::vector<std::string>& critical, std::vector<std::string>& warning) {
    const auto on = [&rules](AlertRule r) { return rules[r].enabled; };
    for (const auto& s : zone.servers) {
        const auto& f = s.signature_findings;
        if (f.missing) {
            warning.push_back(describe_server(s) +
                              " answers without RRSIG(SOA) (DO set, RFC 3225)" +
                              (zone.signed_zone ? " while other servers sign the zone"
                                                : ", and the zone has dnssec: true"));
        }
        const auto signature = s.signature();
        if (!signature) continue;
        const auto& sig = *signature;
        const double left = signature_validity_left(sig, now);
        if (f.expired && on(AlertRule::signature_expired)) {
            critical.push_back(describe_server(s) + " serves an expired RRSIG(SOA) (expired " +
                               rrsig_time_text(sig.expiration) + ", " + human_duration(-left) +
                               " ago): validating resolvers reject its answers");
        }
        if (f.expiring && on(AlertRule::signature_expiring_soon)) {
            warning.push_back(
                describe_server(s) + " serves an RRSIG(SOA) that expires in " +
                human_duration(left) + " (" + rrsig_time_text(sig.expiration) + "), under " +
                human_duration(seconds_of(rules[AlertRule::signature_expiring_soon].min_validity)) +
                " (SignatureExpiringSoon.min_validity)");
        }
        if (f.below_expire && on(AlertRule::signature_validity_below_expire)) {
            const bool from_expire = s.expire_remaining.has_value();
            warning.push_back(describe_server(s) + "'s RRSIG(SOA) runs out in " +
                              human_duration(left) + ", before the zone would expire there (" +
                              human_duration(*signature_expire_bound(zone, s)) +
                              (from_expire ? ", its EDNS EXPIRE answer" : ", the SOA expire") +
                              "): cut off from its primary it would serve bogus answers first");
        }
        // An older signature at the reference serial is a signer's own (multi-signer, RFC 8901,
        // or a secondary that signs inline): named in the API, page and check, no finding. One
        // at an older serial is a secondary that has not taken the re-signed zone.
        if (f.older && s.state != ServerState::in_sync && s.state != ServerState::reference) {
            const double earlier =
                static_cast<double>(*zone.newest_signature_expiration - sig.expiration);
            warning.push_back(describe_server(s) + " serves an RRSIG(SOA) expiring " +
                              rrsig_time_text(sig.expiration) + ", " + human_duration(earlier) +
                              " before the newest one (" +
                              rrsig_time_text(*zone.newest_signature_expiration) +
                              "): it has not taken the re-signed zone");
        }
    }
}

}  // namespace soawatch
