#include "agent/status_store.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace soawatch {

void StatusStore::publish(ZoneStatusPtr status) {
    MutexLock lock(mutex_);
    zones_[status->zone] = std::move(status);
}

StatusStore::Slot StatusStore::slot(const std::string& zone) {
    MutexLock lock(mutex_);
    return Slot(&zones_[zone]);
}

void StatusStore::publish(Slot slot, ZoneStatusPtr status) {
    MutexLock lock(mutex_);
    *slot.entry_ = std::move(status);
}

void StatusStore::remove(const std::string& zone) {
    MutexLock lock(mutex_);
    zones_.erase(zone);
}

void StatusStore::retain(const std::vector<std::string>& zones) {
    std::set<std::string> keep(zones.begin(), zones.end());
    MutexLock lock(mutex_);
    std::erase_if(zones_, [&](const auto& entry) { return !keep.contains(entry.first); });
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
