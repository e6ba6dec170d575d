// Replication beyond the serial: each secondary's refresh clock from its EDNS EXPIRE answer
// (RFC 7314), the SOA fields and timers, and the alerts, metrics and API fields they drive. On
// statuses made by the evaluator from scripted rounds (zone: refresh 3600, retry 600, expire
// 1209600 unless a test says otherwise).
#include <catch2/catch.hpp>

#include <algorithm>

#include "agent/alerting/alert_rules.hpp"
#include "agent/evaluator.hpp"
#include "agent/replication.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/metrics/metrics.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

// A zone with short timers, like the lab's test zone: refresh 10, retry 5, expire 60.
SoaObservation short_timers(SoaObservation o) {
    if (o.soa) {
        o.soa->refresh = 10;
        o.soa->retry = 5;
        o.soa->expire = 60;
    }
    return o;
}

SoaObservation with_expire(SoaObservation o, std::optional<uint32_t> remaining) {
    o.expire_asked = true;
    o.expire_remaining = remaining;
    return o;
}

// The rules the lab's short timers need: an expire of 60 s passes SOATimersUnsafe.
std::shared_ptr<const AlertRuleSet> lab_rules() {
    auto rules = std::make_shared<AlertRuleSet>(AlertRuleSet::defaults(std::chrono::seconds(60)));
    (*rules)[AlertRule::soa_timers_unsafe].min_expire = Duration{0};
    return rules;
}

// Primary (answers the SOA expire itself), ns1 NSD-like (no EXPIRE), ns2 Knot-like and ns3
// BIND-like (EXPIRE answered), every one at serial 7.
ZoneCheckResult lab_round(Clock::time_point t, uint32_t ns2_left, uint32_t ns3_left) {
    auto r = round(t,
                   {short_timers(with_expire(ok("ns1.", "10.0.0.1", 7, t), std::nullopt)),
                    short_timers(with_expire(ok("ns2.", "10.0.0.2", 7, t), ns2_left)),
                    short_timers(with_expire(ok("ns3.", "10.0.0.3", 7, t), ns3_left))},
                   short_timers(with_expire(ok("", "10.0.0.10", 7, t), 60)));
    r.rules = lab_rules();
    return r;
}

const NameserverStatus& row(const ZoneStatus& z, const std::string& address) {
    for (const auto& s : z.servers)
        if (s.target->address == address) return s;
    FAIL("no row " << address);
    return z.servers.front();
}

bool has(const std::vector<AlertCondition>& cs, AlertRule rule, const std::string& address = "") {
    return std::any_of(cs.begin(), cs.end(), [&](const AlertCondition& c) {
        return c.rule == rule && (address.empty() || c.address == address);
    });
}

const AlertCondition* find(const std::vector<AlertCondition>& cs, AlertRule rule,
                           const std::string& address = "") {
    for (const auto& c : cs)
        if (c.rule == rule && (address.empty() || c.address == address)) return &c;
    return nullptr;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

const AlertRuleSet kRules = *lab_rules();

}  // namespace

TEST_CASE("replication: refresh age is the reference expire minus the EXPIRE answered",
          "[replication]") {
    const ZoneStatus z = evaluate(nullptr, lab_round(T0, 55, 58));
    CHECK(z.verdict == Verdict::ok);
    CHECK(row(z, "10.0.0.2").expire_remaining == 55u);
    CHECK(row(z, "10.0.0.2").refresh_age == 5u);
    CHECK(row(z, "10.0.0.3").refresh_age == 2u);
    CHECK(row(z, "10.0.0.2").expire_supported == true);
    // NSD and PowerDNS do not answer it: shown as such, with no value and no age.
    CHECK(row(z, "10.0.0.1").expire_supported == false);
    CHECK_FALSE(row(z, "10.0.0.1").refresh_age);
    // The primary answers the SOA expire value: it refreshes from nobody.
    CHECK(row(z, "10.0.0.10").expire_remaining == 60u);
    CHECK_FALSE(row(z, "10.0.0.10").refresh_age);
    CHECK(evaluate_alert_rules(z, kRules, T0).empty());
    // Reading the reference SOA for these checks keeps it shared with the rows (one copy).
    const ZoneStatus again = evaluate(&z, lab_round(T0 + 1s, 55, 58));
    CHECK(&*row(again, "10.0.0.2").soa == &*again.reference_soa);
    CHECK(&*again.reference_soa == &*z.reference_soa);
}

TEST_CASE("replication: a secondary cut off on a static zone, from in sync to expired",
          "[replication]") {
    // ns2 lost its primary at T0: its EXPIRE counts down, its serial stays the reference.
    ZoneStatus z = evaluate(nullptr, lab_round(T0, 59, 59));
    z = evaluate(&z, lab_round(T0 + 15s, 44, 59));  // age 16 <= 10 + 2 x 5
    CHECK(row(z, "10.0.0.2").state == ServerState::in_sync);
    CHECK_FALSE(row(z, "10.0.0.2").refresh_failing);
    CHECK(z.verdict == Verdict::ok);

    z = evaluate(&z, lab_round(T0 + 25s, 34, 59));  // age 26 > 20
    const auto& ns2 = row(z, "10.0.0.2");
    CHECK(ns2.state == ServerState::in_sync);
    CHECK(ns2.refresh_failing);
    CHECK_FALSE(row(z, "10.0.0.3").refresh_failing);
    CHECK(z.verdict == Verdict::warning);  // `soawatch check` exits WARNING
    CHECK(mentions(z.reasons, "ns2. (10.0.0.2) has not refreshed from its primary for 26s"));
    auto cs = evaluate_alert_rules(z, kRules, T0 + 25s);
    CHECK(has(cs, AlertRule::secondary_refresh_failing, "10.0.0.2"));
    CHECK_FALSE(has(cs, AlertRule::secondary_refresh_failing, "10.0.0.3"));
    CHECK_FALSE(has(cs, AlertRule::secondary_refresh_failing, "10.0.0.1"));
    CHECK_FALSE(has(cs, AlertRule::zone_expiry_risk));

    z = evaluate(&z, lab_round(T0 + 35s, 24, 59));  // 36 s of 60 used: over half
    CHECK(z.verdict == Verdict::critical);
    CHECK(mentions(z.reasons, "will stop serving the zone in 24s"));
    cs = evaluate_alert_rules(z, kRules, T0 + 35s);
    const AlertCondition* risk = find(cs, AlertRule::zone_expiry_risk, "10.0.0.2");
    REQUIRE(risk);
    CHECK(risk->summary.find("in 24s") != std::string::npos);
    CHECK_FALSE(has(cs, AlertRule::zone_expiry_risk, "10.0.0.3"));

    // Expired: SERVFAIL at the predicted moment; lame because expired.
    auto expired_round = lab_round(T0 + 60s, 0, 59);
    auto& o = expired_round.observations[1];
    o.error = ProbeError::servfail;
    o.detail = "rcode SERVFAIL";
    o.rcode = 2;
    o.authoritative = false;
    o.soa.reset();
    o.expire_remaining.reset();
    z = evaluate(&z, expired_round);
    const auto& gone = row(z, "10.0.0.2");
    CHECK(gone.state == ServerState::unusable);
    CHECK(gone.expired);
    CHECK(gone.error_detail.str().find("the zone expired there") != std::string::npos);
    CHECK(gone.expire_supported == true);
    cs = evaluate_alert_rules(z, kRules, T0 + 60s);
    const AlertCondition* lame = find(cs, AlertRule::nameserver_lame, "10.0.0.2");
    REQUIRE(lame);
    CHECK(lame->description.find("expired") != std::string::npos);
    CHECK_FALSE(has(cs, AlertRule::zone_expiry_risk, "10.0.0.2"));

    // Restored: a fresh refresh resets the clock and everything clears.
    z = evaluate(&z, lab_round(T0 + 70s, 60, 59));
    CHECK(z.verdict == Verdict::ok);
    CHECK_FALSE(row(z, "10.0.0.2").expired);
    CHECK(evaluate_alert_rules(z, kRules, T0 + 70s).empty());
}

TEST_CASE("replication: a server without EXPIRE keeps the old expiry rule", "[replication]") {
    // ns1 (no EXPIRE) behind for more than half of expire 60: the old rule fires.
    auto first = lab_round(T0, 60, 60);
    ZoneStatus z = evaluate(nullptr, first);
    auto later = lab_round(T0 + 20s, 60, 60);
    later.primary->soa->serial = 8;
    later.observations[1].soa->serial = 8;
    later.observations[2].soa->serial = 8;
    z = evaluate(&z, later);
    z = evaluate(&z, later);
    CHECK(row(z, "10.0.0.1").state == ServerState::behind);
    auto cs = evaluate_alert_rules(z, kRules, T0 + 20s);
    CHECK_FALSE(has(cs, AlertRule::zone_expiry_risk));
    auto much_later = later;
    for (auto* o : {&*much_later.primary, &much_later.observations[0], &much_later.observations[1],
                    &much_later.observations[2]})
        o->at = instant(T0 + 80s);
    much_later.finished = instant(T0 + 80s);
    z = evaluate(&z, much_later);
    cs = evaluate_alert_rules(z, kRules, T0 + 80s);
    CHECK(has(cs, AlertRule::zone_expiry_risk, "10.0.0.1"));
    // The others answer EXPIRE (60 left): their own clocks say they are fine.
    CHECK_FALSE(has(cs, AlertRule::zone_expiry_risk, "10.0.0.2"));
}

TEST_CASE("replication: EDNS off asks nothing and claims nothing", "[replication]") {
    auto r = lab_round(T0, 50, 50);
    for (auto& o : r.observations) {
        o.expire_asked = false;
        o.expire_remaining.reset();
    }
    const ZoneStatus z = evaluate(nullptr, r);
    CHECK_FALSE(row(z, "10.0.0.1").expire_supported);
    CHECK_FALSE(row(z, "10.0.0.2").refresh_age);
}

TEST_CASE("replication: thresholds come from the zone's rules", "[replication]") {
    auto rules = std::make_shared<AlertRuleSet>(*lab_rules());
    (*rules)[AlertRule::secondary_refresh_failing].tolerated_retries = 6;  // 10 + 30
    auto r = lab_round(T0, 25, 59);                                        // age 35
    r.rules = rules;
    ZoneStatus z = evaluate(nullptr, r);
    CHECK_FALSE(row(z, "10.0.0.2").refresh_failing);
    r.rules = nullptr;  // the defaults: 10 + 2 x 5
    z = evaluate(nullptr, r);
    CHECK(row(z, "10.0.0.2").refresh_failing);
    (*rules)[AlertRule::secondary_refresh_failing].enabled = false;
    r.rules = rules;
    z = evaluate(nullptr, r);
    CHECK_FALSE(row(z, "10.0.0.2").refresh_failing);
    CHECK_FALSE(mentions(z.reasons, "has not refreshed"));
}

TEST_CASE("replication: SOA fields compared at the reference serial only", "[replication]") {
    auto r = round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("ns2.", "10.0.0.2", 7, T0),
                        ok("ns3.", "10.0.0.3", 6, T0)});
    r.observations[1].soa->refresh = 7200;
    r.observations[1].soa->mname = "other.example.test.";
    r.observations[0].soa->rname = "HOSTMASTER.example.test.";  // case is no difference
    r.observations[2].soa->expire = 5;                          // behind: its old version
    const ZoneStatus z = evaluate(nullptr, r);
    REQUIRE(z.soa_field_mismatches.size() == 2);
    CHECK(z.soa_field_mismatches[0].address == "10.0.0.2");
    CHECK(z.soa_field_mismatches[0].field == "mname");
    CHECK(z.soa_field_mismatches[1].field == "refresh");
    CHECK(z.soa_field_mismatches[1].value == "7200");
    CHECK(z.soa_field_mismatches[1].reference == "3600");
    CHECK(mentions(z.reasons, "SOA refresh differs at ns2. (10.0.0.2): 7200, reference 3600"));
    const auto cs = evaluate_alert_rules(z, kRules, T0);
    const AlertCondition* c = find(cs, AlertRule::soa_fields_mismatch);
    REQUIRE(c);
    CHECK(c->summary == "SOA mname, refresh of example.test. differ between servers");
    CHECK(c->description.find("ns2. (10.0.0.2) refresh 7200 vs 3600") != std::string::npos);
}

TEST_CASE("replication: SOA timer sanity, each rule with its source", "[replication]") {
    AlertRuleSettings limits = AlertRuleSet::defaults(60s)[AlertRule::soa_timers_unsafe];
    dns::SoaRdata sane;
    sane.refresh = 3600;
    sane.retry = 600;
    sane.expire = 1209600;
    sane.minimum = 300;
    CHECK(soa_timer_problems(sane, limits).empty());

    dns::SoaRdata bad = sane;
    bad.retry = 3600;
    auto p = soa_timer_problems(bad, limits);
    REQUIRE(p.size() == 1);
    CHECK(p[0] == "retry 3600 is not below refresh 3600 (RFC 1912 2.2)");

    bad = sane;
    bad.refresh = 10;
    bad.retry = 5;
    bad.expire = 15;
    p = soa_timer_problems(bad, limits);
    REQUIRE(p.size() == 2);
    CHECK(p[0] == "expire 15 is not above refresh + retry 15 (RFC 1912 2.2)");
    CHECK(p[1] == "expire 15s is shorter than 7d (RFC 1912 2.2; SOATimersUnsafe.min_expire)");

    bad = sane;
    bad.minimum = 172800;
    p = soa_timer_problems(bad, limits);
    REQUIRE(p.size() == 1);
    CHECK(p[0].find("RFC 2308 5") != std::string::npos);

    limits.min_expire = 0s;  // configurable: the lab's 60 s expire passes
    bad = sane;
    bad.refresh = 10;
    bad.retry = 5;
    bad.expire = 60;
    CHECK(soa_timer_problems(bad, limits).empty());

    // Through the evaluator (default limits): the problems, the verdict and the alert.
    auto r = lab_round(T0, 60, 60);
    r.rules = nullptr;
    ZoneStatus z = evaluate(nullptr, r);
    CHECK(z.soa_timer_problems.size() == 1);  // expire 60 < 1 week
    CHECK(z.verdict == Verdict::warning);
    CHECK(has(evaluate_alert_rules(z, AlertRuleSet::defaults(60s), T0),
              AlertRule::soa_timers_unsafe));
}

TEST_CASE("replication: PropagationSlow past SOA refresh / 2 or the configured bound",
          "[replication]") {
    ZoneStatus z = evaluate(
        nullptr, round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("ns2.", "10.0.0.2", 7, T0)}));
    // serial 8 appears at ns1; ns2 still has 7 after 1000 s, then gets it after 2000 s.
    z = evaluate(&z, round(T0 + 10s, {ok("ns1.", "10.0.0.1", 8, T0 + 10s),
                                      ok("ns2.", "10.0.0.2", 7, T0 + 10s)}));
    CHECK_FALSE(has(evaluate_alert_rules(z, kRules, T0 + 10s), AlertRule::propagation_slow));
    z = evaluate(&z, round(T0 + 1900s, {ok("ns1.", "10.0.0.1", 8, T0 + 1900s),
                                        ok("ns2.", "10.0.0.2", 7, T0 + 1900s)}));
    auto cs = evaluate_alert_rules(z, kRules, T0 + 1900s);
    CHECK(has(cs, AlertRule::propagation_slow, "10.0.0.2"));  // 1890 s > 1800 s pending
    z = evaluate(&z, round(T0 + 2010s, {ok("ns1.", "10.0.0.1", 8, T0 + 2010s),
                                        ok("ns2.", "10.0.0.2", 8, T0 + 2010s)}));
    cs = evaluate_alert_rules(z, kRules, T0 + 2010s);
    const AlertCondition* c = find(cs, AlertRule::propagation_slow, "10.0.0.2");
    REQUIRE(c);
    CHECK(c->description.find("took 33m 20s") != std::string::npos);
    AlertRuleSet loose = kRules;
    loose[AlertRule::propagation_slow].max_propagation = 1h;
    CHECK_FALSE(has(evaluate_alert_rules(z, loose, T0 + 2010s), AlertRule::propagation_slow));
}

TEST_CASE("replication: metrics and API carry EXPIRE, refresh age and SOA checks",
          "[replication][exporters]") {
    auto r = lab_round(T0, 59, 59);
    r.rules = nullptr;  // default limits: expire 60 is not sane
    ZoneStatus z = evaluate(nullptr, r);
    r = lab_round(T0 + 25s, 34, 59);
    r.rules = nullptr;
    z = evaluate(&z, r);
    const std::string text = MetricsExporter::render_zone(z);
    const std::string ns2 = R"(zone="example.test.",nameserver="ns2.",address="10.0.0.2")";
    CHECK(text.find("soawatch_expire_remaining_seconds{" + ns2 + "} 34\n") != std::string::npos);
    CHECK(text.find("soawatch_refresh_age_seconds{" + ns2 + "} 26\n") != std::string::npos);
    CHECK(
        text.find(R"(soawatch_expire_remaining_seconds{zone="example.test.",nameserver="ns1.")") ==
        std::string::npos);
    CHECK(text.find("soawatch_soa_timers_sane{zone=\"example.test.\"} 0\n") != std::string::npos);
    CHECK(text.find("soawatch_soa_fields_consistent{zone=\"example.test.\"} 1\n") !=
          std::string::npos);

    const auto json = zone_to_json(z);
    CHECK(json["soa_timers_sane"] == false);
    CHECK(json["soa_timer_problems"].size() == 1);
    CHECK(json["soa_fields_consistent"] == true);
    for (const auto& s : json["servers"]) {
        if (s["address"] == "10.0.0.2") {
            CHECK(s["expire_supported"] == true);
            CHECK(s["expire_remaining_seconds"] == 34);
            CHECK(s["refresh_age_seconds"] == 26);
            CHECK(s["refresh_failing"] == true);
            CHECK(s["expired"] == false);
        }
        if (s["address"] == "10.0.0.1") {
            CHECK(s["expire_supported"] == false);
            CHECK(s["expire_remaining_seconds"].is_null());
        }
    }
}
