// The bodies soawatch POSTs to each receiver type. Pure functions, thread-safe.
//
// - webhook: Alertmanager's webhook payload, version "4" (docs/ALERTS.md lists every field), so
//   anything written for Alertmanager's webhook_config reads it unchanged;
// - slack: an incoming-webhook message: `text` (the notification fallback), `blocks` (header and
//   one section per alert) and an attachment coloured by severity (Slack colours only
//   attachments);
// - alertmanager: the JSON array of postableAlerts that Alertmanager's POST /api/v2/alerts takes.
#pragma once

#include <string>

#include "agent/alerting/alert_engine.hpp"

namespace soawatch {

struct PayloadContext {
    std::string receiver;      // its name
    std::string external_url;  // where soawatch is reachable (links, externalURL)
    Clock::time_point now;
    Duration resend_interval{60000};  // Alertmanager: endsAt of firing alerts is 4x this ahead
};

// Alerts per notification at most; the rest are counted (truncatedAlerts, "and N more").
inline constexpr std::size_t kMaxAlertsPerNotification = 100;
inline constexpr std::size_t kMaxSlackAlerts = 20;  // Slack allows 50 blocks per message

std::string webhook_payload(const AlertNotification& n, const PayloadContext& ctx);
std::string slack_payload(const AlertNotification& n, const PayloadContext& ctx);
std::string alertmanager_payload(const AlertNotification& n, const PayloadContext& ctx);

}  // namespace soawatch
