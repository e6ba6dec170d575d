#include "agent/alerting/alert_engine.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <tuple>

namespace soawatch {

namespace {

// FNV-1a 64 over "name\xffvalue\xff..." of the sorted labels: the same labels always give the
// same fingerprint, across restarts and replicas (Alertmanager deduplicates on labels too).
std::string fingerprint_of(const AlertLabels& labels) {
    uint64_t h = 0xcbf29ce484222325ull;
    const auto mix = [&h](std::string_view text) {
        for (const char c : text) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ull;
        }
        h ^= 0xff;
        h *= 0x100000001b3ull;
    };
    for (const auto& [name, value] : labels) {
        mix(name);
        mix(value);
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

// Characters a URL fragment may hold as they are (RFC 3986 3.5); the rest percent-encoded.
std::string url_fragment(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) ||
            std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos) {
            out += c;
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    return out;
}

Clock::time_point fires_at(const Alert& a) {
    return a.active_since + std::chrono::duration_cast<Clock::duration>(a.for_duration);
}

}  // namespace

std::string_view alert_state_name(AlertState state) {
    // In enum order; the names of Alertmanager's webhook `status` and of /api/v1/alerts.
    static constexpr std::array<std::string_view, 3> kNames{"pending", "firing", "resolved"};
    static_assert(static_cast<std::size_t>(AlertState::resolved) + 1 == kNames.size(),
                  "the table covers the enum");
    const auto i = static_cast<std::size_t>(state);
    return i < kNames.size() ? kNames[i] : "pending";
}

const std::string& Alert::label(std::string_view name) const {
    static const std::string kEmpty;
    for (const auto& [n, v] : labels)
        if (n == name) return v;
    return kEmpty;
}

std::string format_labels(const AlertLabels& labels) {
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"";
        for (const char c : labels[i].second) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

AlertEngine::AlertEngine(const AlertingConfig& config, std::string default_external_url)
    : default_external_url_(std::move(default_external_url)) {
    configure(config);
    publish();
}

void AlertEngine::configure(const AlertingConfig& config) {
    std::vector<ReceiverState> next;
    for (const auto& r : config.receivers) {
        ReceiverState state;
        state.name = r.name;
        state.type = r.type;
        for (auto& old : receivers_) {
            if (old.name == r.name && old.type == r.type) {
                state.groups = std::move(old.groups);
                break;
            }
        }
        next.push_back(std::move(state));
    }
    receivers_ = std::move(next);
    config_ = config;
    changed_ = true;
    notify_dirty_ = true;
}

void AlertEngine::observe(const ZoneStatus& zone, const AlertRuleSet& rules,
                          Clock::time_point now) {
    std::vector<AlertCondition> conditions = evaluate_alert_rules(zone, rules, now);
    // A healthy zone that had no alerts changes nothing: leaving changed_ alone keeps tick()
    // from republishing an identical snapshot every second when most zones are fine.
    if (conditions.empty() && !active_.count(zone.zone)) return;
    // Every alert of the zone links to the same place.
    observe_conditions(zone.zone, {"zone", zone.zone}, std::move(conditions), rules,
                       external_url() + "/#zone=" + url_fragment(zone.zone), now);
}

void AlertEngine::observe_catalog(const CatalogStatus& catalog, const AlertRuleSet& rules,
                                  Clock::time_point now) {
    const std::string key = catalog_alert_key(catalog.catalog);
    std::vector<AlertCondition> conditions = evaluate_catalog_rules(catalog, rules);
    if (conditions.empty() && !active_.count(key)) return;
    observe_conditions(key, {"catalog", catalog.catalog}, std::move(conditions), rules,
                       external_url() + "/api/v1/catalogs", now);
}

std::string AlertEngine::catalog_alert_key(const std::string& catalog) {
    // A space never appears in a canonical zone name (it is escaped), so no zone has this key.
    return "catalog " + catalog;
}

void AlertEngine::observe_conditions(const std::string& key,
                                     const std::pair<std::string, std::string>& subject,
                                     std::vector<AlertCondition> conditions,
                                     const AlertRuleSet& rules, const std::string& generator_url,
                                     Clock::time_point now) {
    std::map<std::string, Alert> next;
    for (AlertCondition& c : conditions) {
        Alert a;
        a.rule = c.rule;
        const AlertRuleSettings& settings = rules[c.rule];
        a.labels.emplace_back("alertname", std::string(alert_rule_name(c.rule)));
        if (!c.address.empty()) a.labels.emplace_back("address", c.address);
        if (!c.nameserver.empty()) a.labels.emplace_back("nameserver", c.nameserver);
        if (!c.nsid.empty()) a.labels.emplace_back("nsid", c.nsid);
        a.labels.emplace_back("severity", settings.severity);
        a.labels.push_back(subject);
        if (!vantage_.empty()) a.labels.emplace_back("vantage", vantage_);
        std::sort(a.labels.begin(), a.labels.end());
        a.fingerprint = fingerprint_of(a.labels);
        a.summary = std::move(c.summary);
        a.description = std::move(c.description);
        a.generator_url = generator_url;
        a.for_duration = settings.for_duration;
        a.active_since = now;
        next.emplace(a.fingerprint, std::move(a));
    }

    auto& current = active_[key];
    for (auto& [fp, alert] : current) {
        auto it = next.find(fp);
        if (it == next.end()) {
            resolve(std::move(alert), now);
            continue;
        }
        // Still holding: keep its history, take the fresh words and settings.
        it->second.active_since = alert.active_since;
        it->second.state = alert.state;
        it->second.firing_since = alert.firing_since;
    }
    current = std::move(next);
    if (current.empty()) active_.erase(key);
    changed_ = true;
}

void AlertEngine::retain_zones(const std::set<std::string>& zones, Clock::time_point now) {
    for (auto it = active_.begin(); it != active_.end();) {
        if (zones.count(it->first)) {
            ++it;
            continue;
        }
        for (auto& [fp, alert] : it->second) resolve(std::move(alert), now);
        it = active_.erase(it);
        changed_ = true;
    }
}

void AlertEngine::resolve(Alert alert, Clock::time_point now) {
    // A pending alert never fired: nobody heard of it, nobody hears of its end.
    if (alert.state != AlertState::firing) return;
    alert.state = AlertState::resolved;
    alert.resolved_at = now;
    notify_dirty_ = true;
    transitions_.push_back(alert);
    resolved_.push_back(std::move(alert));
}

std::vector<AlertNotification> AlertEngine::tick(Clock::time_point now) {
    std::vector<const Alert*> firing;
    for (auto& [zone, alerts] : active_) {
        for (auto& [fp, a] : alerts) {
            if (a.state == AlertState::pending && fires_at(a) <= now) {
                a.state = AlertState::firing;
                a.firing_since = fires_at(a);
                transitions_.push_back(a);
                changed_ = true;
                notify_dirty_ = true;
            }
            if (a.state == AlertState::firing) firing.push_back(&a);
        }
    }
    std::vector<AlertNotification> out;
    // Nothing started or stopped firing and no repeat is due: nobody is told anything, so the
    // grouping (O(firing alerts) per receiver) is skipped.
    if (!notify_dirty_ && now < next_notify_due_) {
        if (changed_) publish();
        return out;
    }
    notify_dirty_ = false;
    next_notify_due_ = Clock::time_point::max();
    for (const std::size_t index : routed_receivers()) {
        ReceiverState& receiver = receivers_[index];
        if (receiver.type == ReceiverType::alertmanager) {
            notify_alertmanager(index, receiver, firing, now, out);
        } else {
            notify_groups(index, receiver, firing, now, out);
        }
    }
    resolved_.clear();
    const std::string base = external_url();
    for (auto& n : out) n.external_url = base;
    if (changed_) publish();
    return out;
}

std::vector<std::size_t> AlertEngine::routed_receivers() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < receivers_.size(); ++i) {
        const auto& names = config_.route_receivers;
        if (names.empty() ||
            std::find(names.begin(), names.end(), receivers_[i].name) != names.end())
            out.push_back(i);
    }
    return out;
}

AlertLabels AlertEngine::group_labels(const Alert& alert) const {
    if (config_.group_by.size() == 1 && config_.group_by.front() == "...") return alert.labels;
    AlertLabels out;
    for (const auto& name : config_.group_by) out.emplace_back(name, alert.label(name));
    std::sort(out.begin(), out.end());
    return out;
}

void AlertEngine::notify_groups(std::size_t index, ReceiverState& receiver,
                                const std::vector<const Alert*>& firing, Clock::time_point now,
                                std::vector<AlertNotification>& out) {
    const ReceiverConfig& rc = config_.receivers[index];
    struct Group {
        AlertLabels labels;
        std::vector<const Alert*> firing;
        std::vector<const Alert*> resolved;
    };
    std::map<std::string, Group> groups;
    for (const Alert* a : firing) {
        AlertLabels labels = group_labels(*a);
        auto& g = groups[format_labels(labels)];
        g.labels = std::move(labels);
        g.firing.push_back(a);
    }
    for (const Alert& a : resolved_) {
        AlertLabels labels = group_labels(a);
        const std::string key = format_labels(labels);
        auto state = receiver.groups.find(key);
        if (state == receiver.groups.end() || !state->second.sent.count(a.fingerprint)) continue;
        auto& g = groups[key];
        g.labels = std::move(labels);
        g.resolved.push_back(&a);
    }
    const auto repeat = std::chrono::duration_cast<Clock::duration>(config_.repeat_interval);
    for (auto& [key, g] : groups) {
        GroupState& state = receiver.groups[key];
        bool news = false;
        for (const Alert* a : g.firing) news = news || !state.sent.count(a->fingerprint);
        const bool tell_resolved = !g.resolved.empty() && rc.send_resolved;
        const bool repeat_due = !g.firing.empty() && now - state.last_sent >= repeat;
        if (news || tell_resolved || repeat_due) {
            AlertNotification n;
            n.receiver = index;
            n.group_key = key;
            n.group_labels = g.labels;
            n.firing = !g.firing.empty();
            for (const Alert* a : g.firing) n.alerts.push_back(*a);
            if (rc.send_resolved)
                for (const Alert* a : g.resolved) n.alerts.push_back(*a);
            out.push_back(std::move(n));
            state.last_sent = now;
        }
        state.sent.clear();
        for (const Alert* a : g.firing) state.sent.insert(a->fingerprint);
        if (!g.firing.empty())
            next_notify_due_ = std::min(next_notify_due_, state.last_sent + repeat);
    }
    // Groups with nothing firing any more are forgotten (their end was told above).
    for (auto it = receiver.groups.begin(); it != receiver.groups.end();) {
        const auto g = groups.find(it->first);
        if (g == groups.end() || g->second.firing.empty()) {
            it = receiver.groups.erase(it);
        } else {
            ++it;
        }
    }
}

void AlertEngine::notify_alertmanager(std::size_t index, ReceiverState& receiver,
                                      const std::vector<const Alert*>& firing,
                                      Clock::time_point now, std::vector<AlertNotification>& out) {
    GroupState& state = receiver.groups[""];
    const auto resend = std::chrono::duration_cast<Clock::duration>(config_.resend_interval);
    const bool resend_due = !firing.empty() && now - state.last_sent >= resend;
    AlertNotification n;
    n.receiver = index;
    for (const Alert* a : firing)
        if (resend_due || !state.sent.count(a->fingerprint)) n.alerts.push_back(*a);
    const std::size_t firing_count = n.alerts.size();
    // Alertmanager always hears of the end: without it, an alert would hang on until endsAt.
    for (const Alert& a : resolved_)
        if (state.sent.count(a.fingerprint)) n.alerts.push_back(a);
    n.firing = firing_count > 0;
    if (!n.alerts.empty()) {
        if (resend_due) state.last_sent = now;
        out.push_back(std::move(n));
    }
    state.sent.clear();
    for (const Alert* a : firing) state.sent.insert(a->fingerprint);
    if (!firing.empty()) next_notify_due_ = std::min(next_notify_due_, state.last_sent + resend);
}

void AlertEngine::publish() {
    auto snap = std::make_shared<AlertsSnapshot>();
    for (const auto& [zone, alerts] : active_) {
        for (const auto& [fp, a] : alerts) {
            snap->alerts.push_back(a);
            const auto rule = static_cast<std::size_t>(a.rule);
            if (a.state == AlertState::firing) {
                ++snap->firing_by_rule[rule];
            } else {
                ++snap->pending_by_rule[rule];
            }
        }
    }
    std::stable_sort(snap->alerts.begin(), snap->alerts.end(), [](const Alert& a, const Alert& b) {
        return std::tie(a.label("zone"), a.label("alertname"), a.fingerprint) <
               std::tie(b.label("zone"), b.label("alertname"), b.fingerprint);
    });
    MutexLock lock(snapshot_mutex_);
    snapshot_ = std::move(snap);
    changed_ = false;
}

AlertsSnapshotPtr AlertEngine::snapshot() const {
    MutexLock lock(snapshot_mutex_);
    return snapshot_;
}

}  // namespace soawatch
