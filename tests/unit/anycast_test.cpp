// Anycast: instances behind one address told apart by NSID (agent/anycast.hpp): what the
// evaluator remembers per instance, when an instance lags, the window and the cap, and what
// the alert rule, the metrics, the API and the status page make of it.
#include <catch2/catch.hpp>

#include <string>

#include "agent/alerting/alert_rules.hpp"
#include "agent/anycast.hpp"
#include "agent/evaluator.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/status_page_zone.hpp"
#include "exporters/metrics/metrics.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kAnycast = "10.0.0.53";

SoaObservation at_instance(const std::string& nsid, uint32_t serial, Clock::time_point at) {
    SoaObservation o = ok("ns.", kAnycast, serial, at);
    o.nsid = SharedNsid::of(nsid);
    return o;
}

// One round: the hidden primary at `reference`, the anycast address answered by `nsid`.
ZoneCheckResult anycast_round(const std::string& nsid, uint32_t serial, Clock::time_point at,
                              uint32_t reference = 10) {
    ZoneCheckResult r =
        round(at, {at_instance(nsid, serial, at)}, ok("", "10.0.0.1", reference, at));
    r.instance_window = instance_window(60s);
    return r;
}

// The zone has one NS name (the anycast one): one usable name is enough for these tests.
ZoneStatus next(const ZoneStatus* previous, const ZoneCheckResult& r) {
    return evaluate(previous, r, VerdictPolicy{1, true});
}

const NameserverStatus& anycast_row(const ZoneStatus& z) {
    for (const auto& s : z.servers)
        if (s.target->address == kAnycast) return s;
    FAIL("no anycast row");
    return z.servers.front();
}

const InstanceStatus* instance(const ZoneStatus& z, const std::string& nsid) {
    const auto& s = anycast_row(z);
    if (!s.instances) return nullptr;
    for (const auto& i : *s.instances)
        if (i.nsid.view() == nsid) return &i;
    return nullptr;
}

}  // namespace

TEST_CASE("anycast: one identity keeps no instance table", "[anycast][evaluator]") {
    ZoneStatus z = next(nullptr, anycast_round("a", 10, T0));
    for (int n = 1; n < 5; ++n) z = next(&z, anycast_round("a", 10, T0 + n * 60s));
    CHECK(anycast_row(z).instances == nullptr);
    CHECK(MetricsExporter::render_zone(z).find("soawatch_instance_serial_behind") ==
          std::string::npos);
}

TEST_CASE("anycast: an instance older than another at the same address lags, and is named",
          "[anycast][evaluator]") {
    ZoneStatus z = next(nullptr, anycast_round("good", 10, T0));
    z = next(&z, anycast_round("stale", 7, T0 + 60s));
    REQUIRE(anycast_row(z).instances != nullptr);
    REQUIRE(anycast_row(z).instances->size() == 2);
    const InstanceStatus* stale = instance(z, "stale");
    const InstanceStatus* good = instance(z, "good");
    REQUIRE(stale);
    REQUIRE(good);
    CHECK(stale->serial == 7);
    CHECK(stale->serial_behind == 3);
    CHECK(stale->lagging);
    CHECK(good->serial == 10);
    CHECK_FALSE(good->lagging);
    CHECK(z.verdict == Verdict::warning);
    CHECK(std::any_of(z.reasons.begin(), z.reasons.end(), [](const std::string& r) {
        return r.find("instance \"stale\" of ns. (10.0.0.53) answers serial 7, 3 behind") !=
               std::string::npos;
    }));

    // While the good instance answers, the stale one stays named (within the window).
    z = next(&z, anycast_round("good", 10, T0 + 120s));
    REQUIRE(instance(z, "stale"));
    CHECK(instance(z, "stale")->lagging);
    CHECK(anycast_row(z).state == ServerState::in_sync);

    const auto conditions = evaluate_alert_rules(z, AlertRuleSet::defaults(0ms), T0 + 120s);
    const auto found = std::find_if(conditions.begin(), conditions.end(), [](const auto& c) {
        return c.rule == AlertRule::anycast_instance_behind;
    });
    REQUIRE(found != conditions.end());
    CHECK(found->nsid == "stale");
    CHECK(found->address == kAnycast);
    CHECK(found->nameserver == "ns.");
    CHECK(alert_rule_name(AlertRule::anycast_instance_behind) == "AnycastInstanceBehind");
    CHECK(std::count_if(conditions.begin(), conditions.end(), [](const auto& c) {
              return c.rule == AlertRule::anycast_instance_behind;
          }) == 1);

    const std::string text = MetricsExporter::render_zone(z);
    CHECK(text.find("soawatch_instance_serial_behind{zone=\"example.test.\",nameserver=\"ns.\","
                    "address=\"10.0.0.53\",nsid=\"stale\"} 3\n") != std::string::npos);
    CHECK(text.find("soawatch_instance_serial_behind{zone=\"example.test.\",nameserver=\"ns.\","
                    "address=\"10.0.0.53\",nsid=\"good\"} 0\n") != std::string::npos);

    const auto json = zone_to_json(z);
    for (const auto& s : json["servers"]) {
        if (s["address"] != kAnycast) {
            CHECK(s["instances"].empty());
            continue;
        }
        REQUIRE(s["instances"].size() == 2);
        CHECK(s["instances"][0]["nsid"] == "good");
        CHECK(s["instances"][1]["nsid"] == "stale");
        CHECK(s["instances"][1]["nsid_hex"] == "7374616c65");
        CHECK(s["instances"][1]["serial"] == 7);
        CHECK(s["instances"][1]["behind"] == 3);
        CHECK(s["instances"][1]["lagging"] == true);
        CHECK(s["instances"][0]["lagging"] == false);
    }

    std::string page;
    append_zone(page, z, T0 + 120s, true);
    CHECK(page.find("instances behind ns. (10.0.0.53):") != std::string::npos);
    CHECK(page.find("<b class=\"lagging\" title=\"NSID 7374616c65\">stale</b> 7 (3 behind, "
                    "lagging)") != std::string::npos);

    // The stale instance catches up: nothing lags any more.
    z = next(&z, anycast_round("stale", 10, T0 + 180s));
    REQUIRE(instance(z, "stale"));
    CHECK_FALSE(instance(z, "stale")->lagging);
    CHECK(z.verdict == Verdict::ok);
}

TEST_CASE("anycast: instances not heard within the window are forgotten", "[anycast][evaluator]") {
    ZoneStatus z = next(nullptr, anycast_round("good", 10, T0));
    z = next(&z, anycast_round("stale", 7, T0 + 60s));
    REQUIRE(instance(z, "stale"));
    // Three intervals (the window) after its last answer it is still remembered; then it is not.
    z = next(&z, anycast_round("good", 10, T0 + 60s + 180s));
    CHECK(instance(z, "stale"));
    z = next(&z, anycast_round("good", 10, T0 + 60s + 181s));
    CHECK(anycast_row(z).instances == nullptr);
    CHECK(z.verdict == Verdict::ok);
}

TEST_CASE("anycast: at most kMaxInstancesPerAddress instances, the oldest makes room",
          "[anycast][evaluator]") {
    ZoneStatus z = next(nullptr, anycast_round("i0", 10, T0));
    for (int n = 1; n < 20; ++n)
        z = next(&z, anycast_round("i" + std::to_string(n), 10, T0 + n * 1s));
    REQUIRE(anycast_row(z).instances != nullptr);
    CHECK(anycast_row(z).instances->size() == kMaxInstancesPerAddress);
    CHECK(instance(z, "i19"));
    CHECK_FALSE(instance(z, "i0"));
}

TEST_CASE("anycast: instances behind the reference but agreeing with each other do not lag",
          "[anycast][evaluator]") {
    // Both instances have 8 while the primary has 10: the address is behind (NameserverBehind),
    // but no instance lags another.
    ZoneStatus z = next(nullptr, anycast_round("a", 8, T0));
    z = next(&z, anycast_round("b", 8, T0 + 60s));
    REQUIRE(instance(z, "a"));
    CHECK(instance(z, "a")->serial_behind == 2);
    CHECK_FALSE(instance(z, "a")->lagging);
    CHECK_FALSE(instance(z, "b")->lagging);
}

TEST_CASE("anycast: known anycast addresses get 2n extra probes; their answers fill the table",
          "[anycast][evaluator]") {
    ZoneStatus z = next(nullptr, anycast_round("good", 10, T0));
    CHECK(instance_sampling(z).empty());  // one identity: no extra probe
    z = next(&z, anycast_round("stale", 7, T0 + 60s));
    auto sampling = instance_sampling(z);
    REQUIRE(sampling.size() == 1);
    CHECK(sampling[0].target == anycast_row(z).target);
    CHECK(sampling[0].samples == 2 * 2);

    // The ordinary probe reaches "good" only; a sample reaches "stale": it is refreshed, not
    // forgotten, and a third instance heard only by a sample joins.
    ZoneCheckResult r = anycast_round("good", 10, T0 + 300s);
    r.instance_samples = {at_instance("stale", 8, T0 + 300s), at_instance("third", 10, T0 + 300s),
                          failed("ns.", kAnycast, ProbeError::timeout, T0 + 300s)};
    z = next(&z, r);
    REQUIRE(instance(z, "stale"));
    CHECK(instance(z, "stale")->serial == 8);
    CHECK(instance(z, "stale")->lagging);
    CHECK(instance(z, "third"));
    CHECK(instance_sampling(z)[0].samples == 2 * 3);
    // The samples never make the address's state: its ordinary probe does.
    CHECK(anycast_row(z).state == ServerState::in_sync);
    CHECK(anycast_row(z).soa->serial == 10);
}

TEST_CASE("anycast: samples in a zone's first round find the instances at once",
          "[anycast][evaluator]") {
    ZoneCheckResult r = anycast_round("good", 10, T0);
    r.instance_samples = {at_instance("good", 10, T0), at_instance("stale", 7, T0)};
    const ZoneStatus z = next(nullptr, r);
    REQUIRE(instance(z, "stale"));
    CHECK(instance(z, "stale")->lagging);
    // Samples that all reach the same instance make no table.
    r.instance_samples = {at_instance("good", 10, T0), at_instance("good", 10, T0)};
    CHECK(anycast_row(next(nullptr, r)).instances == nullptr);
}
