#include "agent/loop_set.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <utility>

#include "agent/loop_assignment.hpp"

namespace soawatch {

namespace {

DiscoveryOptions discovery_options_of_loop(DiscoveryOptions options, unsigned loops) {
    options.max_inflight = share_of_inflight(options.max_inflight, loops);
    return options;
}

}  // namespace

LoopShard::LoopShard(EventLoop& event_loop, unsigned loops,
                     const DiscoveryOptions& discovery_options, Scheduler::CheckObserver on_checked,
                     Scheduler::AuditObserver on_audited)
    : loop(event_loop),
      discovery(event_loop, discovery_options_of_loop(discovery_options, loops)),
      prober(event_loop),
      checker(discovery, prober),
      transfer_prober(event_loop),
      auditor(transfer_prober),
      delegation_prober(event_loop),
      delegation_checker(discovery, delegation_prober),
      scheduler(event_loop, checker, store, std::move(on_checked)) {
    scheduler.set_transfer_auditor(&auditor, on_audited);
    scheduler.set_delegation_checker(&delegation_checker, std::move(on_audited));
    // The answers to N bursts of 128 at once overflowed Knot and the sockets at 100,000 zones
    // (lost answers, then timeouts, which turned channels "silent" and sent more at once), and
    // N discovery channels of 64 lost answers at a resolver that is also a probed primary (two
    // loops, 10,000 zones: 8-13 datagrams dropped at its receive buffer in 2 of 3 rounds, each
    // a 2 s retry). Split, an address sees at most what one loop was measured with.
    prober.set_max_inflight(share_of_inflight(ChannelOptions{}.max_inflight, loops));
}

std::size_t share_of_inflight(std::size_t one_loop, unsigned loops) {
    return loops > 1 ? std::max<std::size_t>(16, one_loop / loops) : one_loop;
}

void add_loop_stats(AgentStats& total, const AgentStats& loop) {
    total.queries_sent += loop.queries_sent;
    total.queries_inflight += loop.queries_inflight;
    total.checks_total += loop.checks_total;
    total.discovery_errors += loop.discovery_errors;
    total.notify_received += loop.notify_received;
    total.notify_ignored += loop.notify_ignored;
    total.last_cycle_seconds = std::max(total.last_cycle_seconds, loop.last_cycle_seconds);
    total.max_check_delay_seconds =
        std::max(total.max_check_delay_seconds, loop.max_check_delay_seconds);
    total.zones += loop.zones;
    total.first_round_done = total.first_round_done && loop.first_round_done;
}

LoopSet::LoopSet(EventLoop& main_loop, unsigned loops, const DiscoveryOptions& discovery_options,
                 const ObserversFor& observers_for)
    : main_loop_(main_loop) {
    loops = std::max(loops, 1U);
    for (unsigned i = 0; i < loops; ++i) {
        EventLoop* loop = &main_loop_;
        if (i > 0) {
            own_loops_.push_back(std::make_unique<EventLoop>());
            loop = own_loops_.back().get();
        }
        Observers observers = observers_for ? observers_for(i) : Observers{};
        shards_.push_back(std::make_unique<LoopShard>(*loop, loops, discovery_options,
                                                      std::move(observers.on_checked),
                                                      std::move(observers.on_audited)));
        shards_.back()->scheduler.set_loop(i, loops);
    }
    set_stats_augmenter({});
}

LoopSet::~LoopSet() {
    stop();
}

void LoopSet::set_stats_augmenter(const std::function<void(LoopShard&, AgentStats&)>& augment) {
    for (auto& shard : shards_) {
        LoopShard* s = shard.get();
        s->scheduler.set_stats_augmenter([s, augment](AgentStats& stats) {
            if (augment) augment(*s, stats);
            s->first_round_done.store(stats.first_round_done);
        });
    }
}

void LoopSet::start(const std::function<void(LoopShard&)>& body) {
    for (std::size_t i = 1; i < shards_.size(); ++i) {
        LoopShard* s = shards_[i].get();
        threads_.emplace_back([s, body] { body(*s); });
    }
}

void LoopSet::apply(const Config& config) {
    if (shards_.size() == 1) {
        shards_.front()->scheduler.apply(config);
        return;
    }
    // Running loops read the caller's config (a pointer that owns nothing) and are waited for
    // however this returns; a loop that does not run yet applies its part when it starts, from
    // a copy they share.
    const bool running = !threads_.empty();
    const auto source =
        running ? std::shared_ptr<const Config>(std::shared_ptr<const Config>(), &config)
                : std::make_shared<const Config>(config);
    // The other loops never wait for this one, so waiting for them cannot deadlock.
    struct WaitForLoops {
        bool running;
        std::vector<std::future<void>> applied;
        ~WaitForLoops() {
            if (running)
                for (auto& future : applied) future.wait();
        }
    } loops{running, {}};
    auto parts = zones_by_loop(*source, size());
    for (std::size_t i = 1; i < shards_.size(); ++i) {
        LoopShard* s = shards_[i].get();
        auto done = std::make_shared<std::promise<void>>();
        loops.applied.push_back(done->get_future());
        s->loop.post([s, source, part = std::move(parts[i]), done] {
            s->scheduler.apply(*source, part);
            done->set_value();
        });
    }
    shards_.front()->scheduler.apply(*source, parts.front());
    // While the others apply theirs: the names NOTIFYs are routed by.
    zones_.clear();
    zones_.reserve(source->zones.size());
    for (const auto& zone : source->zones) zones_.insert(zone.name);
}

bool LoopSet::notify(const std::string& zone, Instant when) {
    if (shards_.size() == 1) return shards_.front()->scheduler.notify(zone, when);
    if (!zones_.contains(zone)) return false;
    LoopShard* s = shards_[loop_of_zone(zone, size())].get();
    if (s == shards_.front().get()) return s->scheduler.notify(zone, when);
    s->loop.post([s, zone, when] { s->scheduler.notify(zone, when); });
    return true;
}

void LoopSet::on_each_loop(const std::function<void(LoopShard&)>& fn) {
    for (std::size_t i = 1; i < shards_.size(); ++i) {
        LoopShard* s = shards_[i].get();
        s->loop.post([s, fn] { fn(*s); });
    }
    fn(*shards_.front());
}

void LoopSet::set_vantage(const std::string& vantage) {
    for (auto& shard : shards_) shard->store.set_vantage(vantage);
}

SnapshotPtr LoopSet::snapshot() const {
    if (shards_.size() == 1) return shards_.front()->store.snapshot();
    auto merged = std::make_shared<Snapshot>();
    merged->stats.first_round_done = true;
    std::vector<SnapshotPtr> parts;
    std::size_t total = 0;
    for (const auto& shard : shards_) {
        parts.push_back(shard->store.snapshot());
        total += parts.back()->zones.size();
    }
    merged->zones.reserve(total);
    const auto by_name = [](const ZoneStatusPtr& a, const ZoneStatusPtr& b) {
        return a->zone < b->zone;
    };
    for (const auto& part : parts) {
        const auto middle = static_cast<std::ptrdiff_t>(merged->zones.size());
        merged->zones.insert(merged->zones.end(), part->zones.begin(), part->zones.end());
        std::inplace_merge(merged->zones.begin(), merged->zones.begin() + middle,
                           merged->zones.end(), by_name);
        add_loop_stats(merged->stats, part->stats);
    }
    merged->vantage = parts.front()->vantage;  // every loop's store names the same one
    merged->taken = Clock::now();
    return merged;
}

bool LoopSet::first_round_done() const {
    return std::all_of(shards_.begin(), shards_.end(),
                       [](const auto& s) { return s->first_round_done.load(); });
}

void LoopSet::join() {
    for (auto& thread : threads_) thread.join();
    threads_.clear();
}

void LoopSet::stop() {
    if (stopped_) return;
    stopped_ = true;
    for (std::size_t i = 1; i < shards_.size(); ++i) shards_[i]->loop.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    // Every other thread has ended: their schedulers are stopped from here.
    for (auto& shard : shards_) shard->scheduler.stop();
}

}  // namespace soawatch
