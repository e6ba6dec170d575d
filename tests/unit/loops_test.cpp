// Zones sharded across event loops (global.loops): which loop owns a zone, the config split by
// loop on every reload, and the loops at work against a scripted server on loopback.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/config/shard.hpp"
#include "agent/loop_assignment.hpp"
#include "agent/loop_set.hpp"
#include "probes/dns_wire.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;
using test::AnswerBuilder;
using test::FakeDnsServer;
using test::FakeQuery;

namespace {

std::vector<std::string> zone_names(int n, const std::string& suffix = "example.") {
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) names.push_back("zone" + std::to_string(i) + "." + suffix);
    return names;
}

Config config_with(const std::vector<std::string>& names) {
    Config config;
    config.global.interval = 1h;
    for (const auto& name : names) {
        ZoneConfig zone;
        zone.name = name;
        config.zones.push_back(zone);
    }
    return config;
}

std::vector<std::string> names_of(const Config& config) {
    std::vector<std::string> names;
    for (const auto& zone : config.zones) names.push_back(zone.name);
    return names;
}

std::vector<std::string> names_of(const std::vector<const ZoneConfig*>& zones) {
    std::vector<std::string> names;
    names.reserve(zones.size());
    for (const ZoneConfig* zone : zones) names.push_back(zone->name);
    return names;
}

}  // namespace

TEST_CASE("loops: the default is auto, one loop per usable CPU up to 8", "[loops]") {
    CHECK(GlobalConfig{}.loops == kLoopsAuto);
    CHECK(Config{}.global.loops == kLoopsAuto);
    CHECK(loops_to_run(kLoopsAuto, 1) == 1);
    CHECK(loops_to_run(kLoopsAuto, 2) == 2);
    CHECK(loops_to_run(kLoopsAuto, 8) == 8);
    CHECK(loops_to_run(kLoopsAuto, 64) == kMaxAutoLoops);
    CHECK(loops_to_run(kLoopsAuto, 0) == 1);
    // A number is taken as it is, whatever the CPUs.
    CHECK(loops_to_run(1, 16) == 1);
    CHECK(loops_to_run(12, 2) == 12);
    // On this host: at least one, at most the cap.
    CHECK(loops_to_run(kLoopsAuto) >= 1);
    CHECK(loops_to_run(kLoopsAuto) <= kMaxAutoLoops);
}

TEST_CASE("loops: each loop's channels take a share of the in-flight limit per address",
          "[loops]") {
    // Together no more than one loop's, up to kMaxAutoLoops (past it the floor of 16 would add up
    // to more).
    for (unsigned loops = 1; loops <= kMaxAutoLoops; ++loops) {
        INFO("loops " << loops);
        CHECK(share_of_inflight(128, loops) * loops <= 128);
        CHECK(share_of_inflight(128, loops) >= 16);
    }
    CHECK(share_of_inflight(64, 2) == 32);  // the resolver channel's 64
    CHECK(share_of_inflight(64, 1) == 64);
}

TEST_CASE("loops: a zone's loop is stable, in range and the zones are balanced", "[loops]") {
    // Pinned: the assignment must not change between versions (a reload after an upgrade keeps
    // zones where they are only within one process, but tests and docs quote these).
    CHECK(loop_of_zone("example.com.", 1) == 0);
    // The same values as tests/integration/test_loops.py computes (its copy of the hash).
    CHECK(loop_of_zone("example.test.", 2) == 1);
    CHECK(loop_of_zone("second.test.", 2) == 0);
    CHECK(loop_of_zone("longsoa.test.", 2) == 1);
    CHECK(loop_of_zone("gen0001.test.", 2) == 0);
    CHECK(loop_of_zone("gen0002.test.", 2) == 1);
    CHECK(loop_of_zone("gen0007.test.", 2) == 1);
    CHECK(loop_of_zone("example.test.", 3) == 2);
    CHECK(loop_of_zone("gen0003.test.", 3) == 2);
    CHECK(loop_of_zone("gen0007.test.", 3) == 1);
    const auto names = zone_names(5000);
    for (unsigned loops : {2U, 3U, 4U, 7U}) {
        INFO("loops " << loops);
        std::vector<std::size_t> sizes(loops, 0);
        for (const auto& name : names) {
            const unsigned loop = loop_of_zone(name, loops);
            REQUIRE(loop < loops);
            CHECK(loop_of_zone(name, loops) == loop);  // the same answer every time
            ++sizes[loop];
        }
        const double mean = static_cast<double>(names.size()) / loops;
        for (std::size_t size : sizes) {
            CHECK(static_cast<double>(size) > mean * 0.85);
            CHECK(static_cast<double>(size) < mean * 1.15);
        }
    }
}

TEST_CASE("loops: the loops of one --shard each get a share of its zones", "[loops]") {
    // Unsalted, the loop hash would be the shard hash: with --shard=1/2 and 2 loops every zone of
    // the shard would be on loop 1 and loop 0 would idle.
    Config config = config_with(zone_names(2000));
    keep_shard_zones(config, Shard{1, 2});
    std::vector<std::size_t> sizes(2, 0);
    for (const auto& zone : config.zones) ++sizes[loop_of_zone(zone.name, 2)];
    const double mean = static_cast<double>(config.zones.size()) / 2;
    CHECK(static_cast<double>(sizes[0]) > mean * 0.85);
    CHECK(static_cast<double>(sizes[1]) > mean * 0.85);
}

TEST_CASE("loops: one more loop moves zones only to the new loop", "[loops]") {
    const auto names = zone_names(3000);
    for (unsigned loops = 1; loops < 6; ++loops) {
        std::size_t moved = 0;
        for (const auto& name : names) {
            const unsigned from = loop_of_zone(name, loops);
            const unsigned to = loop_of_zone(name, loops + 1);
            if (from != to) {
                ++moved;
                CHECK(to == loops);
            }
        }
        CHECK(moved < names.size() * 1.3 / (loops + 1));
    }
}

TEST_CASE("loops: the split holds every zone once, on its loop, in order, without copies",
          "[loops]") {
    const Config config = config_with(zone_names(500));
    const auto parts = zones_by_loop(config, 3);
    REQUIRE(parts.size() == 3);
    std::vector<std::string> all;
    for (unsigned i = 0; i < parts.size(); ++i) {
        CHECK_FALSE(parts[i].empty());
        const ZoneConfig* previous = nullptr;
        for (const ZoneConfig* zone : parts[i]) {
            // The config's own zones, in its order.
            REQUIRE(zone >= config.zones.data());
            REQUIRE(zone < config.zones.data() + config.zones.size());
            CHECK((previous == nullptr || previous < zone));
            previous = zone;
            CHECK(loop_of_zone(zone->name, 3) == i);
            all.push_back(zone->name);
        }
    }
    std::sort(all.begin(), all.end());
    auto expected = names_of(config);
    std::sort(expected.begin(), expected.end());
    CHECK(all == expected);
    // One loop: every zone, in order.
    const auto whole = zones_by_loop(config, 1);
    REQUIRE(whole.size() == 1);
    CHECK(names_of(whole.front()) == names_of(config));
}

TEST_CASE("loops: a reload's split keeps each remaining zone on its loop", "[loops]") {
    auto before = zone_names(400);
    auto after = std::vector<std::string>(before.begin() + 100, before.end());  // 100 removed
    for (const auto& name : zone_names(150, "added.")) after.push_back(name);   // 150 added
    const Config old_config = config_with(before);
    const Config new_config = config_with(after);
    const auto old_parts = zones_by_loop(old_config, 2);
    const auto new_parts = zones_by_loop(new_config, 2);
    for (unsigned i = 0; i < 2; ++i) {
        const auto old_names = names_of(old_parts[i]);
        const std::set<std::string> old_set(old_names.begin(), old_names.end());
        const auto new_names = names_of(new_parts[i]);
        const std::set<std::string> new_set(new_names.begin(), new_names.end());
        for (std::size_t k = 100; k < before.size(); ++k)
            if (old_set.contains(before[k])) CHECK(new_set.contains(before[k]));
        bool added_here = false;
        for (const auto& name : new_names) added_here |= name.ends_with("added.");
        CHECK(added_here);  // both loops get some of the new zones
    }
}

TEST_CASE("loops: the loops share the in-flight budget of an address", "[loops]") {
    // Two loops at 128 each lost answers against Knot at 10,000 zones (docs/PERFORMANCE.md).
    EventLoop main_loop;
    LoopSet one(main_loop, 1, DiscoveryOptions{}, nullptr);
    CHECK(one.main().prober.max_inflight() == 128);
    LoopSet two(main_loop, 2, DiscoveryOptions{}, nullptr);
    for (unsigned i = 0; i < two.size(); ++i) CHECK(two.shard(i).prober.max_inflight() == 64);
    LoopSet many(main_loop, 16, DiscoveryOptions{}, nullptr);
    CHECK(many.shard(15).prober.max_inflight() == 16);  // never below 16
}

TEST_CASE("loops: the stats of the loops add up, rounds are the slowest loop's", "[loops]") {
    AgentStats total;
    total.first_round_done = true;
    AgentStats a;
    a.queries_sent = 10;
    a.checks_total = 3;
    a.zones = 2;
    a.last_cycle_seconds = 1.5;
    a.first_round_done = true;
    AgentStats b;
    b.queries_sent = 5;
    b.checks_total = 4;
    b.zones = 3;
    b.notify_received = 2;
    b.last_cycle_seconds = 2.5;
    b.max_check_delay_seconds = 0.25;
    b.first_round_done = false;
    add_loop_stats(total, a);
    add_loop_stats(total, b);
    CHECK(total.queries_sent == 15);
    CHECK(total.checks_total == 7);
    CHECK(total.zones == 5);
    CHECK(total.notify_received == 2);
    CHECK(total.last_cycle_seconds == 2.5);
    CHECK(total.max_check_delay_seconds == 0.25);
    CHECK_FALSE(total.first_round_done);
}

TEST_CASE(
    "loops: two loops check every zone, a NOTIFY reaches the owning loop, a reload keeps "
    "state",
    "[loops]") {
    std::atomic<uint32_t> serial{1};
    FakeDnsServer server(
        [&serial](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().soa(serial).build(); });
    const auto config_text = [&server](const std::vector<std::string>& names) {
        std::string text = "global: { interval: 1h, timeout: 2s, retries: 0 }\nzones:\n";
        for (const auto& name : names)
            text += "  - { name: " + name +
                    ", nameservers: [ \"127.0.0.1:" + std::to_string(server.port()) + "\" ] }\n";
        return parse_config(text, "test.yml");
    };
    const auto names = zone_names(40);
    EventLoop main_loop;
    LoopSet loops(main_loop, 2, DiscoveryOptions{}, nullptr);
    for (unsigned i = 0; i < loops.size(); ++i) loops.shard(i).scheduler.set_first_round_window(0s);
    loops.start([](LoopShard& shard) { shard.loop.run(); });
    loops.apply(config_text(names));

    const auto deadline = std::chrono::steady_clock::now() + 20s;
    const auto run_until = [&](const std::function<bool()>& done) {
        main_loop.run_until([&] { return done() || std::chrono::steady_clock::now() > deadline; });
        return done();
    };
    const auto checks = [&loops](const std::string& zone) -> uint64_t {
        const auto snapshot = loops.snapshot();  // held: the loop reads its zones
        for (const auto& z : snapshot->zones)
            if (z->zone == zone) return z->checks_total;
        return 0;
    };
    // Every zone is checked, on its own loop, and the snapshot lists them all in order.
    REQUIRE(run_until([&] { return loops.first_round_done(); }));
    const auto snapshot = loops.snapshot();
    REQUIRE(snapshot->zones.size() == names.size());
    CHECK(std::is_sorted(snapshot->zones.begin(), snapshot->zones.end(),
                         [](const auto& a, const auto& b) { return a->zone < b->zone; }));
    CHECK(snapshot->stats.zones == names.size());
    CHECK(snapshot->stats.first_round_done);
    for (unsigned i = 0; i < 2; ++i) {
        const auto own = loops.shard(i).store.snapshot();
        CHECK_FALSE(own->zones.empty());
        for (const auto& z : own->zones) CHECK(loop_of_zone(z->zone, 2) == i);
    }

    // A NOTIFY for a zone of loop 1 (posted there) and one of loop 0 start checks at once.
    const auto on_loop = [&names](unsigned loop) {
        return *std::find_if(names.begin(), names.end(),
                             [loop](const auto& n) { return loop_of_zone(n, 2) == loop; });
    };
    for (unsigned loop : {0U, 1U}) {
        const std::string zone = on_loop(loop);
        const uint64_t before = checks(zone);
        serial = serial + 1;
        CHECK(loops.notify(zone, Instant::now()));
        CHECK(run_until([&] { return checks(zone) > before; }));
    }
    CHECK_FALSE(loops.notify("not-watched.example.", Instant::now()));

    // A reload: 10 zones removed, 10 added; the zones that stay keep their state (their checks
    // go on counting, not from 0).
    const std::string kept = on_loop(1);
    const uint64_t kept_checks = checks(kept);
    REQUIRE(kept_checks >= 2);
    auto next = std::vector<std::string>(names.begin() + 10, names.end());
    if (std::find(next.begin(), next.end(), kept) == next.end()) next.push_back(kept);
    for (const auto& name : zone_names(10, "added.")) next.push_back(name);
    loops.apply(config_text(next));
    REQUIRE(run_until([&] {
        const auto s = loops.snapshot();
        return s->zones.size() == next.size() &&
               std::all_of(s->zones.begin(), s->zones.end(),
                           [](const auto& z) { return z->checks_total >= 1; });
    }));
    CHECK(checks(kept) >= kept_checks);
    std::set<std::string> listed;
    const auto after_reload = loops.snapshot();
    for (const auto& z : after_reload->zones) listed.insert(z->zone);
    CHECK(listed == std::set<std::string>(next.begin(), next.end()));
    loops.stop();
}

TEST_CASE("loops: zones applied before the loops start are checked once they run", "[loops]") {
    FakeDnsServer server(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().soa(7).build(); });
    const auto names = zone_names(20);
    EventLoop main_loop;
    LoopSet loops(main_loop, 2, DiscoveryOptions{}, nullptr);
    for (unsigned i = 0; i < loops.size(); ++i) loops.shard(i).scheduler.set_first_round_window(0s);
    {
        // A temporary: the loop that does not run yet must not read it after this returns (the
        // sanitizer build, which CI runs, reports a read of it as a use after free).
        std::string text = "global: { interval: 1h, timeout: 2s, retries: 0 }\nzones:\n";
        for (const auto& name : names)
            text += "  - { name: " + name +
                    ", nameservers: [ \"127.0.0.1:" + std::to_string(server.port()) + "\" ] }\n";
        loops.apply(parse_config(text, "test.yml"));
    }
    loops.start([](LoopShard& shard) { shard.loop.run(); });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    main_loop.run_until(
        [&] { return loops.first_round_done() || std::chrono::steady_clock::now() > deadline; });
    REQUIRE(loops.first_round_done());
    const auto snapshot = loops.snapshot();
    REQUIRE(snapshot->zones.size() == names.size());
    for (const auto& z : snapshot->zones) CHECK(z->checks_total == 1);
    loops.stop();
}
