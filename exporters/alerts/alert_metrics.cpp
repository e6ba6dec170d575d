#include "exporters/alerts/alert_metrics.hpp"

#include <cstdint>

#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

void append_alert_metrics(std::string& out, const AlertsSnapshot& alerts,
                          const std::vector<ReceiverStats>& receivers) {
    prom::LabelSet labels;
    const auto by_rule = [&](std::string_view name, std::string_view help,
                             const std::size_t(&counts)[kAlertRuleCount]) {
        prom::append_family_header(out, name, help, "gauge");
        for (AlertRule rule : kAllAlertRules) {
            labels.clear();
            labels.add("alertname", alert_rule_name(rule));
            prom::append_sample(out, name, labels,
                                uint64_t{counts[static_cast<std::size_t>(rule)]});
        }
    };
    by_rule("soawatch_alerts_firing", "Alerts of the built-in rule that are firing.",
            alerts.firing_by_rule);
    by_rule("soawatch_alerts_pending",
            "Alerts of the built-in rule whose condition holds, waiting for their 'for'.",
            alerts.pending_by_rule);
    if (receivers.empty()) return;

    prom::append_family_header(
        out, "soawatch_notifications_total",
        "Alert notifications by receiver and result: success (delivered), retry (an attempt "
        "failed, retried later), failed (given up: dead letter), dropped (queue full or "
        "shutting down).",
        "counter");
    for (const ReceiverStats& r : receivers) {
        labels.clear();
        labels.add("receiver", r.name);
        prom::append_sample(out, "soawatch_notifications_total", labels, "result", "success",
                            r.success);
        prom::append_sample(out, "soawatch_notifications_total", labels, "result", "retry",
                            r.retry);
        prom::append_sample(out, "soawatch_notifications_total", labels, "result", "failed",
                            r.failed);
        prom::append_sample(out, "soawatch_notifications_total", labels, "result", "dropped",
                            r.dropped);
    }
    prom::append_family_header(out, "soawatch_notification_queue_length",
                               "Notifications waiting for delivery to the receiver, the one "
                               "in flight included.",
                               "gauge");
    for (const ReceiverStats& r : receivers) {
        labels.clear();
        labels.add("receiver", r.name);
        prom::append_sample(out, "soawatch_notification_queue_length", labels, uint64_t{r.queued});
    }
}

}  // namespace soawatch
