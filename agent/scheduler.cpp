#include "agent/scheduler.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "agent/anycast.hpp"
#include "agent/common/log.hpp"
#include "agent/delegation_findings.hpp"
#include "agent/evaluator.hpp"
#include "agent/fast_reprobe.hpp"

namespace soawatch {

namespace {

using Mono = EventLoop::Clock;

// An offset inside `window` for each zone (its name_hash): spreads the first round evenly.
Mono::duration spread_offset(std::size_t name_hash, Mono::duration window) {
    const auto ticks = std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
    if (ticks <= 0) return Mono::duration::zero();
    return std::chrono::milliseconds(
        static_cast<int64_t>(name_hash % static_cast<uint64_t>(ticks)));
}

// Whether two specs of a zone probe the same servers the same way.
bool probes_the_same(const ZoneCheckSpec& a, const ZoneCheckSpec& b) {
    const auto same_list = [](const auto& x, const auto& y) {
        return x == y || (x && y && *x == *y);
    };
    return a.primary == b.primary && same_list(a.nameserver_addresses, b.nameserver_addresses) &&
           a.nameserver_names == b.nameserver_names && a.probe == b.probe &&
           a.max_nameservers == b.max_nameservers && a.max_addresses == b.max_addresses;
}

// Whether two optional target lists hold the same targets.
bool same_targets(const std::shared_ptr<const std::vector<ProbeTarget>>& a,
                  const std::shared_ptr<const std::vector<ProbeTarget>>& b) {
    return a == b || (a && b && *a == *b);
}

std::size_t name_hash(std::string_view zone) {
    return std::hash<std::string_view>{}(zone);
}

// next_slot_delay for the zone whose name_hash is `hash` (kept per zone: not hashed per check).
std::chrono::milliseconds slot_delay(std::size_t hash, std::chrono::milliseconds interval,
                                     int64_t unix_ms) {
    const int64_t period = interval.count();
    if (period <= 0) return interval;
    const int64_t earliest = unix_ms + period / 2;
    const auto slot = static_cast<int64_t>(hash % static_cast<uint64_t>(period));
    const int64_t wait = ((slot - earliest % period) % period + period) % period;
    return std::chrono::milliseconds(period / 2 + wait);
}

}  // namespace

std::chrono::milliseconds next_slot_delay(std::string_view zone, std::chrono::milliseconds interval,
                                          int64_t unix_ms) {
    return slot_delay(name_hash(zone), interval, unix_ms);
}

Scheduler::Scheduler(EventLoop& loop, ZoneChecker& checker, StatusStore& store,
                     CheckObserver observer)
    : loop_(loop), checker_(checker), store_(store), observer_(std::move(observer)) {}

Scheduler::~Scheduler() {
    stop();
}

Scheduler::Zone* Scheduler::zone_at(ZoneRef ref) const {
    const auto slot = static_cast<uint32_t>(ref);
    if (slot >= slots_.size()) return nullptr;
    Zone* zone = slots_[slot];
    return zone && zone->generation == static_cast<uint32_t>(ref >> 32) ? zone : nullptr;
}

void Scheduler::take_slot(Zone& zone) {
    if (free_slots_.empty()) {
        zone.slot = static_cast<uint32_t>(slots_.size());
        slots_.push_back(&zone);
        return;
    }
    zone.slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[zone.slot] = &zone;
}

void Scheduler::free_slot(const Zone& zone) {
    slots_[zone.slot] = nullptr;
    free_slots_.push_back(zone.slot);
}

void Scheduler::stop() {
    stopped_ = true;
    if (wake_timer_) loop_.cancel_timer(wake_timer_);
    wake_timer_ = 0;
    due_.clear();
    urgent_.clear();
    audits_running_ -= delegation_queue_.size();  // never started: nobody waits for them
    delegation_queue_.clear();
}

void Scheduler::apply(const Config& config) {
    std::vector<const ZoneConfig*> zones;
    zones.reserve(config.zones.size());
    for (const auto& zone : config.zones) zones.push_back(&zone);
    apply(config, zones);
}

void Scheduler::apply(const Config& config, std::span<const ZoneConfig* const> zones) {
    global_ = config.global;
    const auto now = Mono::now();
    ZoneMap next;
    NameserverLists nameserver_lists;
    const auto global_rules = std::make_shared<const AlertRuleSet>(config.alerting.rules);
    for (const ZoneConfig* zone_config : zones) {
        const ZoneConfig& zc = *zone_config;
        auto spec = make_check_spec(config.global, zc, &nameserver_lists);
        spec.rules = zc.alert_rules ? zc.alert_rules : global_rules;
        auto interval =
            std::chrono::duration_cast<Mono::duration>(effective_interval(config.global, zc));
        auto it = zones_.find(zc.name);
        if (it != zones_.end()) {
            // A zone that stays keeps its state, its slot and any fast re-probe.
            auto zone = std::move(it->second);
            zones_.erase(it);
            const bool probes_changed = !probes_the_same(zone->spec, spec);
            if (!spec.transfer_check) {  // audit turned off: forget its findings
                zone->audit.reset();
                zone->audit_due.reset();
            } else if (zone->audit_due &&
                       (!zone->spec.transfer_check ||
                        spec.transfer_check->interval < zone->spec.transfer_check->interval ||
                        spec.transfer_check->tsig != zone->spec.transfer_check->tsig)) {
                // Turned on, a shorter interval or another key: audit at the next check.
                zone->audit_due.reset();
            }
            if (!spec.delegation_check) {  // check turned off: forget its findings
                zone->delegation.reset();
                zone->delegation_due.reset();
            } else if (zone->delegation_due &&
                       (!zone->spec.delegation_check ||
                        spec.delegation_check->interval < zone->spec.delegation_check->interval ||
                        !same_targets(spec.parent_nameservers, zone->spec.parent_nameservers))) {
                zone->delegation_due.reset();  // check at the next check
            }
            zone->spec = std::move(spec);
            const bool interval_changed = zone->interval != interval;
            zone->interval = interval;
            if (probes_changed) {
                // Other servers or settings: its status describes what is no longer watched,
                // so it is checked again soon (after the check in flight, if any).
                if (zone->running) {
                    zone->recheck_after_run = true;
                } else {
                    const auto window = std::min<Mono::duration>(interval, first_round_window_);
                    schedule(*zone, now + spread_offset(zone->name_hash, window));
                }
            } else if (interval_changed && !zone->running) {
                schedule(*zone, std::min(zone->next_due, now + interval));
            }
            next.emplace_hint(next.end(), zone->name, std::move(zone));
            continue;
        }
        auto zone = std::make_unique<Zone>();
        zone->spec = std::move(spec);
        zone->interval = interval;
        zone->name = zc.name;
        zone->name_hash = name_hash(zc.name);
        zone->generation = next_generation_++;
        take_slot(*zone);
        // The first check comes soon (spread over at most 10 s so /readyz turns ready quickly);
        // later checks keep the zone's slot in its interval.
        auto first_window = std::min<Mono::duration>(interval, first_round_window_);
        zone->next_due = now + spread_offset(zone->name_hash, first_window);
        // Configs list zones mostly in order: the end is the place to try first.
        next.emplace_hint(next.end(), zone->name, std::move(zone));
    }
    // What is left in zones_ was removed from the config (its pending check, if any, is skipped).
    for (auto& [name, zone] : zones_) {
        log::info("zone removed", {{"zone", std::string(name)}});
        free_slot(*zone);
    }
    zones_ = std::move(next);
    std::vector<std::string_view> names;  // in order: zones_ is sorted by name
    names.reserve(zones_.size());
    for (auto& [name, zone] : zones_) {
        names.push_back(name);
        if (!zone->ticket && !zone->running) schedule(*zone, zone->next_due);
    }
    const auto slots = store_.keep_only(names);
    std::size_t index = 0;
    for (auto& [name, zone] : zones_) zone->store_slot = slots[index++];
    checked_this_round_ = 0;
    ++round_;
    round_started_ = now;
    if (zones_.empty()) first_round_done_ = true;
    publish_stats();
}

void Scheduler::schedule(Zone& zone, Mono::time_point when) {
    if (stopped_) return;
    zone.ticket = next_ticket_++;
    zone.scheduled_for = when;
    // A zone re-probed for a changing serial (NOTIFY, fast re-probe) is timed against the
    // servers' transfers: it never waits behind the regular checks' back-pressure (run_due).
    auto& heap = zone.notify_at || zone.fast_until ? urgent_ : due_;
    heap.push_back({when, zone.ticket, zone.slot});
    std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    arm_wake();
}

void Scheduler::arm_wake() {
    if (stopped_) return;
    std::optional<Mono::time_point> when;
    // Held back, the regular checks wake at the end of the hold; a finished check wakes them
    // sooner when the queues have room (on_checked).
    if (!due_.empty()) when = due_.front().when + (held_back_ ? kMaxQueueHold : Mono::duration{});
    if (!urgent_.empty() && (!when || urgent_.front().when < *when)) when = urgent_.front().when;
    if (!when) return;
    if (wake_timer_ && wake_at_ <= *when) return;
    wake_at(*when);
}

void Scheduler::wake_at(Mono::time_point when) {
    if (wake_timer_) loop_.cancel_timer(wake_timer_);
    wake_at_ = when;
    wake_timer_ = loop_.add_timer(when, [this] {
        wake_timer_ = 0;
        run_due();
    });
}

void Scheduler::run_due() {
    const auto now = Mono::now();
    std::size_t started = 0;
    held_back_ = false;
    // Re-probes of a changing serial first, then the regular checks.
    for (auto* heap : {&urgent_, &due_}) {
        const bool regular = heap == &due_;
        while (!heap->empty() && heap->front().when <= now && !stopped_) {
            if (started == kMaxChecksPerPass) {
                // The rest on the loop's next pass, after the answers that came in meanwhile.
                wake_at(now);
                return;
            }
            const Due& front = heap->front();
            Zone* zone = front.slot < slots_.size() ? slots_[front.slot] : nullptr;
            const bool stale = !zone || zone->ticket != front.ticket;
            if (regular && !stale && checker_.queries_queued() >= kMaxQueuedProbes &&
                now - front.when < kMaxQueueHold) {
                held_back_ = true;  // back-pressure: wait for room in the probes' queues
                break;
            }
            std::pop_heap(heap->begin(), heap->end(), std::greater<>{});
            heap->pop_back();  // `front` is gone: only `zone` is used below
            if (stale) continue;
            run_check(*zone);
            ++started;
        }
    }
    arm_wake();
}

bool Scheduler::notify(const std::string& zone_name, Instant when) {
    auto it = zones_.find(zone_name);
    if (it == zones_.end()) return false;
    Zone& zone = *it->second;
    if (!zone.notify_at) zone.notify_at = when;
    // A NOTIFY while fast re-probing keeps the backoff where it is: it restarts when the check
    // sees a new reference serial, so the bound holds per serial, not per NOTIFY.
    if (!zone.fast_until) zone.fast_step = 0;
    zone.fast_until = Mono::now() + global_.fast_reprobe_limit;
    if (zone.running) {
        zone.recheck_after_run = true;
    } else {
        schedule(zone, Mono::now());
    }
    return true;
}

void Scheduler::run_check(Zone& zone) {
    zone.ticket = 0;
    if (zone.running) return;
    zone.running = true;
    zone.running_notify = std::exchange(zone.notify_at, std::nullopt);
    const auto started = Mono::now();
    const double delay = std::chrono::duration<double>(started - zone.scheduled_for).count();
    round_max_delay_ = std::max(round_max_delay_, delay);
    checker_.check(
        zone.spec,
        [this, ref = ref_of(zone)](ZoneCheckResult result) { on_checked(ref, std::move(result)); },
        zone.status ? instance_sampling(*zone.status) : std::vector<InstanceSampling>{});
}

void Scheduler::on_checked(ZoneRef ref, ZoneCheckResult result) {
    Zone* found = zone_at(ref);
    if (stopped_ || !found) return;
    Zone& zone = *found;
    const std::string& name = zone.name;
    zone.running = false;
    result.change_signal = zone.running_notify;
    zone.running_notify.reset();

    auto status =
        std::make_shared<ZoneStatus>(evaluate(zone.status.get(), result, verdict_policy(global_)));
    if (status->rolled_back_from && status->reference_serial)
        log::warn("reference serial moved back: every nameserver answered the older serial for " +
                      std::to_string(kReferenceRollbackRounds) + " checks in a row",
                  {{"zone", name},
                   {"from", std::to_string(*status->rolled_back_from)},
                   {"to", std::to_string(*status->reference_serial)}});
    const auto now = Mono::now();

    // Keep re-probing fast while a new serial is on its way to some address.
    const bool reference_moved =
        zone.status && status->reference_serial != zone.status->reference_serial;
    if (reference_moved) {
        if (!zone.fast_until) zone.fast_until = now + global_.fast_reprobe_limit;
        zone.fast_step = 0;  // the backoff starts again for the new serial
    }
    bool pending = false;
    for (const auto& s : status->servers)
        if (s.propagation_pending_since) pending = true;
    if (zone.fast_until && (!pending || now >= *zone.fast_until) && !reference_moved &&
        !zone.recheck_after_run)
        zone.fast_until.reset();
    status->fast_reprobe = zone.fast_until.has_value();
    status->evaluated_verdict = status->verdict;
    status->evaluated_reasons = status->reasons.size();
    apply_audits(zone, *status);

    if (observer_) observer_(result, *status);
    checker_.recycle(std::move(result));  // evaluated and observed: its buffers serve the next
    zone.status = status;
    store_.publish(zone.store_slot, status);
    maybe_audit(zone);
    maybe_check_delegation(zone);
    ++stats_.checks_total;

    // Round bookkeeping: a regular check advances the zone's slot.
    const bool regular = now >= zone.next_due || zone.round == 0;
    if (regular) {
        // The zone's slot, not first check + interval: the first round is squeezed into a few
        // seconds (for /readyz), and an overrun must not turn into a burst.
        const auto unix_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
                .count();
        zone.next_due =
            now + slot_delay(zone.name_hash,
                             std::chrono::duration_cast<std::chrono::milliseconds>(zone.interval),
                             unix_ms);
        const bool first_this_round = zone.round != round_;
        zone.round = round_;
        if (first_this_round && ++checked_this_round_ >= zones_.size()) {
            stats_.last_cycle_seconds = std::chrono::duration<double>(now - round_started_).count();
            stats_.max_check_delay_seconds = round_max_delay_;
            round_max_delay_ = 0;
            checked_this_round_ = 0;
            ++round_;
            round_started_ = now;
            if (!first_round_done_) {
                first_round_done_ = true;
                const std::string zones = std::to_string(zones_.size());
                const std::string seconds = std::to_string(stats_.last_cycle_seconds);
                if (loops_ > 1)
                    log::info("first round of checks done", {{"zones", zones},
                                                             {"seconds", seconds},
                                                             {"loop", std::to_string(loop_index_)},
                                                             {"loops", std::to_string(loops_)}});
                else
                    log::info("first round of checks done",
                              {{"zones", zones}, {"seconds", seconds}});
            }
        }
    }

    auto when = zone.next_due;
    if (zone.recheck_after_run) {
        zone.recheck_after_run = false;
        when = now;
    } else if (zone.fast_until) {
        const Duration delay = fast_reprobe_delay(
            zone.fast_step++, global_.fast_reprobe_initial_interval, global_.fast_reprobe_interval);
        when = std::min(when, now + std::chrono::duration_cast<Mono::duration>(delay));
    }
    schedule(zone, when);
    if (held_back_ && checker_.queries_queued() < kMaxQueuedProbes) {
        // Room in the queues again: the held checks start at the end of this pass of the loop
        // (the timer's; not from inside the answer's callback).
        held_back_ = false;
        arm_wake();
    }
    publish_stats();
}

void Scheduler::maybe_audit(Zone& zone) {
    if (!auditor_ || !zone.spec.transfer_check || zone.auditing || !zone.status) return;
    const auto now = Mono::now();
    if (zone.audit_due && now < *zone.audit_due) return;
    zone.auditing = true;
    ++audits_running_;
    zone.audit_due =
        now + std::chrono::duration_cast<Mono::duration>(zone.spec.transfer_check->interval);
    // One TCP request per address, given what one SOA probe of the zone may take in all.
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        zone.spec.probe.timeout * (1 + zone.spec.probe.retries));
    auditor_->audit(*zone.status, *zone.spec.transfer_check, timeout,
                    [this, ref = ref_of(zone)](std::shared_ptr<const TransferAudit> audit) {
                        on_audited(ref, std::move(audit));
                    });
}

void Scheduler::on_audited(ZoneRef ref, std::shared_ptr<const TransferAudit> audit) {
    --audits_running_;
    Zone* found = zone_at(ref);
    if (!found) return;
    Zone& zone = *found;
    zone.auditing = false;
    if (stopped_ || !zone.spec.transfer_check) return;
    zone.audit = std::move(audit);
    republish_with_audits(zone, audit_observer_);
}

void Scheduler::republish_with_audits(Zone& zone, const AuditObserver& observer) {
    if (!zone.status) return;
    // The zone's latest status with the new findings: published now, not at the next check.
    auto status = std::make_shared<ZoneStatus>(*zone.status);
    status->new_propagations.clear();  // counted when that check was published
    apply_audits(zone, *status);
    zone.status = status;
    store_.publish(zone.store_slot, status);
    if (observer) observer(*status);
}

void Scheduler::apply_audits(const Zone& zone, ZoneStatus& status) {
    status.transfer = zone.audit;
    apply_transfer_findings(status);  // resets the reasons to the evaluator's own first
    status.delegation = zone.delegation;
    status.delegation_checked_at = zone.delegation_at;
    apply_delegation_findings(status);
}

void Scheduler::maybe_check_delegation(Zone& zone) {
    if (!delegation_checker_ || !zone.spec.delegation_check || zone.checking_delegation ||
        !zone.status || stopped_)
        return;
    const auto now = Mono::now();
    if (zone.delegation_due && now < *zone.delegation_due) return;
    // The next one at the zone's slot in a grid of the interval, and never sooner than one
    // interval from now: in steady state each zone is checked once per interval, the zones
    // spread over it (a flat load), instead of all together one interval after the first round.
    const auto interval =
        std::chrono::duration_cast<std::chrono::milliseconds>(zone.spec.delegation_check->interval);
    const auto unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    auto delay = slot_delay(zone.name_hash, interval, unix_ms);
    if (delay < interval) delay += interval;
    zone.delegation_due = now + std::chrono::duration_cast<Mono::duration>(delay);
    zone.checking_delegation = true;
    ++audits_running_;
    delegation_queue_.push_back(ref_of(zone));
    start_delegation_checks();
}

void Scheduler::start_delegation_checks() {
    if (starting_delegation_checks_) return;  // the outer call picks up what is left
    starting_delegation_checks_ = true;
    while (delegation_checks_running_ < kMaxDelegationChecks && !delegation_queue_.empty()) {
        const ZoneRef ref = delegation_queue_.front();
        delegation_queue_.pop_front();
        Zone* found = zone_at(ref);
        if (!found) {
            --audits_running_;  // removed while it waited
            continue;
        }
        Zone& zone = *found;
        if (stopped_ || !zone.spec.delegation_check || !zone.status) {
            zone.checking_delegation = false;
            --audits_running_;
            continue;
        }
        ++delegation_checks_running_;
        // The zone's latest check: the addresses it has now, not when it was queued.
        delegation_checker_->check(*zone.status, zone.spec,
                                   [this, ref](std::shared_ptr<const DelegationAudit> audit) {
                                       on_delegation_checked(ref, std::move(audit));
                                   });
    }
    starting_delegation_checks_ = false;
}

void Scheduler::on_delegation_checked(ZoneRef ref, std::shared_ptr<const DelegationAudit> audit) {
    --audits_running_;
    --delegation_checks_running_;
    publish_delegation(ref, std::move(audit));
    start_delegation_checks();
}

void Scheduler::publish_delegation(ZoneRef ref, std::shared_ptr<const DelegationAudit> audit) {
    Zone* found = zone_at(ref);
    if (!found) return;
    Zone& zone = *found;
    zone.checking_delegation = false;
    if (stopped_ || !zone.spec.delegation_check) return;
    zone.delegation = std::move(audit);
    zone.delegation_at = Clock::now();
    republish_with_audits(zone, delegation_observer_);
}

void Scheduler::publish_stats() {
    stats_.zones = zones_.size();
    stats_.first_round_done = first_round_done_;
    if (augment_stats_) augment_stats_(stats_);
    store_.set_stats(stats_);
}

}  // namespace soawatch
