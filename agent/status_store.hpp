// Holds the latest ZoneStatus of every watched zone. The event loop publishes; HTTP workers, the
// metrics collector and the alert engine read immutable snapshots and never block the loop for
// longer than copying pointers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/thread_annotations.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// Counters and gauges about the agent itself, updated by the event loop.
struct AgentStats {
    uint64_t queries_sent = 0;           // DNS queries put on the wire (all tries, UDP and TCP)
    uint64_t queries_inflight = 0;       // waiting for an answer now
    uint64_t checks_total = 0;           // zone checks completed
    uint64_t discovery_errors = 0;       // failed NS/address lookups
    uint64_t notify_received = 0;        // NOTIFY messages accepted for watched zones
    uint64_t notify_ignored = 0;         // NOTIFY for unknown zones, or malformed packets
    double last_cycle_seconds = 0;       // duration of the last full round over all zones
    double max_check_delay_seconds = 0;  // worst lateness of a check against its schedule
    uint64_t zones = 0;
    bool first_round_done = false;
};

struct Snapshot {
    std::vector<ZoneStatusPtr> zones;  // sorted by zone name
    AgentStats stats;
    Clock::time_point taken;
    std::string vantage;  // where the agent watches from (agent/config/vantage.hpp); "": none
};
using SnapshotPtr = std::shared_ptr<const Snapshot>;

class StatusStore {
  public:
    // A zone's entry, for the one that publishes it (its loop's scheduler): publishing through
    // it finds no name in the map (at 100,000 zones a lookup by name was a few percent of a
    // round's CPU). Valid until keep_only leaves the zone out.
    class Slot {
      public:
        Slot() = default;
        explicit operator bool() const { return entry_ != nullptr; }

      private:
        friend class StatusStore;
        explicit Slot(ZoneStatusPtr* entry) : entry_(entry) {}
        ZoneStatusPtr* entry_ = nullptr;
    };

    // Keeps exactly the zones named, in ascending order without repeats (a loop's whole list,
    // at every apply): the others are forgotten (their series leave /metrics, their slots are
    // no longer valid), new ones added without a status (left out of snapshots until
    // published). Their slots, in the same order. One pass under one lock (a slot a zone, each
    // found from the top, and the names copied into a set cost 2,000 instructions a zone at
    // every start). Thread-safe.
    std::vector<Slot> keep_only(std::span<const std::string_view> sorted_zones);
    // Replaces the status of the zone `slot` holds (status->zone must name it). Thread-safe.
    void publish(Slot slot, ZoneStatusPtr status);
    void set_stats(const AgentStats& stats);
    // The vantage every snapshot names (the API and the page show it). Thread-safe.
    void set_vantage(std::string vantage);
    // A consistent copy of everything published so far. Thread-safe; O(zones) pointer copies.
    SnapshotPtr snapshot() const;
    // One zone, or nullptr. Thread-safe.
    ZoneStatusPtr zone(const std::string& canonical_zone) const;

  private:
    mutable Mutex mutex_;
    // Map nodes stay where they are until erased: a Slot points into one.
    std::map<std::string, ZoneStatusPtr> zones_ GUARDED_BY(mutex_);
    AgentStats stats_ GUARDED_BY(mutex_);
    std::string vantage_ GUARDED_BY(mutex_);
};

}  // namespace soawatch
