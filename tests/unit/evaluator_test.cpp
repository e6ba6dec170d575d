#include <catch2/catch.hpp>

#include "agent/common/duration.hpp"
#include "agent/evaluator.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

using namespace soawatch::test;

const NameserverStatus& server(const ZoneStatus& z, const std::string& addr) {
    for (const auto& s : z.servers)
        if (s.target->address == addr) return s;
    FAIL("no server " << addr);
    throw;
}

}  // namespace

TEST_CASE("all nameservers in sync: OK, consistent, reference is the newest", "[evaluator]") {
    auto z = evaluate(nullptr,
                      round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("ns2.", "10.0.0.2", 7, T0)}));
    CHECK(z.verdict == Verdict::ok);
    CHECK(z.consistent);
    CHECK(z.reference_serial == 7u);
    CHECK(z.usable_servers == 2);
    CHECK(server(z, "10.0.0.1").state == ServerState::in_sync);
    CHECK(z.reasons.empty());
}

TEST_CASE("one behind: WARNING with steps; lag grows across rounds", "[evaluator]") {
    auto z1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 9, T0), ok("ns2.", "10.0.0.2", 7, T0),
                                     ok("ns3.", "10.0.0.3", 9, T0)}));
    CHECK(z1.verdict == Verdict::warning);
    CHECK_FALSE(z1.consistent);
    const auto& b = server(z1, "10.0.0.2");
    CHECK(b.state == ServerState::behind);
    CHECK(b.serial_behind == 2);
    CHECK(b.lag_seconds == 0);
    auto z2 = evaluate(&z1, round(T0 + 30s, {ok("ns1.", "10.0.0.1", 9, T0 + 30s),
                                             ok("ns2.", "10.0.0.2", 7, T0 + 30s),
                                             ok("ns3.", "10.0.0.3", 9, T0 + 30s)}));
    CHECK(server(z2, "10.0.0.2").lag_seconds == Approx(30));
    CHECK(z2.reasons.size() == 1);
    CHECK(z2.reasons[0].find("2 serial(s) behind") != std::string::npos);
}

TEST_CASE("reference change times propagation to each lagging server", "[evaluator]") {
    auto z1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 1, T0), ok("ns2.", "10.0.0.2", 1, T0)},
                                ok("", "10.0.0.10", 1, T0)));
    CHECK(z1.verdict == Verdict::ok);
    // The primary moves to 2; ns1 already has it, ns2 not yet.
    auto z2 = evaluate(
        &z1,
        round(T0 + 60s, {ok("ns1.", "10.0.0.1", 2, T0 + 60s), ok("ns2.", "10.0.0.2", 1, T0 + 60s)},
              ok("", "10.0.0.10", 2, T0 + 60s)));
    CHECK(z2.reference_serial == 2u);
    CHECK(z2.last_serial_change == T0 + 60s);
    CHECK(z2.new_propagations.empty());  // ns1 had it before we could time it
    CHECK(server(z2, "10.0.0.2").state == ServerState::behind);
    CHECK(server(z2, "10.0.0.2").propagation_pending_since->wall == T0 + 60s);
    auto z3 = evaluate(
        &z2,
        round(T0 + 63s, {ok("ns1.", "10.0.0.1", 2, T0 + 63s), ok("ns2.", "10.0.0.2", 2, T0 + 63s)},
              ok("", "10.0.0.10", 2, T0 + 63s)));
    REQUIRE(z3.new_propagations.size() == 1);
    CHECK(z3.new_propagations[0].address == "10.0.0.2");
    CHECK(z3.new_propagations[0].seconds == Approx(3));
    CHECK(server(z3, "10.0.0.2").last_propagation_seconds == Approx(3));
    CHECK(z3.verdict == Verdict::ok);
}

TEST_CASE("a NOTIFY signal times propagation even for servers that already have the serial",
          "[evaluator]") {
    auto z1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 1, T0), ok("ns2.", "10.0.0.2", 1, T0)},
                                ok("", "10.0.0.10", 1, T0)));
    auto r = round(
        T0 + 10s,
        {ok("ns1.", "10.0.0.1", 2, T0 + 10s + 200ms), ok("ns2.", "10.0.0.2", 2, T0 + 10s + 300ms)},
        ok("", "10.0.0.10", 2, T0 + 10s + 100ms));
    r.change_signal = instant(T0 + 10s);
    auto z2 = evaluate(&z1, r);
    REQUIRE(z2.new_propagations.size() == 2);
    CHECK(z2.new_propagations[0].seconds == Approx(0.2));
    CHECK(z2.new_propagations[1].seconds == Approx(0.3));
}

TEST_CASE("hidden primary unreachable: CRITICAL, last known reference kept", "[evaluator]") {
    auto z1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 5, T0), ok("ns2.", "10.0.0.2", 5, T0)},
                                ok("", "10.0.0.10", 5, T0)));
    auto z2 = evaluate(
        &z1,
        round(T0 + 60s, {ok("ns1.", "10.0.0.1", 5, T0 + 60s), ok("ns2.", "10.0.0.2", 5, T0 + 60s)},
              failed("", "10.0.0.10", ProbeError::timeout, T0 + 60s)));
    CHECK(z2.verdict == Verdict::critical);
    CHECK(z2.reference_serial == 5u);
    CHECK(z2.servers[0].is_primary);
    CHECK(z2.servers[0].state == ServerState::unusable);
    CHECK(z2.reasons[0].find("primary 10.0.0.10 is unusable: timeout") == 0);
}

TEST_CASE("fewer than two usable nameservers is CRITICAL; one of three down is WARNING",
          "[evaluator]") {
    auto one_left =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 5, T0),
                                     failed("ns2.", "10.0.0.2", ProbeError::refused, T0)}));
    CHECK(one_left.verdict == Verdict::critical);
    auto two_left =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 5, T0), ok("ns3.", "10.0.0.3", 5, T0),
                                     failed("ns2.", "10.0.0.2", ProbeError::timeout, T0)}));
    CHECK(two_left.verdict == Verdict::warning);
    CHECK(two_left.consistent);  // every usable server has the reference
    CHECK(server(two_left, "10.0.0.2").errors_by_reason[static_cast<int>(ProbeError::timeout)] ==
          1);
    auto none = evaluate(nullptr, round(T0, {failed("ns1.", "10.0.0.1", ProbeError::timeout, T0),
                                             failed("ns2.", "10.0.0.2", ProbeError::timeout, T0)}));
    CHECK(none.verdict == Verdict::critical);
    CHECK_FALSE(none.consistent);
    CHECK(none.reasons[0] == "no nameserver is usable");
}

TEST_CASE("two addresses of one NS name count as one nameserver", "[evaluator]") {
    auto z =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 5, T0), ok("ns1.", "::1", 5, T0)}));
    CHECK(z.usable_servers == 1);
    CHECK(z.verdict == Verdict::critical);
}

TEST_CASE("no nameserver known is UNKNOWN", "[evaluator]") {
    auto r = round(T0, {});
    r.discovery_error = "resolver: Timeout while contacting DNS servers";
    auto z = evaluate(nullptr, r);
    CHECK(z.verdict == Verdict::unknown);
    CHECK(z.reasons[0] ==
          "no nameserver address known: resolver: Timeout while contacting DNS servers");
}

TEST_CASE("serial wrap-around: 4294967295 is behind 3", "[evaluator]") {
    auto z = evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 3, T0),
                                          ok("ns2.", "10.0.0.2", 4294967295u, T0)}));
    CHECK(z.reference_serial == 3u);
    CHECK(server(z, "10.0.0.2").state == ServerState::behind);
    CHECK(server(z, "10.0.0.2").serial_behind == 4);
}

TEST_CASE("RFC 1982 undefined comparison is reported as incomparable", "[evaluator]") {
    auto z = evaluate(
        nullptr, round(T0, {ok("ns1.", "10.0.0.1", 0x80000000u, T0), ok("ns2.", "10.0.0.2", 0, T0)},
                       ok("", "10.0.0.10", 0, T0)));
    CHECK(server(z, "10.0.0.1").state == ServerState::incomparable);
    CHECK(z.verdict == Verdict::warning);
}

TEST_CASE("a server ahead of the primary is reported", "[evaluator]") {
    auto z =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 10, T0), ok("ns2.", "10.0.0.2", 9, T0)},
                                ok("", "10.0.0.10", 9, T0)));
    CHECK(server(z, "10.0.0.1").state == ServerState::ahead);
    CHECK(server(z, "10.0.0.2").state == ServerState::in_sync);
    CHECK(z.verdict == Verdict::warning);
}

TEST_CASE("unresolved NS names are a warning", "[evaluator]") {
    auto r = round(T0, {ok("ns1.", "10.0.0.1", 5, T0), ok("ns2.", "10.0.0.2", 5, T0)});
    r.unresolved = {{"ns9.example.test.", AddressError::no_address, "no A or AAAA records"}};
    auto z = evaluate(nullptr, r);
    CHECK(z.verdict == Verdict::warning);
    CHECK(z.reasons.back() == "nameserver ns9.example.test. has no address (no A or AAAA records)");
}

TEST_CASE("without a primary, a newest server that drops a probe keeps the reference",
          "[evaluator]") {
    // ns1 has 9, ns2 and ns3 lag at 7 for 300 s; then ns1 times out once, then answers again.
    auto z1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 9, T0), ok("ns2.", "10.0.0.2", 7, T0),
                                     ok("ns3.", "10.0.0.3", 7, T0)}));
    auto z2 = evaluate(&z1, round(T0 + 300s, {ok("ns1.", "10.0.0.1", 9, T0 + 300s),
                                              ok("ns2.", "10.0.0.2", 7, T0 + 300s),
                                              ok("ns3.", "10.0.0.3", 7, T0 + 300s)}));
    REQUIRE(server(z2, "10.0.0.2").lag_seconds == Approx(300));
    const auto change = z2.last_serial_change;
    auto z3 =
        evaluate(&z2, round(T0 + 330s, {failed("ns1.", "10.0.0.1", ProbeError::timeout, T0 + 330s),
                                        ok("ns2.", "10.0.0.2", 7, T0 + 330s),
                                        ok("ns3.", "10.0.0.3", 7, T0 + 330s)}));
    CHECK(z3.reference_serial == 9u);
    CHECK_FALSE(z3.consistent);
    CHECK(z3.last_serial_change == change);
    CHECK(server(z3, "10.0.0.2").state == ServerState::behind);
    CHECK(server(z3, "10.0.0.2").serial_behind == 2);
    CHECK(server(z3, "10.0.0.2").lag_seconds == Approx(330));
    CHECK(server(z3, "10.0.0.3").lag_seconds == Approx(330));
    CHECK(z3.rolled_back_from == std::nullopt);
    // Flapping for many rounds changes nothing: the lag keeps counting.
    ZoneStatus z = z3;
    for (int i = 1; i <= 6; ++i) {
        const auto at = T0 + 330s + i * 30s;
        auto next =
            evaluate(&z, round(at, {i % 2 ? ok("ns1.", "10.0.0.1", 9, at)
                                          : failed("ns1.", "10.0.0.1", ProbeError::timeout, at),
                                    ok("ns2.", "10.0.0.2", 7, at), ok("ns3.", "10.0.0.3", 7, at)}));
        z = std::move(next);
        CHECK(z.reference_serial == 9u);
        CHECK_FALSE(z.consistent);
        CHECK(z.last_serial_change == change);
        CHECK(server(z, "10.0.0.2").lag_seconds == Approx(330 + i * 30));
        CHECK(z.verdict == Verdict::warning);
    }
    CHECK(server(z, "10.0.0.2").last_propagation_seconds == std::nullopt);
}

TEST_CASE("without a primary, the reference stays while only older servers answer", "[evaluator]") {
    auto z =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 9, T0), ok("ns2.", "10.0.0.2", 9, T0),
                                     ok("ns3.", "10.0.0.3", 8, T0)}));
    for (int i = 1; i <= 10; ++i) {
        const auto at = T0 + i * 60s;
        auto next = evaluate(&z, round(at, {failed("ns1.", "10.0.0.1", ProbeError::timeout, at),
                                            failed("ns2.", "10.0.0.2", ProbeError::timeout, at),
                                            ok("ns3.", "10.0.0.3", 8, at)}));
        z = std::move(next);
    }
    CHECK(z.reference_serial == 9u);
    CHECK_FALSE(z.consistent);
    CHECK(server(z, "10.0.0.3").state == ServerState::behind);
    CHECK(server(z, "10.0.0.3").lag_seconds == Approx(600));
    CHECK(z.verdict == Verdict::critical);  // one usable NS name of three
}

TEST_CASE("without a primary, a deliberate rollback is followed after every server agrees",
          "[evaluator]") {
    auto all_at = [](uint32_t serial, Clock::time_point at) {
        return round(at, {ok("ns1.", "10.0.0.1", serial, at), ok("ns2.", "10.0.0.2", serial, at)});
    };
    auto z = evaluate(nullptr, all_at(9, T0));
    // Every server answers 5 (the zone was restored from an older copy): the reference holds for
    // kRollbackRounds - 1 rounds, then moves back, once.
    for (unsigned i = 1; i < kReferenceRollbackRounds; ++i) {
        auto next = evaluate(&z, all_at(5, T0 + i * 60s));
        z = std::move(next);
        CHECK(z.reference_serial == 9u);
        CHECK_FALSE(z.consistent);
    }
    auto rolled = evaluate(&z, all_at(5, T0 + kReferenceRollbackRounds * 60s));
    CHECK(rolled.reference_serial == 5u);
    CHECK(rolled.rolled_back_from == 9u);
    CHECK(rolled.consistent);
    CHECK(rolled.verdict == Verdict::ok);
    CHECK(rolled.last_serial_change == T0 + kReferenceRollbackRounds * 60s);
    auto after = evaluate(&rolled, all_at(5, T0 + (kReferenceRollbackRounds + 1) * 60s));
    CHECK(after.rolled_back_from == std::nullopt);
    CHECK(after.reference_serial == 5u);

    // A round in which one server is unusable or disagrees starts the count again.
    auto y = evaluate(nullptr, all_at(9, T0));
    for (unsigned i = 1; i <= 3 * kReferenceRollbackRounds; ++i) {
        const auto at = T0 + i * 60s;
        auto r = i % kReferenceRollbackRounds
                     ? all_at(5, at)
                     : round(at, {ok("ns1.", "10.0.0.1", 5, at),
                                  failed("ns2.", "10.0.0.2", ProbeError::timeout, at)});
        auto next = evaluate(&y, r);
        y = std::move(next);
        CHECK(y.reference_serial == 9u);
    }
}

TEST_CASE("a step of the wall clock changes no lag and no propagation time", "[evaluator]") {
    // 30 s pass between rounds on the monotonic clock; the wall clock is stepped (NTP) back an
    // hour, then forward two: durations follow the monotonic clock, timestamps the wall clock.
    const Instant a = instant(T0);
    const Instant b{T0 - 1h + 30s, a.mono + 30s};
    const Instant c{T0 + 2h + 60s, a.mono + 60s};
    const Instant d{T0 + 2h + 90s, a.mono + 90s};
    auto z1 =
        evaluate(nullptr, round(a, {ok("ns1.", "10.0.0.1", 7, a), ok("ns2.", "10.0.0.2", 7, a)}));
    auto z2 = evaluate(&z1, round(b, {ok("ns1.", "10.0.0.1", 9, b), ok("ns2.", "10.0.0.2", 7, b)}));
    CHECK(z2.reference_serial == 9u);
    CHECK(z2.last_serial_change == b.wall);
    CHECK(server(z2, "10.0.0.2").lag_seconds == 0);
    auto z3 = evaluate(&z2, round(c, {ok("ns1.", "10.0.0.1", 9, c), ok("ns2.", "10.0.0.2", 7, c)}));
    CHECK(server(z3, "10.0.0.2").lag_seconds == Approx(30));
    CHECK(z3.check_duration.count() == 0);
    auto z4 = evaluate(&z3, round(d, {ok("ns1.", "10.0.0.1", 9, d), ok("ns2.", "10.0.0.2", 9, d)}));
    REQUIRE(z4.new_propagations.size() == 1);
    CHECK(z4.new_propagations[0].seconds == Approx(60));
    CHECK(server(z4, "10.0.0.2").last_in_sync == d.wall);
}

TEST_CASE("min_usable_nameservers and its severity decide what lost redundancy is", "[evaluator]") {
    const auto r = round(
        T0, {ok("ns1.", "10.0.0.1", 5, T0), failed("ns2.", "10.0.0.2", ProbeError::refused, T0)});
    const std::string below =
        "only 1 nameserver is usable; min_usable_nameservers is 2 (RFC 2182 section 5 asks for "
        "at least 2)";
    // The default: 2, CRITICAL below.
    auto strict = evaluate(nullptr, r);
    CHECK(strict.verdict == Verdict::critical);
    REQUIRE(strict.reasons.size() == 2);
    CHECK(strict.reasons[0] == below);
    CHECK(strict.reasons[1] == "ns2. (10.0.0.2) is unusable: refused");
    // 2, WARNING below: the same reasons, a warning.
    auto relaxed = evaluate(nullptr, r, VerdictPolicy{2, false});
    CHECK(relaxed.verdict == Verdict::warning);
    CHECK(relaxed.reasons == strict.reasons);
    // 1: one usable NS name is enough; the unusable one is still a warning.
    auto one = evaluate(nullptr, r, VerdictPolicy{1, true});
    CHECK(one.verdict == Verdict::warning);
    CHECK(one.reasons == std::vector<std::string>{"ns2. (10.0.0.2) is unusable: refused"});
    // 3: two of three usable is below.
    auto three = evaluate(nullptr,
                          round(T0, {ok("ns1.", "10.0.0.1", 5, T0), ok("ns2.", "10.0.0.2", 5, T0),
                                     failed("ns3.", "10.0.0.3", ProbeError::timeout, T0)}),
                          VerdictPolicy{3, true});
    CHECK(three.verdict == Verdict::critical);
    CHECK(three.reasons[0] ==
          "only 2 nameservers are usable; min_usable_nameservers is 3 (RFC 2182 section 5 asks "
          "for at least 2)");
    // None usable is CRITICAL whatever the policy: the zone does not resolve.
    auto none = evaluate(nullptr,
                         round(T0, {failed("ns1.", "10.0.0.1", ProbeError::timeout, T0),
                                    failed("ns2.", "10.0.0.2", ProbeError::refused, T0)}),
                         VerdictPolicy{1, false});
    CHECK(none.verdict == Verdict::critical);
    CHECK(none.reasons[0] == "no nameserver is usable");
}

TEST_CASE("messages: RFC 1982 named, no duration claimed on a first look", "[evaluator]") {
    auto first = [](Clock::time_point at) {
        return round(
            at, {ok("ns1.", "10.0.0.1", 2026010101, at), ok("ns2.", "10.0.0.2", 2026010100, at)});
    };
    auto z1 = evaluate(nullptr, first(T0));
    CHECK(z1.reasons == std::vector<std::string>{
                            "ns2. (10.0.0.2) is 1 serial(s) behind (2026010100 < 2026010101 in "
                            "RFC 1982 serial arithmetic)"});
    auto z2 = evaluate(&z1, first(T0 + 30s));
    CHECK(z2.reasons == std::vector<std::string>{
                            "ns2. (10.0.0.2) is 1 serial(s) behind (2026010100 < 2026010101 in "
                            "RFC 1982 serial arithmetic) for " +
                            human_duration(30)});
    auto ahead = evaluate(
        nullptr,
        round(T0, {ok("ns1.", "10.0.0.1", 2026010104, T0), ok("ns2.", "10.0.0.2", 4294967295u, T0)},
              ok("", "10.0.0.10", 4294967295u, T0)));
    CHECK(ahead.reasons ==
          std::vector<std::string>{"ns1. (10.0.0.1) is ahead of the reference (2026010104 > "
                                   "4294967295 in RFC 1982 serial arithmetic)"});
}

TEST_CASE("an unusable primary is CRITICAL even when no nameserver is known", "[evaluator]") {
    auto r = round(T0, {}, failed("", "10.0.0.10", ProbeError::nxdomain, T0));
    r.discovery_error = "example.test. does not exist (NXDOMAIN)";
    auto z = evaluate(nullptr, r);
    CHECK(z.verdict == Verdict::critical);
    CHECK(z.reasons == std::vector<std::string>{
                           "primary 10.0.0.10 is unusable: nxdomain",
                           "no nameserver address known: example.test. does not exist (NXDOMAIN)"});
}

TEST_CASE("rows share one copy of each target, across rounds and across zones", "[evaluator]") {
    // 100,000 zones on the same three servers keep three targets, not 300,000 (memory).
    auto a1 =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("", "10.0.0.2", 7, T0)},
                                ok("", "10.0.0.10", 7, T0)));
    auto a2 = evaluate(
        &a1, round(T0 + 60s, {ok("ns1.", "10.0.0.1", 7, T0 + 60s), ok("", "10.0.0.2", 7, T0 + 60s)},
                   ok("", "10.0.0.10", 7, T0 + 60s)));
    auto b = evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("", "10.0.0.2", 7, T0)},
                                     ok("", "10.0.0.10", 7, T0)));
    REQUIRE(a1.servers.size() == 3);
    REQUIRE(a2.servers.size() == 3);
    REQUIRE(b.servers.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        INFO(a1.servers[i].target->address);
        CHECK(a2.servers[i].target.shared() == a1.servers[i].target.shared());
        CHECK(b.servers[i].target.shared() == a1.servers[i].target.shared());
    }
    // Another name for the same address is another target.
    auto c = evaluate(nullptr, round(T0, {ok("ns9.", "10.0.0.1", 7, T0)}));
    CHECK(c.servers[0].target->nameserver == "ns9.");
    CHECK(c.servers[0].target.shared() != a1.servers[1].target.shared());
}
