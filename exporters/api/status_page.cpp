#include "exporters/api/status_page.hpp"

#include <algorithm>
#include <vector>

#include "agent/common/text_util.hpp"
#include "exporters/api/status_page_zone.hpp"
#include "exporters/api/zone_selection.hpp"

namespace soawatch {

namespace {

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

std::size_t count_of(const ZoneSelection::Counts& counts, StateFilter state) {
    return counts[static_cast<std::size_t>(state)];
}

// href="?state=..." for the same page with another query; HTML-escaped (the '&' between keys).
void append_href(std::string& out, const PageQuery& query) {
    out += "href=\"";
    append_html_escaped(out, page_query_string(query));
    out += "\"";
}

PageQuery with_state(PageQuery query, StateFilter state) {
    query.state = state;
    query.page = 1;
    return query;
}

PageQuery on_page(PageQuery query, std::size_t page) {
    query.page = page;
    return query;
}

std::size_t firing_alerts(const AlertsSnapshot* alerts) {
    if (alerts == nullptr) return 0;
    return static_cast<std::size_t>(
        std::count_if(alerts->alerts.begin(), alerts->alerts.end(),
                      [](const Alert& a) { return a.state == AlertState::firing; }));
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
    // Only pending: nothing needs a person yet, so no red.
    out += firing.empty() ? "<section class=\"alerts quiet\" id=\"alerts\">\n<h2>"
                          : "<section class=\"alerts\" id=\"alerts\">\n<h2>";
    append_count(out, firing.size());
    out += firing.size() == 1 ? " alert firing" : " alerts firing";
    if (pending > 0) {
        out += "<span class=\"since\">";
        append_count(out, pending);
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
        append_count(out, firing.size() - shown);
        out += " more at <a href=\"/api/v1/alerts\">/api/v1/alerts</a></li>\n";
    }
    out += "</ul>\n</section>\n";
}

// The header's one line: every zone of the agent, whatever the filter; each count links to the
// list of those zones.
void append_summary(std::string& out, const Snapshot& snapshot, const ZoneSelection& selection,
                    std::size_t firing, bool with_alerts) {
    const ZoneSelection::Counts& all = selection.all;
    const std::size_t zones = count_of(all, StateFilter::all);
    out += "<p class=\"summary\"><a ";
    append_href(out, PageQuery{});
    out += "><span class=\"count\">";
    append_count(out, zones);
    out += zones == 1 ? "</span> zone</a>" : "</span> zones</a>";
    out += "<span class=\"sep\">&middot;</span><a ";
    append_href(out, with_state({}, StateFilter::out_of_sync));
    out += "><span class=\"count\">";
    append_count(out, count_of(all, StateFilter::out_of_sync));
    out += "</span> out of sync</a><span class=\"sep\">&middot;</span><a ";
    append_href(out, with_state({}, StateFilter::critical));
    const std::size_t critical = count_of(all, StateFilter::critical);
    out += critical > 0 ? "><span class=\"badge critical\">" : "><span class=\"count\">";
    append_count(out, critical);
    out += " critical</span></a>";
    const std::size_t warning = count_of(all, StateFilter::warning);
    if (warning > 0) {
        out += "<span class=\"sep\">&middot;</span><a ";
        append_href(out, with_state({}, StateFilter::warning));
        out += "><span class=\"count\">";
        append_count(out, warning);
        out += "</span> warning</a>";
    }
    const std::size_t unknown = count_of(all, StateFilter::unknown);
    if (unknown > 0) {
        out += "<span class=\"sep\">&middot;</span><a ";
        append_href(out, with_state({}, StateFilter::unknown));
        out += "><span class=\"count\">";
        append_count(out, unknown);
        out += "</span> unknown</a>";
    }
    if (with_alerts && firing > 0) {
        out += "<span class=\"sep\">&middot;</span><a href=\"#alerts\"><span class=\"count\">";
        append_count(out, firing);
        out += firing == 1 ? "</span> alert firing</a>" : "</span> alerts firing</a>";
    }
    if (!snapshot.stats.first_round_done)
        out += "<span class=\"sep\">&middot;</span>first round in progress";
    out += "</p>\n";
}

// The GET form (works without JavaScript) and one link per state with its count among the
// zones whose name matches.
void append_filter(std::string& out, const PageQuery& query, const ZoneSelection& selection) {
    out +=
        "<form class=\"filter\" method=\"get\" role=\"search\">"
        "<label>Zone <input type=\"search\" name=\"q\" placeholder=\"name contains\" "
        "autocomplete=\"off\" spellcheck=\"false\" value=\"";
    append_html_escaped(out, query.name);
    out += "\"></label> <label>State <select name=\"state\">";
    for (const StateFilterName& row : kStateFilterNames) {
        out += "<option value=\"";
        out += row.param;
        out += row.filter == query.state ? "\" selected>" : "\">";
        out += row.label;
        out += " (";
        append_count(out, count_of(selection.named, row.filter));
        out += ")</option>";
    }
    out += "</select></label> <label>Per page <select name=\"per\">";
    bool listed = false;
    for (const std::size_t per : {std::size_t{20}, PageQuery::kDefaultPerPage, std::size_t{100},
                                  std::size_t{200}, PageQuery::kMaxPerPage}) {
        if (!listed && query.per_page < per) {  // a value from the URL that is not offered
            out += "<option selected>";
            append_count(out, query.per_page);
            out += "</option>";
            listed = true;
        }
        out += "<option";
        if (per == query.per_page) {
            out += " selected";
            listed = true;
        }
        out += ">";
        out += std::to_string(per);
        out += "</option>";
    }
    out += "</select></label> <button type=\"submit\">Filter</button>";
    if (query != PageQuery{}) {
        out += " <a class=\"clear\" ";
        append_href(out, PageQuery{});
        out += ">clear</a>";
    }
    out += "</form>\n<nav class=\"states\" aria-label=\"zones by state\">";
    for (const StateFilterName& row : kStateFilterNames) {
        out += "<a ";
        append_href(out, with_state(query, row.filter));
        if (row.filter == query.state) out += " class=\"current\" aria-current=\"page\"";
        out += ">";
        out += row.label;
        out += " <span class=\"n\">";
        append_count(out, count_of(selection.named, row.filter));
        out += "</span></a>";
    }
    out += "</nav>\n";
}

// "Zones 51–100 of 10,000 · « first ‹ previous page 2 of 200 next › last »"
void append_pager(std::string& out, const PageQuery& query, const ZoneSelection& selection) {
    out += "<nav class=\"pager\" aria-label=\"pages\"><span class=\"range\">";
    if (selection.zones.empty()) {
        out += "No zones";
    } else {
        out += "Zones ";
        append_count(out, selection.first + 1);
        out += "&ndash;";
        append_count(out, selection.first + selection.zones.size());
        out += " of ";
        append_count(out, selection.matching);
    }
    out += "</span>";
    if (selection.pages > 1) {
        const auto link = [&](std::size_t page, std::string_view rel, std::string_view text,
                              bool enabled) {
            if (!enabled) {
                out += "<span class=\"off\">";
                out += text;
                out += "</span>";
                return;
            }
            out += "<a ";
            append_href(out, on_page(query, page));
            if (!rel.empty()) {
                out += " rel=\"";
                out += rel;
                out += "\"";
            }
            out += ">";
            out += text;
            out += "</a>";
        };
        link(1, "", "&laquo; first", selection.page > 1);
        link(selection.page - 1, "prev", "&lsaquo; previous", selection.page > 1);
        out += "<span class=\"at\">page ";
        append_count(out, selection.page);
        out += " of ";
        append_count(out, selection.pages);
        out += "</span>";
        link(selection.page + 1, "next", "next &rsaquo;", selection.page < selection.pages);
        link(selection.pages, "", "last &raquo;", selection.page < selection.pages);
    }
    out += "</nav>\n";
}

void append_list_head(std::string& out) {
    out +=
        "<div class=\"list-head\" aria-hidden=\"true\"><span class=\"c-state\">State</span>"
        "<span class=\"c-zone\">Zone</span><span class=\"c-serial num\">Reference serial</span>"
        "<span class=\"c-worst\">Worst server</span><span class=\"c-lag num\">Lag</span>"
        "<span class=\"c-change num\">Last change</span><span class=\"c-json\"></span></div>\n";
}

}  // namespace

std::string render_status_page(const Snapshot& snapshot, const AlertsSnapshot* alerts,
                               const PageQuery& query, const StatusPageOptions& options) {
    const ZoneSelection selection = select_zones(snapshot, query);
    const std::size_t firing = firing_alerts(alerts);
    const std::size_t critical = count_of(selection.all, StateFilter::critical);

    std::string out;
    out.reserve(16384 + selection.zones.size() * 2048);  // a zone with three servers: ~2 kB
    out +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"refresh\" content=\"15\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    if (critical > 0) out += "CRITICAL \xE2\x80\x94 ";  // em dash
    out += "soawatch</title>\n<link rel=\"stylesheet\" href=\"";
    out += kStatusPageCssPath;
    out += "\">\n</head>\n<body>\n<header>\n<h1><span class=\"product\">soawatch</span>";
    if (!snapshot.vantage.empty()) {
        // Several agents watch from several places: say which one this page is.
        out += " <span class=\"vantage\">from ";
        append_html_escaped(out, snapshot.vantage);
        out += "</span>";
    }
    out += "</h1>\n";
    append_summary(out, snapshot, selection, firing, alerts != nullptr);
    out += "<p class=\"generated\">generated ";
    out += rfc3339(snapshot.taken);
    out +=
        " &middot; refreshes every 15 s &middot; <a href=\"/api/v1/zones\">JSON</a> &middot; "
        "<a href=\"/metrics\">metrics</a> &middot; <a href=\"/api/v1/alerts\">alerts</a></p>\n"
        "</header>\n<main>\n";

    if (alerts) append_alerts_section(out, *alerts, snapshot.taken, options.max_alerts);
    if (count_of(selection.all, StateFilter::all) == 0) {
        out +=
            "<p class=\"empty\">No zones are being watched yet.</p>\n</main>\n</body>\n</html>\n";
        return out;
    }
    append_filter(out, query, selection);
    append_pager(out, query, selection);
    if (selection.zones.empty()) {
        out += "<p class=\"empty\">No zone matches this filter. <a ";
        append_href(out, PageQuery{});
        out += ">Show every zone</a>.</p>\n";
    } else {
        // Expanded: the zone searched for by its whole name (the link on each zone's name), the
        // one zone a search found, or the problems when there are few of them.
        std::size_t problems = 0;
        for (const ZoneStatus* z : selection.zones)
            if (zone_urgency(*z) != Urgency::ok) ++problems;
        out += "<div class=\"zones\">\n";
        append_list_head(out);
        for (const ZoneStatus* z : selection.zones) {
            const bool open =
                selection.zones.size() == 1 || z->zone == query.name ||
                (zone_urgency(*z) != Urgency::ok && problems <= options.max_expanded_problems);
            append_zone(out, *z, snapshot.taken, open);
        }
        out += "</div>\n";
        if (selection.pages > 1) append_pager(out, query, selection);
    }
    out += "</main>\n</body>\n</html>\n";
    return out;
}

}  // namespace soawatch
