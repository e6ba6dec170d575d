// The `alerting:` part of the configuration: the built-in rules with their thresholds, the
// receivers that hear about them and the route between the two. Parsed and validated with the
// rest of the file by agent/config/config.cpp; docs/CONFIG.md documents every key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/common/duration.hpp"

namespace soawatch {

// The built-in rules. Their names are the alertname label and match deploy/prometheus's rules.
enum class AlertRule : std::size_t {
    zone_serial_mismatch,    // usable nameservers disagree on the serial
    nameserver_behind,       // an address lags the reference beyond the thresholds
    nameserver_unreachable,  // no answer for N probes in a row
    nameserver_lame,         // answers, but without authority, REFUSED, SERVFAIL, without SOA
    zone_expiry_risk,        // lacking the reference for a large part of the SOA expire time
    primary_unreachable,     // the configured hidden primary does not answer
    // Replication beyond the serial (EDNS EXPIRE, SOA fields and timers): issue 10 parts 1, 3.
    secondary_refresh_failing,  // a secondary's refresh age (EDNS EXPIRE) beyond its timers
    propagation_slow,           // a new serial took longer than the bound to reach an address
    soa_fields_mismatch,        // servers with the reference serial differ in other SOA fields
    soa_timers_unsafe,          // the reference SOA's timers fail the sanity rules
    // Transfer audit (transfer_check):
    zone_transfer_open,       // an address answers an unsigned AXFR from anyone with the zone
    primary_transfer_broken,  // the primary does not serve a TSIG-signed IXFR with the key
    // DNSSEC signature freshness (RRSIG(SOA) per address, agent/signatures.hpp):
    signature_expiring_soon,          // an address serves an RRSIG(SOA) close to its expiration
    signature_expired,                // an address serves an expired RRSIG(SOA): bogus answers
    signature_validity_below_expire,  // signatures run out before the zone would expire there
    // Anycast (NSID, RFC 5001): an instance behind an address lags the others there.
    anycast_instance_behind,
    // Catalog zones (zones_from_catalog):
    catalog_unavailable,  // a catalog fails to transfer or is broken: its member list is stale
    // Delegation check (delegation_check):
    delegation_mismatch,  // parent and child NS sets or glue differ, or NS sets are unsound
};
inline constexpr std::size_t kAlertRuleCount = 18;
inline constexpr std::array<AlertRule, kAlertRuleCount> kAllAlertRules{
    AlertRule::zone_serial_mismatch,
    AlertRule::nameserver_behind,
    AlertRule::nameserver_unreachable,
    AlertRule::nameserver_lame,
    AlertRule::zone_expiry_risk,
    AlertRule::primary_unreachable,
    AlertRule::secondary_refresh_failing,
    AlertRule::propagation_slow,
    AlertRule::soa_fields_mismatch,
    AlertRule::soa_timers_unsafe,
    AlertRule::zone_transfer_open,
    AlertRule::primary_transfer_broken,
    AlertRule::signature_expiring_soon,
    AlertRule::signature_expired,
    AlertRule::signature_validity_below_expire,
    AlertRule::anycast_instance_behind,
    AlertRule::catalog_unavailable,
    AlertRule::delegation_mismatch,
};

std::string_view alert_rule_name(AlertRule rule);  // "ZoneSerialMismatch", ...
std::optional<AlertRule> alert_rule_from_name(std::string_view name);

struct AlertRuleSettings {
    bool enabled = true;
    Duration for_duration{60000};  // how long the condition must hold before it fires
    std::string severity;          // label value: "warning", "critical", ...
    // Thresholds; each rule reads only its own (config.cpp rejects the others per rule).
    uint32_t max_serial_behind = 0;     // NameserverBehind: steps tolerated
    Duration max_lag{0};                // NameserverBehind: lag tolerated
    unsigned consecutive_failures = 1;  // NameserverUnreachable, PrimaryUnreachable
    double expire_fraction = 0.5;       // ZoneExpiryRisk: share of the SOA expire time
    // SecondaryRefreshFailing: refresh age tolerated = SOA refresh + this many SOA retries.
    unsigned tolerated_retries = 2;
    Duration max_propagation{0};  // PropagationSlow: 0 means the SOA refresh / 2
    // SOATimersUnsafe: the least SOA expire and the largest SOA minimum (negative TTL) accepted.
    Duration min_expire{7LL * 24 * 3600 * 1000};
    Duration max_minimum{24LL * 3600 * 1000};
    // SignatureExpiringSoon: the validity an RRSIG(SOA) must have left.
    Duration min_validity{3LL * 24 * 3600 * 1000};
};

// One setting per rule, indexed by AlertRule.
struct AlertRuleSet {
    std::array<AlertRuleSettings, kAlertRuleCount> rules;
    const AlertRuleSettings& operator[](AlertRule r) const {
        return rules[static_cast<std::size_t>(r)];
    }
    AlertRuleSettings& operator[](AlertRule r) { return rules[static_cast<std::size_t>(r)]; }
    // The defaults of every rule with `for_duration` as the default `for`.
    static AlertRuleSet defaults(Duration for_duration);
};

enum class ReceiverType { slack, webhook, alertmanager };
std::string_view receiver_type_name(ReceiverType type);

struct ReceiverConfig {
    std::string name;
    ReceiverType type = ReceiverType::webhook;
    // Secret (a Slack webhook URL is a credential): never logged, never shown by the API.
    std::string url;
    // Extra request headers; values may be secrets (read from files or the environment).
    std::vector<std::pair<std::string, std::string>> headers;
    Duration timeout{10000};    // one delivery attempt, connection included
    unsigned max_attempts = 5;  // attempts per notification before it is dead-lettered
    bool send_resolved = true;  // also notify when an alert clears
};

struct AlertingConfig {
    Duration default_for{60000};            // `for` of every rule unless set
    Duration repeat_interval{4 * 3600000};  // re-notify a still-firing group this often
    Duration resend_interval{60000};        // Alertmanager receivers: re-post firing alerts
    std::string external_url;               // base of generatorURL; empty: http://host:port
    AlertRuleSet rules = AlertRuleSet::defaults(Duration{60000});
    std::vector<ReceiverConfig> receivers;
    std::vector<std::string> route_receivers;                // names; empty: every receiver
    std::vector<std::string> group_by{"alertname", "zone"};  // "..." alone: every label
    std::size_t queue_capacity = 256;                        // notifications waiting per receiver
};

}  // namespace soawatch
