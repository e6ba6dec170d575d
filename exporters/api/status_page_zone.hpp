// One zone on the status page: its line (state, name, reference serial, worst server, lag, last
// change, link to its JSON) and, folded under it in a <details>, its problems and the table of
// its servers. Internal to the page (status_page.cpp); pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "agent/zone_status.hpp"

namespace soawatch {

// The server that needs attention most: unusable, then behind (the longest lag first), then
// incomparable, then ahead. nullptr when every server has the reference serial.
const NameserverStatus* worst_server(const ZoneStatus& zone);

// The path of the zone's JSON: /api/v1/zones/ and the name in its plain spelling (presentation
// escapes undone, docs/API.md), percent-encoded (RFC 3986 section 2.1).
std::string zone_api_path(std::string_view canonical_zone);

// Appends <details class="zone STATE"> with the zone's line as its <summary>.
void append_zone(std::string& out, const ZoneStatus& zone, Clock::time_point now, bool open);

// "12,345": counts on the page read at a glance.
void append_count(std::string& out, std::size_t n);

// "12s ago", with the absolute UTC time as a tooltip.
void append_ago(std::string& out, Clock::time_point t, Clock::time_point now);

}  // namespace soawatch
