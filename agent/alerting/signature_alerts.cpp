#include "agent/alerting/signature_alerts.hpp"

#include "agent/alerting/alert_rules.hpp"
#include "agent/common/duration.hpp"
#include "agent/common/text_util.hpp"
#include "agent/signatures.hpp"

namespace soawatch {

namespace {

std::string key_text(const NameserverStatus::Signature& sig) {
    return "key tag " + std::to_string(sig.key_tag) + ", algorithm " +
           std::to_string(sig.algorithm);
}

}  // namespace

void signature_alerts(const ZoneStatus& z, const AlertRuleSet& rules, Clock::time_point now,
                      std::vector<AlertCondition>& out) {
    for (const auto& s : z.servers) {
        const auto signature = s.signature();
        if (!signature) continue;
        const auto& sig = *signature;
        const auto& f = s.signature_findings;
        const double left = signature_validity_left(sig, now);
        if (f.expired && rules[AlertRule::signature_expired].enabled) {
            AlertCondition c = alert_condition(AlertRule::signature_expired, &s);
            c.summary = describe_server(s) + " serves an expired signature of " + z.zone;
            c.description =
                "The RRSIG(SOA) of " + z.zone + " that " + describe_server(s) + " serves (" +
                key_text(sig) + ") expired " + rrsig_time_text(sig.expiration) + ", " +
                human_duration(-left) +
                " ago (RFC 4034 3.1.5). Validating resolvers treat its answers as bogus and "
                "answer SERVFAIL. It serves " +
                (s.soa ? "serial " + std::to_string(s.soa->serial) : std::string("the zone")) +
                " (" + std::string(server_state_name(s.state)) +
                "): a secondary that no longer gets the re-signed zone from its primary, or a "
                "signer that stopped re-signing.";
            out.push_back(std::move(c));
        }
        if (f.expiring && rules[AlertRule::signature_expiring_soon].enabled) {
            const auto& r = rules[AlertRule::signature_expiring_soon];
            AlertCondition c = alert_condition(AlertRule::signature_expiring_soon, &s);
            c.summary = "the signature of " + z.zone + " at " + describe_server(s) +
                        " expires in " + human_duration(left);
            c.description =
                "The RRSIG(SOA) of " + z.zone + " that " + describe_server(s) + " serves (" +
                key_text(sig) + ") expires " + rrsig_time_text(sig.expiration) + ", in " +
                human_duration(left) + ", less than " +
                human_duration(std::chrono::duration<double>(r.min_validity).count()) +
                " (min_validity). When it expires, validating resolvers reject the answers of "
                "that address: the signer must re-sign and the secondaries transfer the result "
                "before then.";
            out.push_back(std::move(c));
        }
        if (f.below_expire && rules[AlertRule::signature_validity_below_expire].enabled) {
            const auto bound = signature_expire_bound(z, s);
            AlertCondition c = alert_condition(AlertRule::signature_validity_below_expire, &s);
            c.summary = "signatures of " + z.zone + " at " + describe_server(s) +
                        " run out before the zone would expire there";
            c.description =
                "The RRSIG(SOA) of " + z.zone + " that " + describe_server(s) + " serves has " +
                human_duration(left) + " of validity left (until " +
                rrsig_time_text(sig.expiration) + "), less than the " +
                human_duration(bound.value_or(0)) +
                (s.expire_remaining ? " its EDNS EXPIRE answer (RFC 7314) says it would"
                                    : " of the SOA expire it would") +
                " keep serving the zone without reaching its primary. Cut off, it would serve "
                "expired signatures (bogus data) before it stops serving: make the signature "
                "validity longer than the SOA expire, or the expire shorter.";
            out.push_back(std::move(c));
        }
    }
}

}  // namespace soawatch
