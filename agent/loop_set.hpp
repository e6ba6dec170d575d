// Zones sharded across event loops (global.loops): a layer around the Scheduler, not inside it.
// Each loop is one thread owning its EventLoop, its DNS channels (discovery, SOA prober,
// transfer prober) and one Scheduler with its zones' state; zones go to loops by a stable hash
// of their name (agent/loop_assignment.hpp), so a reload keeps every zone on its loop. Loop 0
// is the caller's loop (the agent's main loop: signals, NOTIFY, HTTP work, alerts); with one
// loop nothing else runs, which is the agent as it was before loops.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/delegation_check.hpp"
#include "agent/scheduler.hpp"
#include "agent/status_store.hpp"
#include "agent/transfer_audit.hpp"
#include "agent/zone_check.hpp"
#include "probes/delegation_probe.hpp"
#include "probes/discovery.hpp"
#include "probes/event_loop.hpp"
#include "probes/soa_probe.hpp"
#include "probes/transfer_probe.hpp"

namespace soawatch {

// One loop's share: everything on it belongs to its thread (the store excepted: any thread
// reads it). Each loop keeps its own status store, as a Scheduler keeps only its own zones in
// the store it is given after a reload.
struct LoopShard {
    // `loops`: how many loops share the servers (each loop's channels take their share of the
    // in-flight budget per address). `on_audited` observes the transfer audits and the
    // delegation checks.
    LoopShard(EventLoop& loop, unsigned loops, const DiscoveryOptions& discovery_options,
              Scheduler::CheckObserver on_checked, Scheduler::AuditObserver on_audited);
    LoopShard(const LoopShard&) = delete;
    LoopShard& operator=(const LoopShard&) = delete;

    EventLoop& loop;
    StatusStore store;
    Discovery discovery;
    SoaProber prober;
    ZoneChecker checker;
    TransferProber transfer_prober;
    TransferAuditor auditor;
    // The delegation check (parent/child NS sets, glue) of this loop's zones, on its channels.
    DelegationProber delegation_prober;
    DelegationChecker delegation_checker;
    Scheduler scheduler;
    // Set by the loop whenever it publishes its stats; read by any thread (/readyz).
    std::atomic<bool> first_round_done{false};
};

// Adds one loop's counters to `total`: counts add up, the round times are the slowest loop's,
// and the first round is done when every loop's is.
void add_loop_stats(AgentStats& total, const AgentStats& loop);

// A loop's share of what one loop may have in flight to one address (SOA probes 128, resolver
// lookups 64): every loop has channels of its own to the addresses (and the resolver) that zones
// of several loops share, so N loops at full width would put N times the measured limit on a
// server's receive buffer. Never below 16 (8 loops of 16 are the SOA probes' 128).
std::size_t share_of_inflight(std::size_t one_loop, unsigned loops);

class LoopSet {
  public:
    // The observers of loop `index` (called on that loop's thread).
    struct Observers {
        Scheduler::CheckObserver on_checked;
        Scheduler::AuditObserver on_audited;
    };
    using ObserversFor = std::function<Observers(unsigned index)>;

    // `main_loop` becomes loop 0; loops - 1 more loops are made, not yet running (start()).
    LoopSet(EventLoop& main_loop, unsigned loops, const DiscoveryOptions& discovery_options,
            const ObserversFor& observers_for);
    ~LoopSet();
    LoopSet(const LoopSet&) = delete;
    LoopSet& operator=(const LoopSet&) = delete;

    unsigned size() const { return static_cast<unsigned>(shards_.size()); }
    LoopShard& shard(unsigned index) { return *shards_[index]; }
    const LoopShard& shard(unsigned index) const { return *shards_[index]; }
    LoopShard& main() { return *shards_.front(); }

    // Before start(). `augment` adds the owner's counters to a loop's stats each time that loop
    // publishes them, on its thread.
    void set_stats_augmenter(const std::function<void(LoopShard&, AgentStats&)>& augment);

    // Starts one thread per loop but the first, each running `body` (the agent: loop.run();
    // `soawatch check`: until its first round is done).
    void start(const std::function<void(LoopShard&)>& body);

    // Main loop thread. Each loop applies its zones of `config` on its thread; once start() has
    // run, this returns when every loop has (so that, after it, no check of a removed zone is
    // reported).
    void apply(const Config& config);

    // Main loop thread. A NOTIFY for `zone`, handed to the loop that owns it. False when the
    // zone is not watched.
    bool notify(const std::string& zone, Instant when);

    // Main loop thread. Runs fn on every loop's thread (loop 0's at once).
    void on_each_loop(const std::function<void(LoopShard&)>& fn);

    // Before start(). The vantage every loop's store (and so the merged snapshot) names.
    void set_vantage(const std::string& vantage);

    // Any thread: every loop's zones (sorted by name) and their stats added up.
    SnapshotPtr snapshot() const;
    bool first_round_done() const;

    // Main thread. Waits for the other loops' bodies to end by themselves (`soawatch check`:
    // each when its round is done).
    void join();

    // Main thread. Ends the other loops' threads (their checks in flight publish nothing) and
    // stops every scheduler. Called by the destructor too.
    void stop();

  private:
    EventLoop& main_loop_;
    std::vector<std::unique_ptr<EventLoop>> own_loops_;  // loops 1.., before the shards on them
    std::vector<std::unique_ptr<LoopShard>> shards_;
    std::vector<std::thread> threads_;
    // Main loop thread: the watched zones, to answer a NOTIFY for a zone of another loop at once
    // (kept with more than one loop only).
    std::unordered_set<std::string> zones_;
    bool stopped_ = false;
};

}  // namespace soawatch
