// The status page at /: what an operator reads at a glance. Plain HTML, no JavaScript, one
// stylesheet at /static/soawatch.css (so the page works under a strict Content-Security-Policy),
// reloads itself every 15 s. Every string that came from DNS or config is HTML-escaped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/alerting/alert_engine.hpp"
#include "agent/status_store.hpp"

namespace soawatch {

struct StatusPageOptions {
    // Zones shown with their server table; the rest (the healthiest, as problems sort first)
    // are counted in one line. Keeps the page usable with 100,000 zones.
    std::size_t max_zone_sections = 1000;
    // Firing alerts listed at the top (the rest are counted; /api/v1/alerts has them all).
    std::size_t max_alerts = 50;
};

// The whole HTML document: the firing alerts first (when `alerts` is given), then the zones by
// urgency: CRITICAL, then out of sync or WARNING, then UNKNOWN, then OK; by name within each
// group. Thread-safe (pure).
std::string render_status_page(const Snapshot& snapshot, const AlertsSnapshot* alerts = nullptr,
                               const StatusPageOptions& options = {});

// Where the page links its stylesheet, and the stylesheet itself.
inline constexpr std::string_view kStatusPageCssPath = "/static/soawatch.css";
extern const std::string_view kStatusPageCss;

}  // namespace soawatch
