// Which zones one page of the status page lists: the name and state filter of a PageQuery
// applied to a snapshot, ordered by urgency, cut to one page, and the counts the summary and the
// filter bar show. Pure functions over immutable snapshots, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "agent/status_store.hpp"
#include "exporters/api/page_query.hpp"

namespace soawatch {

// The order of the list: what needs a person first.
enum class Urgency { critical = 0, out_of_sync = 1, unknown = 2, ok = 3 };
inline constexpr std::size_t kUrgencies = 4;
// CRITICAL; else WARNING or out of sync (a usable server lacks the reference); else UNKNOWN;
// else OK.
Urgency zone_urgency(const ZoneStatus& zone);

// True when the zone belongs in the list for that state filter (StateFilter says which).
bool matches_state(const ZoneStatus& zone, StateFilter state);
// True when the zone's canonical name contains `lower_name` (already lower case) or it is
// empty. Names are stored lower case (dns::canonical_name), so this is case-insensitive.
bool matches_name(const ZoneStatus& zone, std::string_view lower_name);

struct ZoneSelection {
    using Counts = std::array<std::size_t, kStateFilters>;  // indexed by StateFilter
    Counts all{};              // every zone of the snapshot, by state filter (the summary)
    Counts named{};            // the zones whose name matches, by state filter (the filter bar)
    std::size_t matching = 0;  // zones that match both name and state
    std::size_t page = 1;      // the page shown: the query's, clamped to 1..pages
    std::size_t pages = 1;     // at least 1, even when nothing matches
    std::size_t first = 0;     // position of zones[0] among the matching zones (0-based)
    std::vector<const ZoneStatus*> zones;  // this page's zones, in urgency then name order
};

// One pass over the snapshot (sorted by name, as the StatusStore publishes it), no sort:
// O(zones) time, O(matching zones) pointers.
ZoneSelection select_zones(const Snapshot& snapshot, const PageQuery& query);

}  // namespace soawatch
