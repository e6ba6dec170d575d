#include "agent/status_store.hpp"

#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

namespace soawatch {

void StatusStore::publish(Slot slot, ZoneStatusPtr status) {
    MutexLock lock(mutex_);
    *slot.entry_ = std::move(status);
}

std::vector<StatusStore::Slot> StatusStore::keep_only(
    std::span<const std::string_view> sorted_zones) {
    // A name out of order or repeated would erase zones that stay.
    assert(std::adjacent_find(sorted_zones.begin(), sorted_zones.end(), std::greater_equal<>()) ==
           sorted_zones.end());
    std::vector<Slot> slots;
    slots.reserve(sorted_zones.size());
    MutexLock lock(mutex_);
    // Both in name order: one walk, and a new zone goes in just before `it` (a hint that holds).
    auto it = zones_.begin();
    for (const std::string_view zone : sorted_zones) {
        while (it != zones_.end() && std::string_view(it->first) < zone) it = zones_.erase(it);
        if (it != zones_.end() && std::string_view(it->first) == zone) {
            slots.push_back(Slot(&it->second));
            ++it;
        } else {
            const auto added = zones_.emplace_hint(it, std::string(zone), nullptr);
            slots.push_back(Slot(&added->second));
        }
    }
    zones_.erase(it, zones_.end());
    return slots;
}

void StatusStore::set_stats(const AgentStats& stats) {
    MutexLock lock(mutex_);
    stats_ = stats;
}

void StatusStore::set_vantage(std::string vantage) {
    MutexLock lock(mutex_);
    vantage_ = std::move(vantage);
}

SnapshotPtr StatusStore::snapshot() const {
    auto snap = std::make_shared<Snapshot>();
    {
        MutexLock lock(mutex_);
        snap->zones.reserve(zones_.size());
        for (const auto& [name, status] : zones_)
            if (status) snap->zones.push_back(status);  // a slot with nothing published yet
        snap->stats = stats_;
        snap->vantage = vantage_;
    }
    snap->taken = Clock::now();
    return snap;
}

ZoneStatusPtr StatusStore::zone(const std::string& canonical_zone) const {
    MutexLock lock(mutex_);
    auto it = zones_.find(canonical_zone);
    return it == zones_.end() ? nullptr : it->second;
}

}  // namespace soawatch
