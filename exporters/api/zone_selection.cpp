#include "exporters/api/zone_selection.hpp"

#include <algorithm>

namespace soawatch {

Urgency zone_urgency(const ZoneStatus& z) {
    if (z.verdict == Verdict::critical) return Urgency::critical;
    if (z.verdict == Verdict::warning || (!z.consistent && z.verdict != Verdict::unknown))
        return Urgency::out_of_sync;
    if (z.verdict == Verdict::unknown) return Urgency::unknown;
    return Urgency::ok;
}

bool matches_state(const ZoneStatus& z, StateFilter state) {
    switch (state) {
        case StateFilter::all:
            return true;
        case StateFilter::problems:
            return zone_urgency(z) != Urgency::ok;
        case StateFilter::critical:
            return z.verdict == Verdict::critical;
        case StateFilter::out_of_sync:
            // Only with a reference: a zone nobody answered for is UNKNOWN, not out of sync.
            return !z.consistent && z.reference_serial.has_value();
        case StateFilter::warning:
            return z.verdict == Verdict::warning;
        case StateFilter::unknown:
            return z.verdict == Verdict::unknown;
        case StateFilter::ok:
            return zone_urgency(z) == Urgency::ok;
    }
    return false;
}

bool matches_name(const ZoneStatus& z, std::string_view lower_name) {
    return lower_name.empty() || z.zone.find(lower_name) != std::string::npos;
}

namespace {

// The state filters a zone matches, one bit per StateFilter: matches_state for all seven, with
// the urgency worked out once.
unsigned state_bits(const ZoneStatus& z) {
    const Urgency urgency = zone_urgency(z);
    const auto bit = [](StateFilter f) { return 1U << static_cast<unsigned>(f); };
    unsigned bits = bit(StateFilter::all);
    bits |= urgency == Urgency::ok ? bit(StateFilter::ok) : bit(StateFilter::problems);
    if (z.verdict == Verdict::critical) bits |= bit(StateFilter::critical);
    if (!z.consistent && z.reference_serial) bits |= bit(StateFilter::out_of_sync);
    if (z.verdict == Verdict::warning) bits |= bit(StateFilter::warning);
    if (z.verdict == Verdict::unknown) bits |= bit(StateFilter::unknown);
    return bits;
}

}  // namespace

ZoneSelection select_zones(const Snapshot& snapshot, const PageQuery& query) {
    ZoneSelection out;
    // The matching zones by urgency; within each, in the snapshot's name order.
    std::array<std::vector<const ZoneStatus*>, kUrgencies> groups;
    const unsigned wanted = 1U << static_cast<unsigned>(query.state);
    for (const ZoneStatusPtr& ptr : snapshot.zones) {
        if (!ptr) continue;
        const ZoneStatus& z = *ptr;
        const unsigned bits = state_bits(z);
        const bool named = matches_name(z, query.name);
        for (std::size_t f = 0; f < kStateFilters; ++f) {
            if ((bits & (1U << f)) == 0) continue;
            ++out.all[f];
            if (named) ++out.named[f];
        }
        if (named && (bits & wanted) != 0)
            groups[static_cast<std::size_t>(zone_urgency(z))].push_back(&z);
    }

    out.matching = out.named[static_cast<std::size_t>(query.state)];
    const std::size_t per_page = std::clamp<std::size_t>(query.per_page, 1, PageQuery::kMaxPerPage);
    out.pages = std::max<std::size_t>(1, (out.matching + per_page - 1) / per_page);
    out.page = std::clamp<std::size_t>(query.page, 1, out.pages);
    out.first = (out.page - 1) * per_page;

    std::size_t skip = out.first;
    for (const auto& group : groups) {
        if (skip >= group.size()) {
            skip -= group.size();
            continue;
        }
        const std::size_t take = std::min(group.size() - skip, per_page - out.zones.size());
        out.zones.insert(out.zones.end(), group.begin() + static_cast<std::ptrdiff_t>(skip),
                         group.begin() + static_cast<std::ptrdiff_t>(skip + take));
        skip = 0;
        if (out.zones.size() == per_page) break;
    }
    return out;
}

}  // namespace soawatch
