// The alert engine: turns the rule conditions of each checked zone into alerts with a life
// (pending while a condition has held for less than its `for`, firing, resolved) and decides
// what each receiver is told and when: once when an alert fires, again every repeat_interval
// while it fires, once when it resolves; flapping inside `for` sends nothing. Notifications to
// Slack and webhook receivers are grouped by route.group_by; Alertmanager receivers get every
// firing alert re-posted each resend_interval, as Alertmanager expects of its clients.
//
// Pure logic on the event loop thread: no I/O, time comes in as arguments. The notifications it
// returns are delivered by the AlertDispatcher (exporters/), on its own thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/alerting/alert_rules.hpp"
#include "agent/alerting/catalog_alert.hpp"
#include "agent/common/thread_annotations.hpp"
#include "agent/config/alert_config.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

using AlertLabels = std::vector<std::pair<std::string, std::string>>;  // sorted by name

enum class AlertState { pending, firing, resolved };
std::string_view alert_state_name(AlertState state);

struct Alert {
    AlertRule rule = AlertRule::zone_serial_mismatch;
    std::string fingerprint;  // 16 hex digits of a hash of the labels: stable identity
    AlertLabels labels;       // alertname, zone, [nameserver, address,] severity, [vantage]
    std::string summary;
    std::string description;
    std::string generator_url;
    AlertState state = AlertState::pending;
    Clock::time_point active_since;                 // the condition was first seen
    std::optional<Clock::time_point> firing_since;  // startsAt
    std::optional<Clock::time_point> resolved_at;   // endsAt
    Duration for_duration{0};

    const std::string& label(std::string_view name) const;  // "" when absent
};

struct AlertNotification {
    std::size_t receiver = 0;  // index into AlertingConfig::receivers
    std::string group_key;     // {label="value",...} of the group_by labels
    AlertLabels group_labels;
    bool firing = true;         // the group's status: firing while any alert in it fires
    std::vector<Alert> alerts;  // firing alerts, then those resolved since the last notification
    std::string external_url;   // where soawatch is reachable (links in the payloads)
};

// Immutable view for the HTTP threads (/api/v1/alerts, /metrics).
struct AlertsSnapshot {
    std::vector<Alert> alerts;  // pending and firing, by zone then alertname
    std::size_t firing_by_rule[kAlertRuleCount] = {};
    std::size_t pending_by_rule[kAlertRuleCount] = {};
};
using AlertsSnapshotPtr = std::shared_ptr<const AlertsSnapshot>;

class AlertEngine {
  public:
    // `default_external_url` ("http://host:port") is used when the config sets none.
    AlertEngine(const AlertingConfig& config, std::string default_external_url);
    AlertEngine(const AlertEngine&) = delete;
    AlertEngine& operator=(const AlertEngine&) = delete;

    // Loop thread. A reloaded config: rules apply from each zone's next check; receivers whose
    // name and type stay keep what they were told, new ones hear of every firing alert.
    void configure(const AlertingConfig& config);

    // Loop thread. The zone was checked: its conditions under `rules` replace the previous ones.
    // A condition that is gone resolves its alert (a pending one is dropped silently).
    void observe(const ZoneStatus& zone, const AlertRuleSet& rules, Clock::time_point now);

    // Loop thread. A catalog's refresh ended: CatalogUnavailable holds or not. Its alerts carry
    // the label catalog instead of zone, and are kept under catalog_alert_key(name).
    void observe_catalog(const CatalogStatus& catalog, const AlertRuleSet& rules,
                         Clock::time_point now);
    static std::string catalog_alert_key(const std::string& catalog);

    // Loop thread. Zones no longer watched: their alerts resolve. `zones` holds the
    // catalog_alert_key of every catalog still followed too.
    void retain_zones(const std::set<std::string>& zones, Clock::time_point now);

    // Loop thread. Moves pending alerts whose `for` has passed to firing and returns what every
    // receiver must be sent now. Call about once a second: it publishes the snapshot, O(alerts).
    std::vector<AlertNotification> tick(Clock::time_point now);

    // Loop thread. Alerts that started firing or resolved since the last call (for the log).
    std::vector<Alert> take_transitions() { return std::exchange(transitions_, {}); }

    // Loop thread, before the first observe(). Every alert carries the label vantage="NAME"
    // (agent/config/vantage.hpp); "" (the default): no such label. It is part of the alert's
    // identity: two agents at different vantages raise two alerts, which Alertmanager groups
    // into one notification when its route's group_by leaves vantage out (docs/ALERTS.md).
    void set_vantage(std::string vantage) { vantage_ = std::move(vantage); }

    // Loop thread. The external URL to use when the config sets none (known once bound).
    void set_default_external_url(std::string url) { default_external_url_ = std::move(url); }
    std::string external_url() const {
        return config_.external_url.empty() ? default_external_url_ : config_.external_url;
    }

    // Any thread: the current pending and firing alerts.
    AlertsSnapshotPtr snapshot() const;

  private:
    struct GroupState {
        std::set<std::string> sent;  // fingerprints told as firing
        Clock::time_point last_sent{};
    };
    struct ReceiverState {
        std::string name;
        ReceiverType type = ReceiverType::webhook;
        std::map<std::string, GroupState> groups;  // by group key (Alertmanager: one group "")
    };

    void resolve(Alert alert, Clock::time_point now);
    // The conditions that hold for one subject (a zone, a catalog) replace its previous ones.
    void observe_conditions(const std::string& key,
                            const std::pair<std::string, std::string>& subject,
                            std::vector<AlertCondition> conditions, const AlertRuleSet& rules,
                            const std::string& generator_url, Clock::time_point now);
    void notify_groups(std::size_t index, ReceiverState& receiver,
                       const std::vector<const Alert*>& firing, Clock::time_point now,
                       std::vector<AlertNotification>& out);
    void notify_alertmanager(std::size_t index, ReceiverState& receiver,
                             const std::vector<const Alert*>& firing, Clock::time_point now,
                             std::vector<AlertNotification>& out);
    AlertLabels group_labels(const Alert& alert) const;
    std::vector<std::size_t> routed_receivers() const;
    void publish();

    AlertingConfig config_;
    std::string default_external_url_;
    std::string vantage_;
    // zone -> fingerprint -> alert (pending or firing)
    std::map<std::string, std::map<std::string, Alert>> active_;
    std::vector<Alert> resolved_;  // since the last tick
    std::vector<Alert> transitions_;
    std::vector<ReceiverState> receivers_;
    bool changed_ = true;                  // the snapshot is out of date
    bool notify_dirty_ = true;             // an alert fired or resolved since the last tick
    Clock::time_point next_notify_due_{};  // the earliest repeat or resend

    // The snapshot is read by HTTP threads; everything else above belongs to the loop thread.
    mutable Mutex snapshot_mutex_;
    AlertsSnapshotPtr snapshot_ GUARDED_BY(snapshot_mutex_);
};

// "{alertname=\"X\",zone=\"y.\"}": how group keys and logs print a label set.
std::string format_labels(const AlertLabels& labels);

}  // namespace soawatch
