#include "agent/config/alert_config.hpp"

namespace soawatch {

namespace {

constexpr std::array<std::string_view, kAlertRuleCount> kRuleNames{
    "ZoneSerialMismatch",
    "NameserverBehind",
    "NameserverUnreachable",
    "NameserverLame",
    "ZoneExpiryRisk",
    "PrimaryUnreachable",
    "SecondaryRefreshFailing",
    "PropagationSlow",
    "SOAFieldsMismatch",
    "SOATimersUnsafe",
    // Transfer audit:
    "ZoneTransferOpen",
    "PrimaryTransferBroken",
    // DNSSEC signature freshness:
    "SignatureExpiringSoon",
    "SignatureExpired",
    "SignatureValidityBelowExpire",
    // Anycast:
    "AnycastInstanceBehind",
    // Catalog zones:
    "CatalogUnavailable",
    // Delegation check:
    "DelegationMismatch",
};

}  // namespace

std::string_view alert_rule_name(AlertRule rule) {
    return kRuleNames[static_cast<std::size_t>(rule)];
}

std::optional<AlertRule> alert_rule_from_name(std::string_view name) {
    for (AlertRule rule : kAllAlertRules)
        if (alert_rule_name(rule) == name) return rule;
    return std::nullopt;
}

AlertRuleSet AlertRuleSet::defaults(Duration for_duration) {
    AlertRuleSet set;
    for (auto& r : set.rules) {
        r.for_duration = for_duration;
        r.severity = "warning";
    }
    // An outage in waiting, and the source of every transfer: both page.
    set[AlertRule::zone_expiry_risk].severity = "critical";
    set[AlertRule::primary_unreachable].severity = "critical";
    // Validating resolvers already fail (SERVFAIL) on what that address serves.
    set[AlertRule::signature_expired].severity = "critical";
    // One lost UDP answer is not an outage: three in a row are.
    set[AlertRule::nameserver_unreachable].consecutive_failures = 3;
    return set;
}

std::string_view receiver_type_name(ReceiverType type) {
    switch (type) {
        case ReceiverType::slack:
            return "slack";
        case ReceiverType::webhook:
            return "webhook";
        case ReceiverType::alertmanager:
            return "alertmanager";
    }
    return "webhook";
}

}  // namespace soawatch
