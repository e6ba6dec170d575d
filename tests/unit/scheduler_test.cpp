// The scheduler's rounds on a real event loop, against scripted servers on loopback.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "agent/fast_reprobe.hpp"
#include "agent/scheduler.hpp"
#include "probes/discovery.hpp"
#include "probes/dns_wire.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;
using test::AnswerBuilder;
using test::FakeDnsServer;
using test::FakeQuery;

TEST_CASE("scheduler: the first round ends when every zone was checked, not after N checks",
          "[scheduler]") {
    // fast.test answers at once, slow.test after 2.5 s: with a 1 s interval fast.test has its
    // next regular check before slow.test's first one ends. Counting checks, not zones, would
    // end the first round (and turn /readyz ready) with slow.test never checked.
    FakeDnsServer fast(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().soa(1).build(); });
    FakeDnsServer slow([](const FakeQuery& q) {
        std::this_thread::sleep_for(2500ms);
        return AnswerBuilder(q.wire).aa().soa(1).build();
    });
    const auto text =
        "global: { interval: 1s, timeout: 4s, retries: 0 }\n"
        "zones:\n"
        "  - { name: fast.test, nameservers: [ \"127.0.0.1:" +
        std::to_string(fast.port()) +
        "\" ] }\n"
        "  - { name: slow.test, nameservers: [ \"127.0.0.1:" +
        std::to_string(slow.port()) + "\" ] }\n";
    const Config config = parse_config(text, "test.yml");

    EventLoop loop;
    Discovery discovery(loop, DiscoveryOptions{});
    SoaProber prober(loop);
    ZoneChecker checker(discovery, prober);
    StatusStore store;
    Scheduler scheduler(loop, checker, store, nullptr);
    scheduler.apply(config);

    const auto checks = [&store](const char* zone) {
        const ZoneStatusPtr z = store.zone(zone);
        return z ? z->checks_total : 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    loop.run_until(
        [&] { return checks("fast.test.") >= 2 || std::chrono::steady_clock::now() > deadline; });
    REQUIRE(checks("fast.test.") >= 2);
    CHECK(checks("slow.test.") == 0);
    CHECK_FALSE(scheduler.first_round_done());

    loop.run_until(
        [&] { return checks("slow.test.") >= 1 || std::chrono::steady_clock::now() > deadline; });
    CHECK(checks("slow.test.") == 1);
    CHECK(scheduler.first_round_done());
    scheduler.stop();
}

namespace {

// A zone's server for scheduler tests: answers the serial it had when the query came, after
// `delay`, and not before the test lets it go while `hold` is set (one query at a time: the
// fake server has one thread). `seen` counts the queries whose serial was taken.
struct SerialServer {
    std::atomic<uint32_t> serial{1};
    std::atomic<int> delay_ms{0};
    std::atomic<bool> hold{false};
    std::atomic<int> seen{0};
    FakeDnsServer server{[this](const FakeQuery& q) {
        const uint32_t answer = serial.load();
        ++seen;
        while (hold.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
        return AnswerBuilder(q.wire).aa().soa(answer).build();
    }};
    ~SerialServer() { hold = false; }  // before the server's thread is joined
    std::string address() const { return "\"127.0.0.1:" + std::to_string(server.port()) + "\""; }
};

// The agent's loop-side pieces around one scheduler, with every check's result recorded.
struct SchedulerRig {
    EventLoop loop;
    Discovery discovery{loop, DiscoveryOptions{}};
    SoaProber prober{loop};
    ZoneChecker checker{discovery, prober};
    StatusStore store;
    std::vector<std::pair<ZoneCheckResult, ZoneStatus>> checks;
    std::size_t max_queued = 0;  // SOA probes waiting behind in-flight caps, seen at each check
    Scheduler scheduler{loop, checker, store,
                        [this](const ZoneCheckResult& r, const ZoneStatus& z) {
                            checks.emplace_back(r, z);
                            max_queued = std::max(max_queued, prober.queued());
                        }};
    SchedulerRig() { scheduler.set_first_round_window(EventLoop::Clock::duration::zero()); }
    ~SchedulerRig() { scheduler.stop(); }

    std::size_t checks_of(const std::string& zone) const {
        std::size_t n = 0;
        for (const auto& [r, z] : checks) n += r.zone == zone;
        return n;
    }
    // Runs the loop until `done` holds or `limit` passes (a bound against hangs, not a timing
    // assertion): returns whether `done` held.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
        bool expired = false;
        const auto timer = loop.add_timer(limit, [&] { expired = true; });
        loop.run_until([&] { return done() || expired; });
        loop.cancel_timer(timer);
        return done();
    }
    // Runs `then` on the loop as soon as `ready` holds (polled every 5 ms by a loop timer: the
    // loop does not wake when a fake server's thread changes something).
    void once(const std::function<bool()>& ready, const std::function<void()>& then) {
        loop.add_timer(5ms, [this, ready, then] {
            if (ready()) {
                then();
            } else {
                once(ready, then);
            }
        });
    }
    void run_for(std::chrono::milliseconds span) {
        bool over = false;
        loop.add_timer(span, [&] { over = true; });
        loop.run_until([&] { return over; });
    }
};

std::string zone_yaml(const std::string& name, const std::vector<const SerialServer*>& servers) {
    std::string list;
    for (const auto* s : servers) list += (list.empty() ? "" : ", ") + s->address();
    return "  - { name: " + name + ", nameservers: [ " + list + " ] }\n";
}

}  // namespace

TEST_CASE("scheduler: fast re-probing starts on a new serial and stops when all have it",
          "[scheduler]") {
    SerialServer a, b;
    SchedulerRig rig;
    rig.scheduler.apply(parse_config(
        "global: { interval: 1h, timeout: 1s, retries: 0, fast_reprobe_interval: 100ms }\n"
        "zones:\n" +
            zone_yaml("z.test", {&a, &b}),
        "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 1; }));
    CHECK_FALSE(rig.checks.back().second.fast_reprobe);

    // a has the new serial, b not yet: a NOTIFY starts a check, then fast re-probes follow.
    a.serial = 2;
    REQUIRE(rig.scheduler.notify("z.test.", Instant::now()));
    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 4; }));
    CHECK(rig.checks.back().second.reference_serial == 2u);
    CHECK(rig.checks.back().second.fast_reprobe);

    // b catches up: the next check sees every server in sync and fast re-probing stops.
    b.serial = 2;
    REQUIRE(rig.run_until([&] { return !rig.checks.back().second.fast_reprobe; }));
    CHECK(rig.checks.back().second.consistent);
    REQUIRE(rig.checks.back().second.new_propagations.size() == 1);
    CHECK(rig.checks.back().second.new_propagations[0].address == "127.0.0.1");
    const auto settled = rig.checks_of("z.test.");
    rig.run_for(600ms);  // six fast intervals: no check comes (the next is an hour away)
    CHECK(rig.checks_of("z.test.") == settled);
}

TEST_CASE("scheduler: fast re-probing gives up after fast_reprobe_limit", "[scheduler]") {
    SerialServer a, b;
    SchedulerRig rig;
    rig.scheduler.apply(
        parse_config("global: { interval: 1h, timeout: 1s, retries: 0, "
                     "fast_reprobe_interval: 100ms, fast_reprobe_limit: 1s }\n"
                     "zones:\n" +
                         zone_yaml("z.test", {&a, &b}),
                     "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 1; }));
    a.serial = 2;  // b never catches up
    REQUIRE(rig.scheduler.notify("z.test.", Instant::now()));
    REQUIRE(rig.run_until(
        [&] { return rig.checks.size() > 2 && !rig.checks.back().second.fast_reprobe; }));
    CHECK(rig.checks.back().second.reference_serial == 2u);
    CHECK_FALSE(rig.checks.back().second.consistent);
    const auto stopped = rig.checks_of("z.test.");
    CHECK(stopped >= 3);
    rig.run_for(600ms);
    CHECK(rig.checks_of("z.test.") == stopped);
}

TEST_CASE("scheduler: fast re-probe waits double from the initial interval up to the interval",
          "[scheduler]") {
    const std::vector<Duration> waits{50ms, 100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s};
    for (std::size_t step = 0; step < waits.size(); ++step)
        CHECK(fast_reprobe_delay(step, 50ms, 1s) == waits[step]);
    // The bound on the checks the backoff adds per propagation: the waits shorter than 1 s.
    CHECK(fast_reprobe_backoff_checks(50ms, 1s) == 5);
    CHECK(fast_reprobe_backoff_checks(10ms, 1s) == 7);
    CHECK(fast_reprobe_delay(6, 10ms, 1s) == 640ms);
    // initial == interval is the fixed schedule: no backoff, nothing added.
    CHECK(fast_reprobe_backoff_checks(1s, 1s) == 0);
    for (std::size_t step = 0; step < 4; ++step) CHECK(fast_reprobe_delay(step, 1s, 1s) == 1s);
    CHECK(fast_reprobe_delay(1000, 10ms, 30s) == 30s);  // no overflow however long it runs
}

TEST_CASE("scheduler: fast re-probing backs off, and the limit stops it", "[scheduler]") {
    // b never catches up. After the NOTIFY's check, re-probes wait 50, 100, 200, 400, 800 ms:
    // the one at about 1.55 s is past the 1 s limit and stops it. The fixed 1 s schedule
    // (initial == interval) has one re-probe in the same limit.
    const auto fast_checks = [](const std::string& initial) {
        SerialServer a, b;
        SchedulerRig rig;
        rig.scheduler.apply(parse_config(
            "global: { interval: 1h, timeout: 1s, retries: 0, fast_reprobe_interval: 1s, "
            "fast_reprobe_limit: 1s, fast_reprobe_initial_interval: " +
                initial + " }\nzones:\n" + zone_yaml("z.test", {&a, &b}),
            "test.yml"));
        REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 1; }));
        a.serial = 2;
        REQUIRE(rig.scheduler.notify("z.test.", Instant::now()));
        REQUIRE(rig.run_until(
            [&] { return rig.checks.size() > 1 && !rig.checks.back().second.fast_reprobe; }));
        CHECK(rig.checks.back().second.reference_serial == 2u);
        const auto stopped = rig.checks_of("z.test.");
        rig.run_for(1200ms);  // past the next fast wait: none comes
        CHECK(rig.checks_of("z.test.") == stopped);
        return stopped - 1;  // the checks from the NOTIFY on
    };
    const std::size_t backoff = fast_checks("50ms");
    // The NOTIFY's check, then the re-probes inside the limit (a slow machine can push the
    // fifth one past it) and the one that ends it: at most 1 + 5 + 1.
    CHECK(backoff >= 5);
    CHECK(backoff <= 1 + fast_reprobe_backoff_checks(50ms, 1s) + 1);
    CHECK(fast_checks("1s") == 2);
}

TEST_CASE("scheduler: a serial that arrives soon after the NOTIFY is timed by the short waits",
          "[scheduler]") {
    SerialServer a, b;
    SchedulerRig rig;
    rig.scheduler.apply(
        parse_config("global: { interval: 1h, timeout: 1s, retries: 0, fast_reprobe_interval: 1s }"
                     "\nzones:\n" +
                         zone_yaml("z.test", {&a, &b}),
                     "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 1; }));
    a.serial = 2;
    REQUIRE(rig.scheduler.notify("z.test.", Instant::now()));
    // b transfers the new serial 100 ms after the NOTIFY. With a fixed 1 s schedule the first
    // re-probe that can see it comes a whole second after the NOTIFY's check.
    rig.loop.add_timer(100ms, [&] { b.serial = 2; });
    REQUIRE(rig.run_until(
        [&] { return rig.checks.size() > 1 && !rig.checks.back().second.fast_reprobe; }));
    const auto& last = rig.checks.back().second;
    CHECK(last.consistent);
    REQUIRE(last.new_propagations.size() == 1);
    CHECK(last.new_propagations[0].seconds >= 0.1);
    CHECK(last.new_propagations[0].seconds < 1.0);
}

TEST_CASE("scheduler: a NOTIFY during a running check starts another that carries it",
          "[scheduler]") {
    SerialServer a, b;
    a.hold = true;  // the first check's answers wait for the NOTIFY
    b.hold = true;
    SchedulerRig rig;
    rig.scheduler.apply(parse_config("global: { interval: 1h, timeout: 5s, retries: 0 }\nzones:\n" +
                                         zone_yaml("z.test", {&a, &b}),
                                     "test.yml"));
    // Both servers took serial 1 for the first check, which is held: the primary announces 2.
    Instant notified;
    std::optional<std::size_t> checks_at_notify;
    bool handed = false;
    rig.once([&] { return a.seen == 1 && b.seen == 1; },
             [&] {
                 checks_at_notify = rig.checks.size();
                 a.serial = 2;
                 b.serial = 2;
                 notified = Instant::now();
                 handed = rig.scheduler.notify("z.test.", notified);
                 a.hold = false;
                 b.hold = false;
             });
    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 2; }));
    CHECK(handed);
    CHECK(checks_at_notify == 0u);
    CHECK(a.server.udp_queries() == 2);
    // The running check answered 1 (its queries left before the NOTIFY) and does not consume
    // it; the check that follows at once sees 2 and times propagation from the NOTIFY.
    CHECK_FALSE(rig.checks[0].first.change_signal.has_value());
    CHECK(rig.checks[0].second.reference_serial == 1u);
    REQUIRE(rig.checks[1].first.change_signal.has_value());
    CHECK(rig.checks[1].first.change_signal->mono == notified.mono);
    CHECK(rig.checks[1].second.reference_serial == 2u);
    CHECK(rig.checks[1].second.new_propagations.size() == 2);
}

TEST_CASE("scheduler: a reload adds, removes and changes zones while checks are in flight",
          "[scheduler]") {
    SerialServer a, b, c;
    a.hold = true;  // no answer before the reload
    b.hold = true;
    a.delay_ms = 50;
    b.delay_ms = 50;
    c.serial = 5;
    SchedulerRig rig;
    const std::string global = "global: { interval: 1h, timeout: 5s, retries: 0 }\nzones:\n";
    rig.scheduler.apply(parse_config(global + zone_yaml("kept.test", {&a, &b}) +
                                         zone_yaml("removed.test", {&a, &b}) +
                                         zone_yaml("changed.test", {&a, &b}),
                                     "test.yml"));
    // The reload comes with every first check out (a and b hold the first query each, the
    // others wait behind it) and none back; then the servers answer.
    std::optional<std::size_t> checks_at_reload;
    rig.once([&] { return a.seen >= 1 && b.seen >= 1; },
             [&] {
                 checks_at_reload = rig.checks.size();
                 rig.scheduler.apply(parse_config(global + zone_yaml("kept.test", {&a, &b}) +
                                                      zone_yaml("changed.test", {&c}) +
                                                      zone_yaml("added.test", {&c}),
                                                  "test.yml"));
                 a.hold = false;
                 b.hold = false;
             });
    REQUIRE(rig.run_until([&] {
        return rig.checks_of("kept.test.") >= 1 && rig.checks_of("added.test.") >= 1 &&
               rig.store.zone("changed.test.") &&
               rig.store.zone("changed.test.")->reference_serial == 5u;
    }));
    CHECK(checks_at_reload == 0u);
    rig.run_for(500ms);  // a has answered every query it had by now (3 x 50 ms, one at a time)
    CHECK(a.server.udp_queries() == 3);  // the removed zone's query was out, and was answered
    CHECK(rig.checks_of("removed.test.") == 0);  // its check in flight published nothing
    CHECK(rig.store.zone("removed.test.") == nullptr);
    CHECK(rig.store.zone("kept.test.")->reference_serial == 1u);
    CHECK(rig.store.zone("added.test.")->reference_serial == 5u);
    // The changed zone's check in flight (old servers) may publish once; the next uses c only.
    const auto& changed = *rig.store.zone("changed.test.");
    REQUIRE(changed.servers.size() == 1);
    CHECK(changed.servers[0].target->port == c.server.port());
    CHECK(rig.scheduler.zone_count() == 3);
}

TEST_CASE("scheduler: a zone added in a removed zone's place gets none of its late answers",
          "[scheduler]") {
    // Checks find their zone by its place in the scheduler and a generation: a zone added after
    // another was removed takes the free place, and the removed zone's check still in flight
    // must not be taken for the new zone's.
    SerialServer a, c;
    a.hold = true;
    a.serial = 1;
    c.serial = 5;
    SchedulerRig rig;
    const std::string global = "global: { interval: 1h, timeout: 5s, retries: 0 }\nzones:\n";
    rig.scheduler.apply(parse_config(global + zone_yaml("old.test", {&a}), "test.yml"));
    REQUIRE(rig.run_until([&] { return a.seen >= 1; }));
    rig.scheduler.apply(parse_config(global + zone_yaml("other.test", {&c}), "test.yml"));
    rig.scheduler.apply(parse_config(
        global + zone_yaml("other.test", {&c}) + zone_yaml("new.test", {&c}), "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.checks_of("new.test.") >= 1; }));
    a.hold = false;  // the removed zone's answer (serial 1) comes in now
    rig.run_for(300ms);
    CHECK(a.server.udp_queries() == 1);
    CHECK(rig.checks_of("old.test.") == 0);
    CHECK(rig.checks_of("new.test.") == 1);
    REQUIRE(rig.store.zone("new.test."));
    CHECK(rig.store.zone("new.test.")->reference_serial == 5u);
    CHECK(rig.store.zone("old.test.") == nullptr);
    CHECK(rig.store.snapshot()->zones.size() == 2);
}
TEST_CASE("scheduler: slots spread zones evenly over the interval", "[scheduler]") {
    // 6,000 zone names, one interval of 60 s in 10 buckets: each holds 600 +- 25 %.
    const std::chrono::milliseconds interval = 60s;
    const int64_t now = 1'800'000'000'000;
    std::array<int, 10> buckets{};
    for (int i = 0; i < 6000; ++i) {
        const auto delay = next_slot_delay("zone" + std::to_string(i) + ".example.", interval, now);
        REQUIRE(delay >= interval / 2);
        REQUIRE(delay < interval / 2 + interval);
        const int64_t at = (now + delay.count()) % interval.count();  // position in the period
        ++buckets[static_cast<std::size_t>(at * 10 / interval.count())];
    }
    for (int n : buckets) {
        CHECK(n > 450);
        CHECK(n < 750);
    }
}

TEST_CASE("scheduler: the transfer audit runs with the first check, then once per its interval",
          "[scheduler][transfer]") {
    // Checks every second, the audit every minute: over several checks, one AXFR.
    std::atomic<int> axfrs{0};
    FakeDnsServer server([&axfrs](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        if (q.tcp && !parsed.message.questions.empty() && parsed.message.questions[0].type == 252) {
            ++axfrs;
            return AnswerBuilder(q.wire).rcode(dns::rcode::REFUSED).build();
        }
        return AnswerBuilder(q.wire).aa().soa(1).build();
    });
    const auto text =
        "global: { interval: 1s, timeout: 1s, retries: 0, transfer_check: { "
        "interval: 1m } }\n"
        "zones:\n"
        "  - { name: audited.test, nameservers: [ \"127.0.0.1:" +
        std::to_string(server.port()) +
        "\" ] }\n"
        "  - { name: plain.test, nameservers: [ \"127.0.0.1:" +
        std::to_string(server.port()) + "\" ], transfer_check: { enabled: false } }\n";
    const Config config = parse_config(text, "test.yml");

    EventLoop loop;
    Discovery discovery(loop, DiscoveryOptions{});
    SoaProber prober(loop);
    ZoneChecker checker(discovery, prober);
    TransferProber transfer_prober(loop);
    TransferAuditor auditor(transfer_prober);
    StatusStore store;
    Scheduler scheduler(loop, checker, store, nullptr);
    int audits_observed = 0;
    scheduler.set_transfer_auditor(&auditor, [&](const ZoneStatus&) { ++audits_observed; });
    scheduler.set_first_round_window(EventLoop::Clock::duration::zero());
    scheduler.apply(config);

    const auto deadline = std::chrono::steady_clock::now() + 15s;
    loop.run_until([&] {
        const ZoneStatusPtr z = store.zone("audited.test.");
        return (z && z->checks_total >= 4) || std::chrono::steady_clock::now() > deadline;
    });
    const ZoneStatusPtr audited = store.zone("audited.test.");
    REQUIRE(audited);
    CHECK(audited->checks_total >= 4);
    CHECK(axfrs == 1);
    CHECK(audits_observed == 1);
    REQUIRE(audited->transfer);
    REQUIRE(audited->transfer->axfr.size() == 1);
    CHECK(audited->transfer->axfr[0].result == TransferResult::refused);
    CHECK(audited->verdict == audited->evaluated_verdict);  // refused: no finding
    CHECK(audited->reasons.size() == audited->evaluated_reasons);
    const ZoneStatusPtr plain = store.zone("plain.test.");
    REQUIRE(plain);
    CHECK_FALSE(plain->transfer);
    scheduler.stop();
}

// The scheduler with a delegation checker, for the tests of the delegation check: `observed`
// runs when a zone's delegation check is published.
struct DelegationRig {
    EventLoop loop;
    Discovery discovery;
    SoaProber prober{loop};
    ZoneChecker checker{discovery, prober};
    DelegationProber delegation_prober{loop};
    DelegationChecker delegation_checker{discovery, delegation_prober};
    StatusStore store;
    Scheduler scheduler{loop, checker, store, nullptr};

    explicit DelegationRig(const std::function<void(const ZoneStatus&)>& observed,
                           DiscoveryOptions discovery_options = {})
        : discovery(loop, std::move(discovery_options)) {
        scheduler.set_delegation_checker(&delegation_checker, observed);
        scheduler.set_first_round_window(EventLoop::Clock::duration::zero());
    }
    ~DelegationRig() { scheduler.stop(); }
};

TEST_CASE("scheduler: the delegation check runs with the first check, then once per its interval",
          "[scheduler][delegation]") {
    // Checks every second, the delegation check every minute: over several checks, one NS query
    // to the zone's server and one to its configured parent; none to the resolver (the zone's
    // nameservers are addresses: the check makes no resolver query either).
    std::atomic<int> zone_ns{0}, parent_ns{0}, resolver_queries{0};
    const auto ns_query = [](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        return !parsed.message.questions.empty() &&
               parsed.message.questions[0].type == dns::rrtype::NS;
    };
    const std::vector<uint8_t> ns1 = dns::encode_name("ns1.example.");
    FakeDnsServer server([&](const FakeQuery& q) {
        if (ns_query(q)) {
            ++zone_ns;
            return AnswerBuilder(q.wire).aa().record(dns::rrtype::NS, ns1).build();
        }
        return AnswerBuilder(q.wire).aa().soa(1).build();
    });
    FakeDnsServer parent([&](const FakeQuery& q) {
        if (ns_query(q)) ++parent_ns;
        // A referral to the same one name: the parent and the zone agree.
        return AnswerBuilder(q.wire).record(dns::rrtype::NS, ns1, 1).build();
    });
    FakeDnsServer resolver([&](const FakeQuery& q) {
        ++resolver_queries;
        return AnswerBuilder(q.wire).rcode(dns::rcode::SERVFAIL).build();
    });
    const auto at = [](const FakeDnsServer& s) {
        return "\"127.0.0.1:" + std::to_string(s.port()) + "\"";
    };
    const auto text =
        "global: { interval: 1s, timeout: 1s, retries: 0, delegation_check: { "
        "interval: 1m } }\n"
        "zones:\n"
        "  - { name: checked.test, nameservers: [ " +
        at(server) + " ], parent_nameservers: [ " + at(parent) +
        " ] }\n"
        "  - { name: plain.test, nameservers: [ " +
        at(server) + " ], delegation_check: { enabled: false } }\n";
    const Config config = parse_config(text, "test.yml");

    DiscoveryOptions discovery_options;
    discovery_options.resolvers = {{"127.0.0.1", resolver.port()}};
    int checks_observed = 0;
    DelegationRig rig([&](const ZoneStatus&) { ++checks_observed; }, discovery_options);
    auto& loop = rig.loop;
    auto& store = rig.store;
    rig.scheduler.apply(config);

    const auto deadline = std::chrono::steady_clock::now() + 15s;
    loop.run_until([&] {
        const ZoneStatusPtr z = store.zone("checked.test.");
        return (z && z->checks_total >= 4) || std::chrono::steady_clock::now() > deadline;
    });
    const ZoneStatusPtr checked = store.zone("checked.test.");
    REQUIRE(checked);
    CHECK(checked->checks_total >= 4);
    CHECK(zone_ns == 1);
    CHECK(parent_ns == 1);
    CHECK(resolver_queries == 0);
    CHECK(checks_observed == 1);
    REQUIRE(checked->delegation);
    REQUIRE(checked->delegation->parent_ns);
    CHECK(*checked->delegation->parent_ns == std::vector<std::string>{"ns1.example."});
    // One name at both sides: too few at each, the only findings, in the reasons (the verdict
    // is the evaluator's CRITICAL already: one usable nameserver of the two required).
    REQUIRE(checked->delegation->findings.size() == 2);
    CHECK(checked->delegation->has(DelegationProblem::too_few_ns));
    CHECK(checked->verdict == Verdict::critical);
    CHECK(checked->reasons.size() == checked->evaluated_reasons + 2);
    const ZoneStatusPtr plain = store.zone("plain.test.");
    REQUIRE(plain);
    CHECK_FALSE(plain->delegation);
    rig.scheduler.stop();
}

TEST_CASE("scheduler: zones whose delegation checks found the same share one audit",
          "[scheduler][delegation]") {
    // Zones of one operator on the same servers: one audit for all (memory at 100,000 zones),
    // each zone with its own time of the check.
    const auto ns_query = [](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        return !parsed.message.questions.empty() &&
               parsed.message.questions[0].type == dns::rrtype::NS;
    };
    const std::vector<uint8_t> ns1 = dns::encode_name("ns1.example.");
    const std::vector<uint8_t> ns2 = dns::encode_name("ns2.example.");
    FakeDnsServer server([&](const FakeQuery& q) {
        if (ns_query(q))
            return AnswerBuilder(q.wire)
                .aa()
                .record(dns::rrtype::NS, ns1)
                .record(dns::rrtype::NS, ns2)
                .build();
        return AnswerBuilder(q.wire).aa().soa(1).build();
    });
    FakeDnsServer parent([&](const FakeQuery& q) {
        return AnswerBuilder(q.wire)
            .record(dns::rrtype::NS, ns1, 1)
            .record(dns::rrtype::NS, ns2, 1)
            .build();
    });
    const auto at = [](const FakeDnsServer& s) {
        return "\"127.0.0.1:" + std::to_string(s.port()) + "\"";
    };
    std::string text = "global: { interval: 1h, timeout: 1s, retries: 0 }\nzones:\n";
    for (const char* name : {"a.test", "b.test", "c.test"})
        text += std::string("  - { name: ") + name + ", nameservers: [ " + at(server) +
                " ], parent_nameservers: [ " + at(parent) + " ] }\n";
    const Config config = parse_config(text, "test.yml");

    int checked = 0;
    DelegationRig rig([&](const ZoneStatus&) { ++checked; });
    auto& loop = rig.loop;
    auto& store = rig.store;
    const auto before = Clock::now();
    rig.scheduler.apply(config);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    loop.run_until([&] { return checked == 3 || std::chrono::steady_clock::now() > deadline; });
    REQUIRE(checked == 3);
    const ZoneStatusPtr a = store.zone("a.test."), b = store.zone("b.test."),
                        c = store.zone("c.test.");
    REQUIRE((a && b && c));
    REQUIRE(a->delegation);
    CHECK(a->delegation->findings.empty());
    CHECK(a->delegation == b->delegation);
    CHECK(a->delegation == c->delegation);
    for (const auto& z : {a, b, c}) {
        REQUIRE(z->delegation_checked_at);
        CHECK(*z->delegation_checked_at >= before);
    }
    rig.scheduler.stop();
}

TEST_CASE("scheduler: more zones due at once than one pass starts are all checked once",
          "[scheduler]") {
    // The first round of `soawatch check` has every zone due at once: they start
    // kMaxChecksPerPass at a time, the loop reading answers between passes, and none is lost.
    SerialServer server;
    std::string text = "global: { interval: 1h, timeout: 2s, retries: 1 }\nzones:\n";
    const std::size_t zones = 3 * Scheduler::kMaxChecksPerPass + 7;
    for (std::size_t i = 0; i < zones; ++i)
        text += zone_yaml("z" + std::to_string(i) + ".test", {&server});
    SchedulerRig rig;
    rig.scheduler.apply(parse_config(text, "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.scheduler.first_round_done(); }));
    CHECK(rig.checks.size() == zones);
    for (std::size_t i = 0; i < zones; ++i)
        CHECK(rig.checks_of("z" + std::to_string(i) + ".test.") == 1);
}

TEST_CASE("scheduler: due checks wait while probes queue behind a server's in-flight cap",
          "[scheduler]") {
    // 300 zones due at once on one address that takes 2 queries at a time: without
    // back-pressure each pass would start 64 more checks whatever the queue, up to ~300 probes
    // waiting; with it, a pass starts only while fewer than kMaxQueuedProbes wait. The server
    // takes 1 ms per answer, so the loop starts checks far faster than they finish.
    SerialServer server;
    server.delay_ms = 1;
    std::string text = "global: { interval: 1h, timeout: 5s, retries: 0 }\nzones:\n";
    const std::size_t zones = 300;
    for (std::size_t i = 0; i < zones; ++i)
        text += zone_yaml("z" + std::to_string(i) + ".test", {&server});
    SchedulerRig rig;
    rig.prober.set_max_inflight(2);
    rig.scheduler.apply(parse_config(text, "test.yml"));
    REQUIRE(rig.run_until([&] { return rig.scheduler.first_round_done(); }));
    CHECK(rig.checks.size() == zones);
    for (std::size_t i = 0; i < zones; ++i)
        CHECK(rig.checks_of("z" + std::to_string(i) + ".test.") == 1);
    CHECK(rig.max_queued > 0);
    CHECK(rig.max_queued < Scheduler::kMaxQueuedProbes + Scheduler::kMaxChecksPerPass);
    CHECK(rig.prober.queued() == 0);
}

TEST_CASE("scheduler: a held-back check starts when its hold ends; a NOTIFY never waits",
          "[scheduler]") {
    // held.test's server takes one query at a time and answers none while `hold` is set: its
    // 140 zones fill the queue. n.test and z.test, on another server, are due with them: z.test
    // waits out kMaxQueueHold (a slow server delays other zones by that much, no more); n.test,
    // NOTIFY'd, starts at once.
    SerialServer held;
    SerialServer free;
    held.hold = true;
    std::string text = "global: { interval: 1h, timeout: 20s, retries: 0 }\nzones:\n";
    for (int i = 0; i < 140; ++i) text += zone_yaml("a" + std::to_string(i) + ".test", {&held});
    text += zone_yaml("n.test", {&free});
    text += zone_yaml("z.test", {&free});
    SchedulerRig rig;
    rig.prober.set_max_inflight(1);
    const auto start = std::chrono::steady_clock::now();
    rig.scheduler.apply(parse_config(text, "test.yml"));
    REQUIRE(rig.scheduler.notify("n.test.", Instant::now()));
    REQUIRE(rig.run_until([&] { return rig.checks_of("n.test.") == 1; }));
    CHECK(rig.checks_of("z.test.") == 0);
    CHECK(rig.prober.queued() >= Scheduler::kMaxQueuedProbes);

    REQUIRE(rig.run_until([&] { return rig.checks_of("z.test.") == 1; }));
    CHECK(std::chrono::steady_clock::now() - start >= Scheduler::kMaxQueueHold);
    CHECK(held.seen.load() == 1);  // still holding its first query: z.test did not wait for it
    held.hold = false;
    REQUIRE(rig.run_until([&] { return rig.scheduler.first_round_done(); }));
    CHECK(rig.checks.size() == 142);
}

TEST_CASE("zone check: the hidden primary is probed while the zone's NS lookup is on the wire",
          "[scheduler]") {
    // The primary's address is configured: its probe does not wait for discovery. The resolver
    // answers only once the primary has been asked (or after 2 s, when the check would have
    // probed it only after discovery).
    std::atomic<bool> primary_asked{false};
    std::atomic<bool> primary_first{false};
    FakeDnsServer primary([&](const FakeQuery& q) {
        primary_asked = true;
        return AnswerBuilder(q.wire).aa().soa(7).build();
    });
    FakeDnsServer resolver([&](const FakeQuery& q) {
        const auto until = std::chrono::steady_clock::now() + 2s;
        while (!primary_asked && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(1ms);
        primary_first = primary_asked.load();
        return AnswerBuilder(q.wire).build();  // no NS records
    });
    EventLoop loop;
    DiscoveryOptions options;
    options.resolvers = {{"127.0.0.1", resolver.port()}};
    options.tries = 1;
    options.timeout = 4s;
    Discovery discovery(loop, options);
    SoaProber prober(loop);
    ZoneChecker checker(discovery, prober);
    ZoneCheckSpec spec;
    spec.zone = "p.test.";
    spec.primary = Endpoint{"127.0.0.1", primary.port()};
    std::optional<ZoneCheckResult> result;
    checker.check(spec, [&](ZoneCheckResult r) { result = std::move(r); });
    loop.run_until([&] { return result.has_value(); });
    CHECK(primary_first);
    REQUIRE(result->primary);
    REQUIRE(result->primary->soa);
    CHECK(result->primary->soa->serial == 7u);
    CHECK(result->observations.empty());
    CHECK(result->discovery_error.find("no NS records") != std::string::npos);
}

TEST_CASE("scheduler: delegation checks wait in a queue, a bounded number at once",
          "[scheduler][delegation]") {
    // 100 zones on four servers come due together with the first round; the servers never
    // answer the NS query. At most kMaxDelegationChecks zones' queries are out at a time (the
    // prober's own cap is per address: four addresses would allow four times as many); the
    // others wait (memory and load stay bounded) and run as those time out, until every zone
    // was checked.
    std::atomic<int> ns_queries{0};
    const test::FakeScript script = [&](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        if (!parsed.message.questions.empty() &&
            parsed.message.questions[0].type == dns::rrtype::NS) {
            ++ns_queries;
            return std::vector<uint8_t>{};  // silence: the check waits for its timeout
        }
        return AnswerBuilder(q.wire).aa().soa(1).build();
    };
    std::vector<std::unique_ptr<FakeDnsServer>> servers;
    servers.reserve(4);
    for (int i = 0; i < 4; ++i) servers.push_back(std::make_unique<FakeDnsServer>(script));
    std::string text =
        "global: { interval: 1h, timeout: 1s, retries: 0, delegation_check: { interval: 1m } "
        "}\nzones:\n";
    constexpr int kZones = 100;
    for (int i = 0; i < kZones; ++i)
        text += "  - { name: z" + std::to_string(i) +
                ".test, nameservers: [ \"127.0.0.1:" + std::to_string(servers[i % 4]->port()) +
                "\" ] }\n";
    const Config config = parse_config(text, "test.yml");

    int published = 0;
    DelegationRig rig([&](const ZoneStatus&) { ++published; });
    auto& loop = rig.loop;
    auto& scheduler = rig.scheduler;
    auto& store = rig.store;
    scheduler.apply(config);

    // The first round, then a moment in which no NS query times out yet.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    loop.run_until([&] {
        return scheduler.first_round_done() || std::chrono::steady_clock::now() > deadline;
    });
    REQUIRE(scheduler.first_round_done());
    CHECK(scheduler.audits_running() == kZones);  // queued or running, all counted
    // A timer wakes the loop (nothing else would before the queries time out), well inside
    // the 1 s timeout; the queries seen then are those of the first batch.
    bool settled = false;
    loop.add_timer(100ms, [&] { settled = true; });
    loop.run_until([&] { return settled; });
    CHECK(ns_queries > 0);
    CHECK(ns_queries <= static_cast<int>(Scheduler::kMaxDelegationChecks));

    deadline = std::chrono::steady_clock::now() + 20s;
    loop.run_until([&] {
        return scheduler.audits_running() == 0 || std::chrono::steady_clock::now() > deadline;
    });
    CHECK(scheduler.audits_running() == 0);
    CHECK(published == kZones);
    CHECK(ns_queries == kZones);
    const ZoneStatusPtr last = store.zone("z99.test.");
    REQUIRE(last);
    REQUIRE(last->delegation);
    REQUIRE(last->delegation->child.size() == 1);
    CHECK(last->delegation->child[0].error == "timeout");
    // Zones with the same answers (z95 and z99: the same server, the same timeout) keep one
    // copy of them; another server's answers are their own.
    const ZoneStatusPtr same = store.zone("z95.test.");
    const ZoneStatusPtr other = store.zone("z98.test.");
    REQUIRE(same);
    REQUIRE(other);
    REQUIRE(same->delegation);
    REQUIRE(other->delegation);
    CHECK(same->delegation->child.shared() == last->delegation->child.shared());
    CHECK(other->delegation->child.shared() != last->delegation->child.shared());
    scheduler.stop();
}
