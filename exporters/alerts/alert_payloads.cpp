#include "exporters/alerts/alert_payloads.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/common/text_util.hpp"
#include "exporters/api/api_json.hpp"

namespace soawatch {

namespace {

using nlohmann::json;

// Go's zero time, which Alertmanager writes for "no end yet".
constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

const char* status_of(const Alert& a) {
    return a.state == AlertState::resolved ? "resolved" : "firing";
}

std::string starts_at(const Alert& a) {
    return rfc3339(a.firing_since.value_or(a.active_since));
}

// Labels every alert of the notification shares (Alertmanager's commonLabels).
AlertLabels common_labels(const std::vector<Alert>& alerts) {
    if (alerts.empty()) return {};
    AlertLabels common = alerts.front().labels;
    for (const Alert& a : alerts) {
        std::erase_if(common,
                      [&a](const auto& label) { return a.label(label.first) != label.second; });
    }
    return common;
}

// Slack mrkdwn needs only & < > escaped (api.slack.com/reference/surfaces/formatting).
std::string slack_escape(std::string_view text) {
    std::string out;
    append_markup_escaped(out, text, false);
    return out;
}

// Cuts to at most `max` bytes without splitting a UTF-8 sequence, marking the cut.
std::string clip(std::string text, std::size_t max) {
    if (text.size() <= max) return text;
    std::size_t end = max - 3;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    return text + "...";
}

const char* slack_colour(const AlertNotification& n) {
    if (!n.firing) return "#2eb886";  // green: all resolved
    for (const Alert& a : n.alerts)
        if (a.state == AlertState::firing && a.label("severity") == "critical") return "#d00000";
    return "#e8a200";  // amber: warnings
}

std::string group_title(const AlertNotification& n) {
    std::string title;
    for (const auto& [name, value] : n.group_labels) {
        if (value.empty()) continue;
        if (!title.empty()) title += " ";
        title += value;
    }
    return title.empty() ? "soawatch" : title;
}

}  // namespace

std::string webhook_payload(const AlertNotification& n, const PayloadContext& ctx) {
    json alerts = json::array();
    const std::size_t shown = std::min(n.alerts.size(), kMaxAlertsPerNotification);
    for (std::size_t i = 0; i < shown; ++i) {
        const Alert& a = n.alerts[i];
        alerts.push_back(json{
            {"status", status_of(a)},
            {"labels", labels_json(a.labels)},
            {"annotations", annotations_json(a)},
            {"startsAt", starts_at(a)},
            {"endsAt", a.resolved_at ? rfc3339(*a.resolved_at) : kZeroTime},
            {"generatorURL", a.generator_url},
            {"fingerprint", a.fingerprint},
        });
    }
    // commonAnnotations: those every alert shares (rarely any: descriptions name servers).
    json common_annotations = json::object();
    if (!n.alerts.empty()) {
        const Alert& first = n.alerts.front();
        const auto all_share = [&n](auto field) {
            return std::all_of(n.alerts.begin(), n.alerts.end(),
                               [&](const Alert& a) { return field(a) == field(n.alerts.front()); });
        };
        if (all_share([](const Alert& a) { return a.summary; }))
            common_annotations["summary"] = first.summary;
        if (all_share([](const Alert& a) { return a.description; }))
            common_annotations["description"] = first.description;
    }
    const json body{
        {"version", "4"},
        {"groupKey", n.group_key},
        {"truncatedAlerts", n.alerts.size() - shown},
        {"status", n.firing ? "firing" : "resolved"},
        {"receiver", ctx.receiver},
        {"groupLabels", labels_json(n.group_labels)},
        {"commonLabels", labels_json(common_labels(n.alerts))},
        {"commonAnnotations", std::move(common_annotations)},
        {"externalURL", ctx.external_url},
        {"alerts", std::move(alerts)},
    };
    return dump_json(body);
}

std::string slack_payload(const AlertNotification& n, const PayloadContext& ctx) {
    std::size_t firing = 0;
    for (const Alert& a : n.alerts) firing += a.state == AlertState::firing;
    const std::string status = n.firing ? "FIRING:" + std::to_string(firing) : "RESOLVED";
    const std::string title = "[" + status + "] " + group_title(n);

    json blocks = json::array();
    // header: plain_text, at most 150 characters.
    blocks.push_back(
        json{{"type", "header"},
             {"text", json{{"type", "plain_text"}, {"text", clip(title, 150)}, {"emoji", true}}}});
    json details = json::array();
    const std::size_t shown = std::min(n.alerts.size(), kMaxSlackAlerts);
    for (std::size_t i = 0; i < shown; ++i) {
        const Alert& a = n.alerts[i];
        std::string text = std::string(a.state == AlertState::resolved     ? ":white_check_mark: "
                                       : a.label("severity") == "critical" ? ":red_circle: "
                                                                           : ":warning: ") +
                           "*" + slack_escape(a.label("alertname")) + "* " +
                           slack_escape(a.summary) + "\n" + slack_escape(a.description);
        if (a.state == AlertState::resolved && a.resolved_at)
            text += "\n_resolved at " + rfc3339(*a.resolved_at) + "_";
        else if (a.firing_since)
            text += "\n_firing since " + rfc3339(*a.firing_since) + "_";
        // section text: mrkdwn, at most 3000 characters.
        details.push_back(json{{"type", "section"},
                               {"text", json{{"type", "mrkdwn"}, {"text", clip(text, 3000)}}}});
    }
    if (n.alerts.size() > shown) {
        details.push_back(
            json{{"type", "context"},
                 {"elements",
                  json::array({json{{"type", "mrkdwn"},
                                    {"text", "and " + std::to_string(n.alerts.size() - shown) +
                                                 " more alerts: see the status page"}}})}});
    }
    details.push_back(json{
        {"type", "context"},
        {"elements", json::array({json{{"type", "mrkdwn"},
                                       {"text", "soawatch · <" + slack_escape(ctx.external_url) +
                                                    "/|status page> · receiver " +
                                                    slack_escape(ctx.receiver)}}})}});
    const json body{
        {"text", clip(title, 3000)},
        {"blocks", std::move(blocks)},
        {"attachments", json::array({json{{"color", slack_colour(n)},
                                          {"fallback", clip(title, 3000)},
                                          {"blocks", std::move(details)}}})},
    };
    return dump_json(body);
}

std::string alertmanager_payload(const AlertNotification& n, const PayloadContext& ctx) {
    // A firing alert ends by itself 4 resend intervals from now unless re-posted, so alerts of
    // an agent that died resolve in Alertmanager (Prometheus does the same).
    const auto ends_if_not_resent =
        ctx.now + 4 * std::chrono::duration_cast<Clock::duration>(ctx.resend_interval);
    json alerts = json::array();
    for (const Alert& a : n.alerts) {
        alerts.push_back(json{
            {"labels", labels_json(a.labels)},
            {"annotations", annotations_json(a)},
            {"startsAt", starts_at(a)},
            {"endsAt", rfc3339(a.resolved_at.value_or(ends_if_not_resent))},
            {"generatorURL", a.generator_url},
        });
    }
    return dump_json(alerts);
}

}  // namespace soawatch
