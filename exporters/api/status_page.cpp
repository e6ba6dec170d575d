#include "exporters/api/status_page.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "agent/common/text_util.hpp"

namespace soawatch {

const std::string_view kStatusPageCss = R"css(:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5;
  --bad: #cf222e; --bad-bg: #ffebe9; --unknown: #59636e; --unknown-bg: #eaeef2;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header h1 .product { font-weight: 700; }
.summary { margin: 0; font-size: 15px; }
.summary .count { font-weight: 600; }
.summary .sep { color: var(--muted); margin: 0 6px; }
.generated { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
main { padding: 8px 24px 32px; max-width: 1400px; }
.empty { color: var(--muted); padding: 24px 0; }
section.zone { margin: 16px 0; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
section.zone.critical { border-left: 6px solid var(--bad); }
section.zone.warning { border-left: 6px solid var(--warn); }
section.zone.unknown { border-left: 6px solid var(--unknown); }
section.zone.ok { border-left: 6px solid var(--ok); }
.zone-head { padding: 10px 14px; background: var(--panel); border-bottom: 1px solid var(--line); }
.zone-head h2 { margin: 0; font-size: 16px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.zone-name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.meta { margin: 4px 0 0; color: var(--muted); }
.meta b { color: var(--fg); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.reasons { margin: 6px 0 0; padding-left: 18px; }
.reasons li { margin: 1px 0; }
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; letter-spacing: .02em; white-space: nowrap;
}
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.warning { color: var(--warn); background: var(--warn-bg); }
.badge.critical { color: var(--bad); background: var(--bad-bg); }
.badge.unknown { color: var(--unknown); background: var(--unknown-bg); }
section.alerts { margin: 16px 0; border: 1px solid var(--line); border-left: 6px solid var(--bad); border-radius: 6px; padding: 10px 14px; }
section.alerts h2 { margin: 0 0 6px; font-size: 16px; }
section.alerts ul { margin: 0; padding-left: 0; list-style: none; }
section.alerts li { margin: 4px 0; }
section.alerts .name { font-weight: 600; margin: 0 6px; }
section.alerts .since { color: var(--muted); font-size: 12px; margin-left: 6px; }
.badge.sync { color: var(--ok); background: var(--ok-bg); }
.badge.drift { color: var(--warn); background: var(--warn-bg); }
.badge.down { color: var(--bad); background: var(--bad-bg); }
.tag { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-left: 6px; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
col.c-ns { width: 21%; } col.c-addr { width: 14%; } col.c-serial { width: 10%; }
col.c-state { width: 15%; } col.c-rtt { width: 8%; } col.c-prop { width: 10%; } col.c-err { width: 22%; }
th, td { text-align: left; padding: 6px 14px; border-bottom: 1px solid var(--line); vertical-align: top; }
tbody tr:last-child td { border-bottom: none; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
td.error { color: var(--bad); word-break: break-word; }
.none { color: var(--muted); }
.more { color: var(--muted); margin: 20px 0; }
.noservers { color: var(--muted); margin: 0; padding: 10px 14px; }
.transfer .open { color: var(--bad); }
)css";

namespace {

enum class Urgency { critical = 0, out_of_sync = 1, unknown = 2, ok = 3 };

Urgency urgency(const ZoneStatus& z) {
    if (z.verdict == Verdict::critical) return Urgency::critical;
    if (z.verdict == Verdict::warning || (!z.consistent && z.verdict != Verdict::unknown))
        return Urgency::out_of_sync;
    if (z.verdict == Verdict::unknown) return Urgency::unknown;
    return Urgency::ok;
}

std::string_view verdict_class(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::warning:
            return "warning";
        case Verdict::critical:
            return "critical";
        case Verdict::unknown:
            return "unknown";
    }
    return "unknown";
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

void append_number(std::string& out, unsigned long long n) {
    out += std::to_string(n);
}

// "12s ago", with the absolute UTC time as a tooltip.
void append_ago(std::string& out, Clock::time_point t, Clock::time_point now) {
    out += "<span title=\"";
    out += rfc3339(t);
    out += "\">";
    out += human_duration(seconds_between(t, now));
    out += " ago</span>";
}

void append_state(std::string& out, const NameserverStatus& s) {
    switch (s.state) {
        case ServerState::reference:
            out += "<span class=\"badge sync\">reference</span>";
            return;
        case ServerState::in_sync:
            out += "<span class=\"badge sync\">in sync</span>";
            return;
        case ServerState::behind:
            out += "<span class=\"badge drift\">behind (";
            append_number(out, s.serial_behind);
            out += ") for ";
            out += human_duration(s.lag_seconds);
            out += "</span>";
            return;
        case ServerState::ahead:
            out += "<span class=\"badge drift\">ahead</span>";
            return;
        case ServerState::incomparable:
            out += "<span class=\"badge drift\">incomparable</span>";
            return;
        case ServerState::unusable:
            out += "<span class=\"badge down\">unusable</span>";
            return;
    }
}

void append_server_row(std::string& out, const NameserverStatus& s) {
    out += "<tr><td class=\"mono\">";
    if (s.target.nameserver.empty())
        out += "<span class=\"none\">(by address)</span>";
    else
        append_html_escaped(out, s.target.nameserver);
    if (s.is_primary)
        out += s.in_ns_set ? "<span class=\"tag\">primary</span>"
                           : "<span class=\"tag\">hidden primary</span>";
    out += "</td><td class=\"mono\">";
    append_html_escaped(out, s.target.address);
    if (s.target.port != 53) {
        out += " port ";
        append_number(out, s.target.port);
    }
    out += "</td><td class=\"mono num\">";
    if (s.state != ServerState::unusable && s.soa)
        append_number(out, s.soa->serial);
    else
        out += "<span class=\"none\">&mdash;</span>";
    out += "</td><td>";
    append_state(out, s);
    out += "</td><td class=\"num\">";
    if (s.answered) {
        char rtt[32];
        std::snprintf(rtt, sizeof rtt, "%.1f ms", s.rtt.count() * 1000);
        out += rtt;
    } else {
        out += "<span class=\"none\">&mdash;</span>";
    }
    out += "</td><td class=\"num\">";
    if (s.last_propagation_seconds)
        out += human_duration(*s.last_propagation_seconds);
    else
        out += "<span class=\"none\">&mdash;</span>";
    out += "</td><td class=\"error\">";
    if (s.error != ProbeError::none) {
        append_html_escaped(out, probe_error_name(s.error));
        if (!s.error_detail.empty()) {
            out += ": ";
            append_html_escaped(out, s.error_detail);
        }
        if (s.consecutive_failures > 1) {
            out += " (";
            append_number(out, s.consecutive_failures);
            out += " checks in a row)";
        }
    }
    out += "</td></tr>\n";
}

// One line about the zone's last transfer audit (transfer_check): how many addresses refused the
// unsigned AXFR, which were open or failed, and the keyed IXFR of the primary.
void append_transfer_line(std::string& out, const ZoneStatus& z, Clock::time_point now) {
    if (!z.transfer) return;
    const TransferAudit& t = *z.transfer;
    std::size_t refused = 0;
    for (const auto& obs : t.axfr) refused += obs.result == TransferResult::refused;
    out += "<p class=\"meta transfer\">transfer audit ";
    append_ago(out, t.at, now);
    out += ": AXFR refused by ";
    append_number(out, refused);
    out += " of ";
    append_number(out, t.axfr.size());
    for (const auto& obs : t.axfr) {
        if (obs.result == TransferResult::refused) continue;
        out += obs.result == TransferResult::open ? " &middot; <b class=\"open\">open at "
                                                  : " &middot; <b>";
        if (obs.result != TransferResult::open) {
            append_html_escaped(out, transfer_result_name(obs.result));
            out += " at ";
        }
        append_html_escaped(out, nameserver_label(obs.target));
        if (!obs.target.nameserver.empty()) {
            out += " (";
            append_html_escaped(out, obs.target.address);
            out += ")";
        }
        out += "</b>";
    }
    if (t.signed_ixfr) {
        out += " &middot; signed IXFR of the primary: <b";
        if (t.signed_ixfr->result != TransferResult::ok) out += " class=\"open\"";
        out += ">";
        append_html_escaped(out, transfer_result_name(t.signed_ixfr->result));
        out += "</b>";
    }
    out += "</p>\n";
}

void append_zone_section(std::string& out, const ZoneStatus& z, Clock::time_point now) {
    const std::string_view cls = verdict_class(z.verdict);
    out += "<section class=\"zone ";
    out += cls;
    out += "\">\n<div class=\"zone-head\"><h2><span class=\"badge ";
    out += cls;
    out += "\">";
    out += verdict_name(z.verdict);
    out += "</span><span class=\"zone-name\">";
    append_html_escaped(out, z.zone);
    out += "</span>";
    if (!z.consistent && z.reference_serial)
        out += "<span class=\"badge warning\">out of sync</span>";
    out += "</h2>\n<p class=\"meta\">reference serial ";
    if (z.reference_serial) {
        out += "<b>";
        append_number(out, *z.reference_serial);
        out += "</b> (";
        out += z.reference_from_primary ? "from the primary" : "newest seen";
        out += ")";
    } else {
        out += "<b>unknown</b>";
    }
    if (z.last_serial_change) {
        out += " &middot; changed ";
        append_ago(out, *z.last_serial_change, now);
    }
    if (z.last_check) {
        out += " &middot; checked ";
        append_ago(out, *z.last_check, now);
    }
    out += "</p>\n";
    append_transfer_line(out, z, now);
    if (!z.reasons.empty() || !z.discovery_error.empty() || !z.unresolved_nameservers.empty()) {
        out += "<ul class=\"reasons\">";
        for (const std::string& reason : z.reasons) {
            out += "<li>";
            append_html_escaped(out, reason);
            out += "</li>";
        }
        if (!z.discovery_error.empty()) {
            out += "<li>discovery failed";
            if (z.discovery_from_cache) out += " (using the last good answer)";
            out += ": ";
            append_html_escaped(out, z.discovery_error);
            out += "</li>";
        }
        for (const std::string& ns : z.unresolved_nameservers) {
            out += "<li>no address for ";
            append_html_escaped(out, ns);
            out += "</li>";
        }
        out += "</ul>\n";
    }
    out += "</div>\n";
    if (z.servers.empty()) {
        out += "<p class=\"noservers\">No nameserver addresses.</p>\n</section>\n";
        return;
    }
    out +=
        "<table><colgroup><col class=\"c-ns\"><col class=\"c-addr\"><col class=\"c-serial\">"
        "<col class=\"c-state\"><col class=\"c-rtt\"><col class=\"c-prop\"><col class=\"c-err\">"
        "</colgroup><thead><tr><th>Nameserver</th><th>Address</th><th class=\"num\">Serial</th>"
        "<th>State</th><th class=\"num\">RTT</th><th class=\"num\" title=\"How long the last new "
        "serial took to arrive\">Propagation</th>"
        "<th>Error</th></tr></thead>\n<tbody>\n";
    for (const NameserverStatus& s : z.servers) append_server_row(out, s);
    out += "</tbody></table>\n</section>\n";
}

// The firing built-in alerts, most severe first, each with its summary and how long it fires.
void append_alerts_section(std::string& out, const AlertsSnapshot& alerts, Clock::time_point now,
                           std::size_t max_alerts) {
    std::vector<const Alert*> firing;
    std::size_t pending = 0;
    for (const Alert& a : alerts.alerts) {
        if (a.state == AlertState::firing) {
            firing.push_back(&a);
        } else {
            ++pending;
        }
    }
    if (firing.empty() && pending == 0) return;
    std::stable_sort(firing.begin(), firing.end(), [](const Alert* a, const Alert* b) {
        return (a->label("severity") == "critical") > (b->label("severity") == "critical");
    });
    out += "<section class=\"alerts\">\n<h2>";
    append_number(out, firing.size());
    out += firing.size() == 1 ? " alert firing" : " alerts firing";
    if (pending > 0) {
        out += "<span class=\"since\">";
        append_number(out, pending);
        out += " pending</span>";
    }
    out += "</h2>\n<ul>\n";
    const std::size_t shown = std::min(firing.size(), max_alerts);
    for (std::size_t i = 0; i < shown; ++i) {
        const Alert& a = *firing[i];
        const std::string& severity = a.label("severity");
        out += "<li><span class=\"badge ";
        out += severity == "critical" ? "critical" : "warning";
        out += "\">";
        append_html_escaped(out, severity);
        out += "</span><span class=\"name\">";
        append_html_escaped(out, a.label("alertname"));
        out += "</span>";
        append_html_escaped(out, a.summary);
        if (a.firing_since) {
            out += "<span class=\"since\">firing for ";
            out += human_duration(seconds_between(*a.firing_since, now));
            out += "</span>";
        }
        out += "</li>\n";
    }
    if (shown < firing.size()) {
        out += "<li>";
        append_number(out, firing.size() - shown);
        out += " more at <a href=\"/api/v1/alerts\">/api/v1/alerts</a></li>\n";
    }
    out += "</ul>\n</section>\n";
}

}  // namespace

std::string render_status_page(const Snapshot& snapshot, const AlertsSnapshot* alerts,
                               const StatusPageOptions& options) {
    std::vector<const ZoneStatus*> zones;
    zones.reserve(snapshot.zones.size());
    for (const ZoneStatusPtr& z : snapshot.zones)
        if (z) zones.push_back(z.get());
    std::stable_sort(zones.begin(), zones.end(), [](const ZoneStatus* a, const ZoneStatus* b) {
        return urgency(*a) < urgency(*b);
    });

    std::size_t critical = 0, out_of_sync = 0, unknown = 0;
    for (const ZoneStatus* z : zones) {
        if (z->verdict == Verdict::critical) ++critical;
        if (z->verdict == Verdict::unknown) ++unknown;
        if (!z->consistent && z->reference_serial) ++out_of_sync;
    }

    std::string out;
    out.reserve(4096 + std::min(zones.size(), options.max_zone_sections) * 2048);
    out +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"refresh\" content=\"15\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    if (critical > 0) out += "CRITICAL \xE2\x80\x94 ";  // em dash
    out += "soawatch</title>\n<link rel=\"stylesheet\" href=\"";
    out += kStatusPageCssPath;
    out += "\">\n</head>\n<body>\n<header>\n<h1><span class=\"product\">soawatch</span></h1>\n";

    out += "<p class=\"summary\"><span class=\"count\">";
    append_number(out, zones.size());
    out += zones.size() == 1 ? "</span> zone" : "</span> zones";
    out += "<span class=\"sep\">&middot;</span><span class=\"count\">";
    append_number(out, out_of_sync);
    out += "</span> out of sync<span class=\"sep\">&middot;</span>";
    out += critical > 0 ? "<span class=\"badge critical\">" : "<span class=\"count\">";
    append_number(out, critical);
    out += " critical</span>";
    if (unknown > 0) {
        out += "<span class=\"sep\">&middot;</span><span class=\"count\">";
        append_number(out, unknown);
        out += "</span> unknown";
    }
    if (!snapshot.stats.first_round_done)
        out += "<span class=\"sep\">&middot;</span>first round in progress";
    out += "</p>\n<p class=\"generated\">generated ";
    out += rfc3339(snapshot.taken);
    out +=
        " &middot; refreshes every 15 s &middot; <a href=\"/api/v1/zones\">JSON</a> &middot; "
        "<a href=\"/metrics\">metrics</a> &middot; <a href=\"/api/v1/alerts\">alerts</a></p>\n"
        "</header>\n<main>\n";

    if (alerts) append_alerts_section(out, *alerts, snapshot.taken, options.max_alerts);
    if (zones.empty()) out += "<p class=\"empty\">No zones are being watched yet.</p>\n";
    const std::size_t shown = std::min(zones.size(), options.max_zone_sections);
    for (std::size_t i = 0; i < shown; ++i) append_zone_section(out, *zones[i], snapshot.taken);
    if (shown < zones.size()) {
        const bool rest_ok =
            std::all_of(zones.begin() + static_cast<std::ptrdiff_t>(shown), zones.end(),
                        [](const ZoneStatus* z) { return urgency(*z) == Urgency::ok; });
        out += "<p class=\"more\">";
        append_number(out, zones.size() - shown);
        out += rest_ok ? " more zones, all OK, not shown." : " more zones not shown.";
        out += " The full list is at <a href=\"/api/v1/zones\">/api/v1/zones</a>.</p>\n";
    }
    out += "</main>\n</body>\n</html>\n";
    return out;
}

}  // namespace soawatch
