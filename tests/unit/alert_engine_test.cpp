// The built-in rules (which conditions hold for a zone status) and the alert engine (pending,
// firing, resolved; what each receiver is told and when), on statuses made by the evaluator.
#include <catch2/catch.hpp>

#include <algorithm>

#include "agent/alerting/alert_engine.hpp"
#include "agent/evaluator.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

// ns1 and ns2 in sync at serial `a`, ns3 at serial `b`, primary at `a`.
ZoneStatus zone_at(const ZoneStatus* prev, Clock::time_point t, uint32_t a, uint32_t b) {
    return evaluate(prev, round(t,
                                {ok("ns1.", "10.0.0.1", a, t), ok("ns2.", "10.0.0.2", a, t),
                                 ok("ns3.", "10.0.0.3", b, t)},
                                ok("", "10.0.0.10", a, t)));
}

std::vector<AlertCondition> conditions(const ZoneStatus& z, const AlertRuleSet& rules,
                                       Clock::time_point now) {
    return evaluate_alert_rules(z, rules, now);
}

bool has(const std::vector<AlertCondition>& cs, AlertRule rule, const std::string& address = "") {
    return std::any_of(cs.begin(), cs.end(), [&](const AlertCondition& c) {
        return c.rule == rule && (address.empty() || c.address == address);
    });
}

AlertingConfig config_with(std::vector<ReceiverConfig> receivers, Duration for_duration = 60s) {
    AlertingConfig c;
    c.default_for = for_duration;
    c.rules = AlertRuleSet::defaults(for_duration);
    c.receivers = std::move(receivers);
    return c;
}

ReceiverConfig receiver(const std::string& name, ReceiverType type = ReceiverType::webhook) {
    ReceiverConfig r;
    r.name = name;
    r.type = type;
    r.url = "http://127.0.0.1:9/";
    return r;
}

std::size_t count_alerts(const std::vector<AlertNotification>& ns, const std::string& alertname,
                         AlertState state) {
    std::size_t n = 0;
    for (const auto& note : ns)
        for (const auto& a : note.alerts)
            n += a.label("alertname") == alertname && a.state == state;
    return n;
}

}  // namespace

TEST_CASE("rules: a lagging secondary is behind, and the zone disagrees", "[alerts]") {
    const AlertRuleSet rules = AlertRuleSet::defaults(60s);
    const ZoneStatus z = zone_at(nullptr, T0, 7, 5);
    const auto cs = conditions(z, rules, T0);
    REQUIRE(has(cs, AlertRule::nameserver_behind, "10.0.0.3"));
    CHECK_FALSE(has(cs, AlertRule::nameserver_behind, "10.0.0.1"));
    CHECK(has(cs, AlertRule::zone_serial_mismatch));
    const auto& behind = *std::find_if(cs.begin(), cs.end(), [](const AlertCondition& c) {
        return c.rule == AlertRule::nameserver_behind;
    });
    CHECK(behind.nameserver == "ns3.");
    CHECK(behind.description.find("serves serial 5") != std::string::npos);
    CHECK(behind.description.find("2 step(s) behind the reference 7 (the primary's)") !=
          std::string::npos);
    // In sync again: nothing holds.
    CHECK(conditions(zone_at(&z, T0 + 10s, 7, 7), rules, T0 + 10s).empty());
}

TEST_CASE("rules: NameserverBehind thresholds and disabled rules", "[alerts]") {
    AlertRuleSet rules = AlertRuleSet::defaults(60s);
    rules[AlertRule::nameserver_behind].max_serial_behind = 2;
    rules[AlertRule::nameserver_behind].max_lag = 5min;
    const ZoneStatus z1 = zone_at(nullptr, T0, 7, 5);  // 2 behind: tolerated
    CHECK_FALSE(has(conditions(z1, rules, T0), AlertRule::nameserver_behind));
    const ZoneStatus z2 = zone_at(&z1, T0 + 4min, 8, 5);  // 3 behind
    CHECK(has(conditions(z2, rules, T0 + 4min), AlertRule::nameserver_behind));
    const ZoneStatus z3 = zone_at(nullptr, T0, 6, 5);
    const ZoneStatus z4 = zone_at(&z3, T0 + 6min, 6, 5);  // 1 behind, but for 6 minutes
    CHECK(has(conditions(z4, rules, T0 + 6min), AlertRule::nameserver_behind));
    rules[AlertRule::nameserver_behind].enabled = false;
    rules[AlertRule::zone_serial_mismatch].enabled = false;
    CHECK(conditions(z4, rules, T0 + 6min).empty());
}

TEST_CASE("rules: unreachable after N failures in a row, lame at once", "[alerts]") {
    const AlertRuleSet rules = AlertRuleSet::defaults(60s);  // unreachable: 3 in a row
    const auto probe = [](const ZoneStatus* prev, Clock::time_point t, ProbeError ns2_error) {
        return evaluate(
            prev, round(t, {ok("ns1.", "10.0.0.1", 7, t), failed("ns2.", "10.0.0.2", ns2_error, t),
                            failed("ns3.", "10.0.0.3", ProbeError::refused, t)}));
    };
    ZoneStatus z = probe(nullptr, T0, ProbeError::timeout);
    auto cs = conditions(z, rules, T0);
    CHECK_FALSE(has(cs, AlertRule::nameserver_unreachable));
    CHECK(has(cs, AlertRule::nameserver_lame, "10.0.0.3"));
    CHECK_FALSE(has(cs, AlertRule::nameserver_lame, "10.0.0.2"));
    z = probe(&z, T0 + 60s, ProbeError::connection_refused);
    CHECK_FALSE(has(conditions(z, rules, T0 + 60s), AlertRule::nameserver_unreachable));
    z = probe(&z, T0 + 120s, ProbeError::timeout);
    cs = conditions(z, rules, T0 + 120s);
    REQUIRE(has(cs, AlertRule::nameserver_unreachable, "10.0.0.2"));
    const auto& c = *std::find_if(cs.begin(), cs.end(), [](const AlertCondition& x) {
        return x.rule == AlertRule::nameserver_unreachable;
    });
    CHECK(c.description.find("last 3 SOA queries") != std::string::npos);
}

TEST_CASE("rules: expiry risk once behind for the configured share of SOA expire", "[alerts]") {
    AlertRuleSet rules = AlertRuleSet::defaults(0s);
    rules[AlertRule::zone_expiry_risk].expire_fraction = 0.5;
    const auto probe = [](const ZoneStatus* prev, Clock::time_point t, bool ns2_up) {
        std::vector<SoaObservation> obs{ok("ns1.", "10.0.0.1", 9, t)};
        obs.push_back(ns2_up ? ok("ns2.", "10.0.0.2", 8, t)
                             : failed("ns2.", "10.0.0.2", ProbeError::timeout, t));
        for (auto& o : obs)
            if (o.soa) o.soa->expire = 1000;
        return evaluate(prev, round(t, std::move(obs)));
    };
    ZoneStatus z = probe(nullptr, T0, true);
    CHECK_FALSE(has(conditions(z, rules, T0), AlertRule::zone_expiry_risk));
    z = probe(&z, T0 + 400s, false);  // unreachable, lacking the reference for 400 s of 1000
    CHECK_FALSE(has(conditions(z, rules, T0 + 400s), AlertRule::zone_expiry_risk));
    z = probe(&z, T0 + 501s, false);
    const auto cs = conditions(z, rules, T0 + 501s);
    REQUIRE(has(cs, AlertRule::zone_expiry_risk, "10.0.0.2"));
    const auto& c = *std::find_if(cs.begin(), cs.end(), [](const AlertCondition& x) {
        return x.rule == AlertRule::zone_expiry_risk;
    });
    CHECK(c.description.find("50% of the zone's SOA expire time") != std::string::npos);
}

TEST_CASE("rules: primary unreachable", "[alerts]") {
    const AlertRuleSet rules = AlertRuleSet::defaults(60s);
    const ZoneStatus z =
        evaluate(nullptr, round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("ns2.", "10.0.0.2", 7, T0)},
                                failed("", "10.0.0.10", ProbeError::connection_refused, T0)));
    const auto cs = conditions(z, rules, T0);
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].rule == AlertRule::primary_unreachable);
    CHECK(cs[0].address == "10.0.0.10");
    CHECK(cs[0].nameserver == "10.0.0.10");
}

TEST_CASE("engine: fires once after 'for', repeats after repeat_interval, resolves once",
          "[alerts]") {
    AlertingConfig config = config_with({receiver("hooks")}, 60s);
    config.repeat_interval = 1h;
    config.group_by = {"..."};
    AlertEngine engine(config, "http://soawatch.test:9353");
    const ZoneStatus behind = zone_at(nullptr, T0, 7, 5);
    engine.observe(behind, config.rules, T0);
    CHECK(engine.tick(T0).empty());
    auto snap = engine.snapshot();
    REQUIRE(snap->alerts.size() == 2);  // NameserverBehind and ZoneSerialMismatch
    CHECK(snap->alerts[0].state == AlertState::pending);
    CHECK(snap->pending_by_rule[static_cast<std::size_t>(AlertRule::nameserver_behind)] == 1);

    engine.observe(zone_at(&behind, T0 + 30s, 7, 5), config.rules, T0 + 30s);
    CHECK(engine.tick(T0 + 59s).empty());
    auto fired = engine.tick(T0 + 60s);
    CHECK(count_alerts(fired, "NameserverBehind", AlertState::firing) == 1);
    CHECK(count_alerts(fired, "ZoneSerialMismatch", AlertState::firing) == 1);
    CHECK(fired.size() == 2);  // group_by "...": one notification per alert
    const Alert& a = fired[0].alerts[0];
    CHECK(a.firing_since == T0 + 60s);
    CHECK(a.generator_url == "http://soawatch.test:9353/#zone=example.test.");
    CHECK(a.fingerprint.size() == 16);
    CHECK(engine.take_transitions().size() == 2);
    CHECK(
        engine.snapshot()->firing_by_rule[static_cast<std::size_t>(AlertRule::nameserver_behind)] ==
        1);

    CHECK(engine.tick(T0 + 61s).empty());
    CHECK(engine.tick(T0 + 60s + 59min).empty());
    CHECK(engine.tick(T0 + 60s + 60min).size() == 2);  // repeat_interval

    // Cleared: one resolved notification per alert, then silence.
    engine.observe(zone_at(&behind, T0 + 2h, 7, 7), config.rules, T0 + 2h);
    auto resolved = engine.tick(T0 + 2h);
    CHECK(count_alerts(resolved, "NameserverBehind", AlertState::resolved) == 1);
    CHECK(resolved.size() == 2);
    CHECK_FALSE(resolved[0].firing);
    CHECK(resolved[0].alerts[0].resolved_at == T0 + 2h);
    CHECK(engine.tick(T0 + 3h).empty());
    CHECK(engine.snapshot()->alerts.empty());
}

TEST_CASE("engine: a condition that clears within 'for' sends nothing", "[alerts]") {
    AlertingConfig config =
        config_with({receiver("hooks"), receiver("am", ReceiverType::alertmanager)}, 60s);
    AlertEngine engine(config, "http://x:1");
    const ZoneStatus behind = zone_at(nullptr, T0, 7, 5);
    engine.observe(behind, config.rules, T0);
    CHECK(engine.tick(T0 + 1s).empty());
    engine.observe(zone_at(&behind, T0 + 50s, 7, 7), config.rules, T0 + 50s);
    CHECK(engine.tick(T0 + 50s).empty());
    CHECK(engine.tick(T0 + 120s).empty());
    CHECK(engine.take_transitions().empty());
}

TEST_CASE("engine: alerts grouped by zone go out together", "[alerts]") {
    AlertingConfig config = config_with({receiver("hooks")}, 0s);
    config.group_by = {"zone"};
    AlertEngine engine(config, "http://x:1");
    engine.observe(zone_at(nullptr, T0, 7, 5), config.rules, T0);
    const auto out = engine.tick(T0);
    REQUIRE(out.size() == 1);
    CHECK(out[0].alerts.size() == 2);
    CHECK(out[0].group_key == "{zone=\"example.test.\"}");
    CHECK(out[0].group_labels == AlertLabels{{"zone", "example.test."}});
    // A new alert in the group: the group is sent again, with both.
    const ZoneStatus two_behind = evaluate(
        nullptr, round(T0 + 5s,
                       {ok("ns1.", "10.0.0.1", 7, T0 + 5s), ok("ns2.", "10.0.0.2", 6, T0 + 5s),
                        ok("ns3.", "10.0.0.3", 5, T0 + 5s)},
                       ok("", "10.0.0.10", 7, T0 + 5s)));
    engine.observe(two_behind, config.rules, T0 + 5s);
    const auto again = engine.tick(T0 + 5s);
    REQUIRE(again.size() == 1);
    CHECK(again[0].alerts.size() == 3);
}

TEST_CASE("engine: send_resolved false and routes", "[alerts]") {
    ReceiverConfig quiet = receiver("quiet");
    quiet.send_resolved = false;
    AlertingConfig config = config_with({quiet, receiver("unrouted")}, 0s);
    config.route_receivers = {"quiet"};
    AlertEngine engine(config, "http://x:1");
    const ZoneStatus z = zone_at(nullptr, T0, 7, 5);
    engine.observe(z, config.rules, T0);
    const auto fired = engine.tick(T0);
    REQUIRE_FALSE(fired.empty());
    for (const auto& n : fired) CHECK(n.receiver == 0);
    engine.observe(zone_at(&z, T0 + 10s, 7, 7), config.rules, T0 + 10s);
    CHECK(engine.tick(T0 + 10s).empty());
}

TEST_CASE("engine: Alertmanager receivers get firing alerts re-posted every resend_interval",
          "[alerts]") {
    AlertingConfig config = config_with({receiver("am", ReceiverType::alertmanager)}, 0s);
    config.resend_interval = 60s;
    AlertEngine engine(config, "http://x:1");
    const ZoneStatus z = zone_at(nullptr, T0, 7, 5);
    engine.observe(z, config.rules, T0);
    auto first = engine.tick(T0);
    REQUIRE(first.size() == 1);
    CHECK(first[0].alerts.size() == 2);
    CHECK(engine.tick(T0 + 30s).empty());
    auto resent = engine.tick(T0 + 60s);
    REQUIRE(resent.size() == 1);
    CHECK(resent[0].alerts.size() == 2);
    engine.observe(zone_at(&z, T0 + 70s, 7, 7), config.rules, T0 + 70s);
    auto resolved = engine.tick(T0 + 70s);
    REQUIRE(resolved.size() == 1);
    CHECK(count_alerts(resolved, "NameserverBehind", AlertState::resolved) == 1);
    CHECK(engine.tick(T0 + 200s).empty());
}

TEST_CASE("engine: reload adds receivers that hear of firing alerts; removed zones resolve",
          "[alerts]") {
    AlertingConfig config = config_with({receiver("a")}, 0s);
    config.group_by = {"..."};
    AlertEngine engine(config, "http://x:1");
    engine.observe(zone_at(nullptr, T0, 7, 5), config.rules, T0);
    CHECK(engine.tick(T0).size() == 2);
    config.receivers.push_back(receiver("b"));
    engine.configure(config);
    const auto told = engine.tick(T0 + 1s);
    REQUIRE(told.size() == 2);  // only b, which had not heard
    for (const auto& n : told) CHECK(n.receiver == 1);
    engine.retain_zones({"other.test."}, T0 + 2s);
    const auto resolved = engine.tick(T0 + 2s);
    CHECK(resolved.size() == 4);  // both alerts, to both receivers
    CHECK(count_alerts(resolved, "NameserverBehind", AlertState::resolved) == 2);
    CHECK(engine.snapshot()->alerts.empty());
}

TEST_CASE("engine: per-zone rules apply", "[alerts]") {
    AlertingConfig config = config_with({receiver("a")}, 0s);
    AlertRuleSet quiet = config.rules;
    quiet[AlertRule::nameserver_behind].for_duration = 10min;
    quiet[AlertRule::zone_serial_mismatch].enabled = false;
    AlertEngine engine(config, "http://x:1");
    engine.observe(zone_at(nullptr, T0, 7, 5), quiet, T0);
    CHECK(engine.tick(T0 + 5min).empty());
    const auto out = engine.tick(T0 + 10min);
    CHECK(count_alerts(out, "NameserverBehind", AlertState::firing) == 1);
    CHECK(count_alerts(out, "ZoneSerialMismatch", AlertState::firing) == 0);
}
