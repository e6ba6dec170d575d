// The alerting part of /metrics: alerts by rule and state, and the delivery of notifications
// per receiver. Appended to the body MetricsExporter renders. Pure, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "agent/alerting/alert_engine.hpp"
#include "exporters/alerts/alert_dispatcher.hpp"

namespace soawatch {

// soawatch_alerts_firing{alertname}, soawatch_alerts_pending{alertname} (every built-in rule,
// 0 included), soawatch_notifications_total{receiver,result} and
// soawatch_notification_queue_length{receiver}.
void append_alert_metrics(std::string& out, const AlertsSnapshot& alerts,
                          const std::vector<ReceiverStats>& receivers);

}  // namespace soawatch
