// The status page at /: what an operator reads at 2 a.m. A summary (zones, out of sync,
// critical, firing alerts), the firing alerts, then one line per zone, the zones that are not OK
// first, each expanding to its servers (<details>: no JavaScript needed). A GET form filters by
// name and state and the list is paged on the server, so the page for 100,000 zones weighs one
// screen. Plain HTML, no script, one stylesheet at /static/soawatch.css: the page works under a
// Content-Security-Policy without script-src and without inline style. Reloads itself every
// 15 s, keeping its filter. Every string that came from DNS or config is HTML-escaped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/alerting/alert_engine.hpp"
#include "agent/status_store.hpp"
#include "exporters/api/page_query.hpp"

namespace soawatch {

struct StatusPageOptions {
    // Firing alerts listed at the top (the rest are counted; /api/v1/alerts has them all).
    std::size_t max_alerts = 50;
    // Zones that are not OK are shown expanded when a page holds at most this many of them.
    std::size_t max_expanded_problems = 10;
};

// The whole HTML document for one page of `query`: the zones matching its name and state
// filter, by urgency (CRITICAL, then out of sync or WARNING, then UNKNOWN, then OK) and by name
// within each group. Thread-safe (pure). O(zones) per call: no sort.
std::string render_status_page(const Snapshot& snapshot, const AlertsSnapshot* alerts = nullptr,
                               const PageQuery& query = {}, const StatusPageOptions& options = {});

// Where the page links its stylesheet, and the stylesheet itself.
inline constexpr std::string_view kStatusPageCssPath = "/static/soawatch.css";
extern const std::string_view kStatusPageCss;

}  // namespace soawatch
