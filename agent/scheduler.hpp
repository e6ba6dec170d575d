// The Scheduler: on the event loop, checks every zone once per interval, spread across the
// interval so the load is flat, and re-probes a zone fast while a new reference serial is
// propagating: 50 ms after the change, then backing off to once a second (agent/fast_reprobe.hpp),
// so propagation is timed to a fraction of a second without a high steady load. A NOTIFY for a
// zone starts the same fast re-probe at once.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/delegation_check.hpp"
#include "agent/optional_moment.hpp"
#include "agent/status_store.hpp"
#include "agent/transfer_audit.hpp"
#include "agent/zone_check.hpp"
#include "probes/event_loop.hpp"

namespace soawatch {

// How long after `unix_ms` (the wall clock, in ms) a zone's next regular check is due: at the
// zone's slot, the same offset (a hash of the name) in every period of a grid anchored at the
// Unix epoch, at least half an interval away. Checks stay spread evenly over the interval (a
// flat load), a zone keeps its slot across restarts and reloads, and a zone checked just
// before its slot (in the squeezed first round) is not checked again at once.
std::chrono::milliseconds next_slot_delay(std::string_view zone, std::chrono::milliseconds interval,
                                          int64_t unix_ms);

class Scheduler {
  public:
    // Called on the loop thread after each check, with the observations and the new status.
    using CheckObserver = std::function<void(const ZoneCheckResult&, const ZoneStatus&)>;

    Scheduler(EventLoop& loop, ZoneChecker& checker, StatusStore& store, CheckObserver observer);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Loop thread. Starts watching the config's zones. Zones that stay keep their state and
    // schedule (a changed interval applies from the next check); removed zones are forgotten.
    void apply(const Config& config);
    // The same for this loop's share of them: `zones` point into config.zones.
    void apply(const Config& config, std::span<const ZoneConfig* const> zones);

    // Loop thread. A NOTIFY (RFC 1996) for `zone` arrived at `when`: check it now and keep
    // re-probing until its nameservers have the new serial. Returns false for unknown zones.
    bool notify(const std::string& zone, Instant when);

    // Loop thread. Stops scheduling; checks in flight finish but publish nothing.
    void stop();

    // This scheduler is loop `index` of `loops` (agent/loop_set.hpp): its log lines about all
    // its zones say so, since they are about its share of the zones only.
    void set_loop(unsigned index, unsigned loops) {
        loop_index_ = index;
        loops_ = loops;
    }
    // Lets the owner add counters the scheduler does not keep (queries sent, NOTIFYs) each time
    // the stats are published to the store.
    void set_stats_augmenter(std::function<void(AgentStats&)> augment) {
        augment_stats_ = std::move(augment);
    }
    void publish_stats();

    // How long the first round of a newly applied zone set is spread over (default 10 s, at
    // most the interval). `soawatch check` sets 0: every zone starts at once.
    void set_first_round_window(EventLoop::Clock::duration window) { first_round_window_ = window; }

    // The transfer audit (transfer_check): zones that have one are audited by `auditor` after a
    // check, at most once per their transfer_check.interval, the first time after their first
    // check. Without an auditor (the default) nothing is audited. `observer` is called with the
    // zone's new status when an audit's findings are published (the check observer is not).
    using AuditObserver = std::function<void(const ZoneStatus&)>;
    void set_transfer_auditor(TransferAuditor* auditor, AuditObserver observer = {}) {
        auditor_ = auditor;
        audit_observer_ = std::move(observer);
    }
    // The delegation check (delegation_check): zones that have one are checked by `checker`
    // after a check, the first time after their first check, then at the zone's slot in a grid
    // of their delegation_check.interval (at most once per interval, spread over it as the
    // zone checks are). Due zones wait in a queue; at most kMaxDelegationChecks run at once, so
    // 100,000 zones that all come due with the first round neither hold tens of thousands of
    // queries in memory nor compete with the SOA probes. `observer` as for the transfer audit.
    // Counted (queued and running) in audits_running().
    void set_delegation_checker(DelegationChecker* checker, AuditObserver observer = {}) {
        delegation_checker_ = checker;
        delegation_observer_ = std::move(observer);
    }
    std::size_t audits_running() const { return audits_running_; }

    bool first_round_done() const { return first_round_done_; }
    const AgentStats& stats() const { return stats_; }
    std::size_t zone_count() const { return zones_.size(); }

    // Checks started in one pass of the loop; more due ones start on the next pass, after the
    // loop has read the answers that came in. Starting 100,000 due checks in one pass (the first
    // round of `soawatch check`) queued every query before the first answer was read: the
    // servers idled while the loop only queued (docs/PERFORMANCE.md, discovery).
    static constexpr std::size_t kMaxChecksPerPass = 64;
    // Back-pressure: while this many SOA probes wait behind their channels' in-flight caps, a due
    // check waits for room (a new check would only lengthen the queues, each queued probe holding
    // its check's state). At most kMaxQueueHold past its due time, so a slow server whose queue
    // stays full delays other zones' checks by that much, never more; checks re-probing a
    // changed serial (fast re-probe, NOTIFY: a heap of their own) never wait. docs/
    // PERFORMANCE.md, back-pressure.
    static constexpr std::size_t kMaxQueuedProbes = 64;
    static constexpr std::chrono::milliseconds kMaxQueueHold{2000};
    // Zones whose delegation check runs at once (a handful of queries each, in two phases).
    static constexpr std::size_t kMaxDelegationChecks = 32;

  private:
    // One per watched zone (100,000 at scale): widest fields first, so no padding sits between
    // them, and optional moments keep "none" in their own bytes.
    struct Zone {
        ZoneCheckSpec spec;
        EventLoop::Clock::duration interval{};
        EventLoop::Clock::time_point next_due{};  // the regular schedule
        uint64_t ticket = 0;                      // of its pending entry in due_; 0: none pending
        // The last round (round_) in which it had its regular check; 0 (round_ starts at 1):
        // none yet.
        uint64_t round = 0;
        OptionalInstant notify_at;  // NOTIFY not yet consumed by a check
        // The NOTIFY the running check started with. One that arrives during the check stays
        // in notify_at for the check after it: the running one's queries may have left before
        // the change, and consuming it there would lose the start of the propagation timing.
        OptionalInstant running_notify;
        OptionalMonoTime fast_until;
        std::size_t fast_step = 0;  // fast re-probes since the reference last moved (backoff)
        EventLoop::Clock::time_point scheduled_for{};  // when the pending check was due
        ZoneStatusPtr status;
        std::string name;
        StatusStore::Slot store_slot;  // its entry in the store (set by apply)
        std::size_t name_hash = 0;     // std::hash of the name: its slot in every interval
        // Its place in slots_, and the generation that tells it from the zones that had that
        // place before (a new one per zone added; kept by a zone that stays at a reload).
        uint32_t slot = 0;
        uint32_t generation = 0;
        // Transfer audit: the latest result, when the next is due, whether one runs (below).
        std::shared_ptr<const TransferAudit> audit;
        OptionalMonoTime audit_due;
        // Delegation check: the same three (checking_delegation: queued or running).
        std::shared_ptr<const DelegationAudit> delegation;  // shared with zones that found the same
        OptionalTime delegation_at;
        OptionalMonoTime delegation_due;
        bool running = false;
        // A NOTIFY came, or the zone's settings changed, while a check was running.
        bool recheck_after_run = false;
        bool auditing = false;
        bool checking_delegation = false;
    };

    // A zone as the callbacks of its checks and audits know it: its slot and generation in one
    // word, so that such a callback (`this` and the reference) fits std::function's inline
    // buffer (no allocation per check), and finds its zone without a lookup by name. A slot is
    // reused by later zones, the generation tells them apart; it comes back to the same value
    // only after 2^32 zones were added, while a stale callback lives for a check's seconds.
    using ZoneRef = uint64_t;
    static ZoneRef ref_of(const Zone& zone) {
        return (uint64_t{zone.generation} << 32) | zone.slot;
    }
    // The zone `ref` was taken from, or nullptr when it was removed since.
    Zone* zone_at(ZoneRef ref) const;
    // Gives `zone` a place in slots_ (a free one first), and takes it back at its removal.
    void take_slot(Zone& zone);
    void free_slot(const Zone& zone);

    // A check due at `when`. The zone's earlier pending check, if any, is dropped.
    void schedule(Zone& zone, EventLoop::Clock::time_point when);
    void arm_wake();
    // (Re)arms the one wake timer for `when`, whatever it was armed for.
    void wake_at(EventLoop::Clock::time_point when);
    void run_due();
    void run_check(Zone& zone);
    void on_checked(ZoneRef ref, ZoneCheckResult result);
    void maybe_audit(Zone& zone);
    void on_audited(ZoneRef ref, std::shared_ptr<const TransferAudit> audit);
    void maybe_check_delegation(Zone& zone);
    // Starts queued delegation checks while fewer than kMaxDelegationChecks run.
    void start_delegation_checks();
    void on_delegation_checked(ZoneRef ref, std::shared_ptr<const DelegationAudit> audit);
    void publish_delegation(ZoneRef ref, std::shared_ptr<const DelegationAudit> audit);
    // The zone's latest status again, with its audits' current findings (after an audit or a
    // delegation check finished), and `observer` told.
    void republish_with_audits(Zone& zone, const AuditObserver& observer);
    // The audits' findings (transfer, delegation) of `zone` into `status`.
    static void apply_audits(const Zone& zone, ZoneStatus& status);

    EventLoop& loop_;
    ZoneChecker& checker_;
    StatusStore& store_;
    CheckObserver observer_;
    GlobalConfig global_;
    // Keyed by a view of each zone's own name (the Zone stays where it is: its name outlives the
    // key), so the name is kept once.
    using ZoneMap = std::map<std::string_view, std::unique_ptr<Zone>, std::less<>>;
    ZoneMap zones_;
    // Every zone by its slot (nullptr: free, and in free_slots_): what checks, audits and queue
    // entries find their zone by.
    std::vector<Zone*> slots_;
    std::vector<uint32_t> free_slots_;

    // Pending checks, a min-heap by due time, with one loop timer for the earliest: 100,000
    // zones cost a small entry each instead of a loop timer (a std::function and a hash map
    // node) each. Entries whose ticket is no longer their zone's are skipped (rescheduled or
    // removed zones: tickets are never reused, so neither is a later zone in the same slot).
    struct Due {
        EventLoop::Clock::time_point when;
        uint64_t ticket;
        uint32_t slot;
        bool operator>(const Due& other) const {
            return when != other.when ? when > other.when : ticket > other.ticket;
        }
    };
    std::vector<Due> due_;     // regular checks
    std::vector<Due> urgent_;  // re-probes of a changing serial (NOTIFY, fast re-probe)
    bool held_back_ = false;   // regular checks wait for room in the probes' queues
    uint64_t next_ticket_ = 1;
    EventLoop::TimerId wake_timer_ = 0;
    EventLoop::Clock::time_point wake_at_{};
    uint32_t next_generation_ = 1;
    bool stopped_ = false;

    // Round bookkeeping for the cycle metrics and /readyz. A round ends when every zone had its
    // regular check in it: counted once per zone, as a zone whose slot comes round again within
    // the round (a slow first round) would end it early, and /readyz would say ready with zones
    // never checked.
    uint64_t round_ = 1;
    std::size_t checked_this_round_ = 0;
    EventLoop::Clock::time_point round_started_{};
    bool first_round_done_ = false;
    unsigned loop_index_ = 0;
    unsigned loops_ = 1;
    double round_max_delay_ = 0;
    AgentStats stats_;
    std::function<void(AgentStats&)> augment_stats_;
    EventLoop::Clock::duration first_round_window_ = std::chrono::seconds(10);
    TransferAuditor* auditor_ = nullptr;
    AuditObserver audit_observer_;
    DelegationChecker* delegation_checker_ = nullptr;
    AuditObserver delegation_observer_;
    std::size_t audits_running_ = 0;
    // Zones due for their delegation check, oldest first.
    std::deque<ZoneRef> delegation_queue_;
    std::size_t delegation_checks_running_ = 0;
    bool starting_delegation_checks_ = false;  // a check's callback may run before check() returns
};

}  // namespace soawatch
