// The scheduler's rounds on a real event loop, against scripted servers on loopback.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

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
