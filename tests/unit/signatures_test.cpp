// DNSSEC signature freshness per address: what the evaluator makes of the RRSIG(SOA) each address
// serves (agent/signatures.hpp), the built-in alerts, and what metrics, the API and the config
// show of it.
#include <catch2/catch.hpp>

#include <string>

#include "agent/alerting/alert_rules.hpp"
#include "agent/cli/check_flags.hpp"
#include "agent/config/config.hpp"
#include "agent/evaluator.hpp"
#include "agent/signatures.hpp"
#include "exporters/api/api_json.hpp"
#include "exporters/api/status_page_zone.hpp"
#include "exporters/metrics/metrics.hpp"
#include "tests/support/zone_rounds.hpp"

using namespace soawatch;
using namespace soawatch::test;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kT0 = 1'800'000'000;  // T0 in seconds
constexpr uint32_t kDay = 86400;

// An answer of a signed zone, DO set, with an RRSIG(SOA) valid from `inception` to `expiration`.
SoaObservation signed_ok(const std::string& ns, const std::string& addr, uint32_t serial,
                         uint32_t inception, uint32_t expiration) {
    SoaObservation o = ok(ns, addr, serial, T0);
    o.dnssec_asked = true;
    o.rrsig = RrsigTimes{inception, expiration, 4242, 13};
    return o;
}

SoaObservation unsigned_ok(const std::string& ns, const std::string& addr, uint32_t serial) {
    SoaObservation o = ok(ns, addr, serial, T0);
    o.dnssec_asked = true;
    return o;
}

const NameserverStatus& row(const ZoneStatus& z, const std::string& address) {
    for (const auto& s : z.servers)
        if (s.target->address == address) return s;
    FAIL("no row " << address);
    return z.servers.front();
}

bool has_reason(const ZoneStatus& z, const std::string& part) {
    for (const auto& r : z.reasons)
        if (r.find(part) != std::string::npos) return true;
    return false;
}

std::size_t count_rule(const std::vector<AlertCondition>& conditions, AlertRule rule,
                       const std::string& address) {
    std::size_t n = 0;
    for (const auto& c : conditions) n += c.rule == rule && c.address == address;
    return n;
}

}  // namespace

TEST_CASE("signatures: the address whose RRSIG(SOA) runs out first is named", "[signatures]") {
    // The primary re-signed (serial 8, 20 days left); ns2 is cut off and serves serial 7 with
    // the old signature (10 days left); ns1 has the new one.
    const ZoneStatus z = evaluate(
        nullptr, round(T0,
                       {signed_ok("ns1.", "10.0.0.1", 8, kT0 - kDay, kT0 + 20 * kDay),
                        signed_ok("ns2.", "10.0.0.2", 7, kT0 - 11 * kDay, kT0 + 10 * kDay)},
                       signed_ok("", "10.0.0.53", 8, kT0 - kDay, kT0 + 20 * kDay)));
    CHECK(z.signed_zone);
    REQUIRE(z.newest_signature_expiration);
    CHECK(*z.newest_signature_expiration == int64_t{kT0} + int64_t{20} * kDay);
    const auto& ns2 = row(z, "10.0.0.2");
    const auto ns2_signature = ns2.signature();
    REQUIRE(ns2_signature);
    CHECK(ns2_signature->expiration == int64_t{kT0} + int64_t{10} * kDay);
    CHECK(ns2_signature->inception == int64_t{kT0} - int64_t{11} * kDay);
    CHECK(ns2.signature_findings.older);
    CHECK_FALSE(row(z, "10.0.0.1").signature_findings.older);
    CHECK_FALSE(ns2.signature_findings.expiring);  // 10 days > 3 days
    CHECK(has_reason(z,
                     "ns2. (10.0.0.2) serves an RRSIG(SOA) expiring 2027-01-25T08:00:00Z, "
                     "10d before the newest one"));
    CHECK(z.verdict == Verdict::warning);

    const auto json = zone_to_json(z);
    CHECK(json["dnssec"]["signed"] == true);
    CHECK(json["dnssec"]["mode"] == "auto");
    CHECK(json["dnssec"]["older_signatures"] == nlohmann::json::array({"10.0.0.2"}));
    for (const auto& s : json["servers"]) {
        CHECK(s["dnssec"]["asked"] == true);
        CHECK(s["dnssec"]["rrsig"]["key_tag"] == 4242);
        CHECK(s["dnssec"]["older"] == (s["address"] == "10.0.0.2"));
    }

    const std::string text = MetricsExporter::render_zone(z);
    CHECK(text.find("soawatch_rrsig_expiration_timestamp_seconds{zone=\"example.test.\","
                    "nameserver=\"ns2.\",address=\"10.0.0.2\"} 1800864000\n") != std::string::npos);
    CHECK(text.find("soawatch_rrsig_inception_timestamp_seconds{zone=\"example.test.\","
                    "nameserver=\"ns1.\",address=\"10.0.0.1\"} 1799913600\n") != std::string::npos);
    CHECK(text.find("# TYPE soawatch_rrsig_expiration_timestamp_seconds gauge\n") !=
          std::string::npos);

    // The status page names it in its row, and in the zone's reasons.
    std::string page;
    append_zone(page, z, T0, true);
    CHECK(page.find("RRSIG(SOA) older than the newest: expires 2027-01-25T08:00:00Z") !=
          std::string::npos);
    CHECK(page.find("10d before the newest one") != std::string::npos);
}

TEST_CASE("signatures: an older signature at the reference serial is named, not a finding",
          "[signatures]") {
    // Two signers of one zone (RFC 8901), each with its own validity, at the same serial.
    const ZoneStatus z = evaluate(
        nullptr, round(T0, {signed_ok("ns1.", "10.0.0.1", 8, kT0 - kDay, kT0 + 20 * kDay),
                            signed_ok("ns2.", "10.0.0.2", 8, kT0 - kDay, kT0 + 16 * kDay)}));
    CHECK(row(z, "10.0.0.2").signature_findings.older);
    CHECK_FALSE(has_reason(z, "before the newest one"));
    CHECK(z.verdict == Verdict::ok);
    CHECK(zone_to_json(z)["dnssec"]["older_signatures"] == nlohmann::json::array({"10.0.0.2"}));
}

TEST_CASE("signatures: expired is critical, expiring and below the expire time are warnings",
          "[signatures][alerts]") {
    // SOA expire 14 days (zone_rounds.hpp); ns1: 2 days left; ns2 expired an hour ago; ns3: 10
    // days left, below its EDNS EXPIRE answer of 12 days; ns4: 30 days, fine.
    auto ns3 = signed_ok("ns3.", "10.0.0.3", 7, kT0 - kDay, kT0 + 10 * kDay);
    ns3.expire_asked = true;
    ns3.expire_remaining = 12 * kDay;
    const ZoneStatus z = evaluate(
        nullptr, round(T0, {signed_ok("ns1.", "10.0.0.1", 7, kT0 - kDay, kT0 + 2 * kDay),
                            signed_ok("ns2.", "10.0.0.2", 7, kT0 - kDay, kT0 - 3600), ns3,
                            signed_ok("ns4.", "10.0.0.4", 7, kT0 - kDay, kT0 + 30 * kDay)}));
    CHECK(row(z, "10.0.0.1").signature_findings.expiring);
    CHECK(row(z, "10.0.0.1").signature_findings.below_expire);  // 2 days < 14 days
    CHECK(row(z, "10.0.0.2").signature_findings.expired);
    CHECK_FALSE(row(z, "10.0.0.2").signature_findings.expiring);
    CHECK(row(z, "10.0.0.3").signature_findings.below_expire);
    CHECK_FALSE(row(z, "10.0.0.3").signature_findings.expiring);
    CHECK_FALSE(row(z, "10.0.0.4").signature_findings.below_expire);
    CHECK(z.verdict == Verdict::critical);
    CHECK(has_reason(z,
                     "ns2. (10.0.0.2) serves an expired RRSIG(SOA) (expired "
                     "2027-01-15T07:00:00Z, 1h ago)"));
    CHECK(has_reason(z, "ns1. (10.0.0.1) serves an RRSIG(SOA) that expires in 2d"));
    CHECK(has_reason(z,
                     "ns3. (10.0.0.3)'s RRSIG(SOA) runs out in 10d, before the zone would "
                     "expire there (12d, its EDNS EXPIRE answer)"));

    const auto rules = AlertRuleSet::defaults(Duration{60000});
    CHECK(rules[AlertRule::signature_expired].severity == "critical");
    const auto conditions = evaluate_alert_rules(z, rules, T0);
    CHECK(count_rule(conditions, AlertRule::signature_expired, "10.0.0.2") == 1);
    CHECK(count_rule(conditions, AlertRule::signature_expiring_soon, "10.0.0.1") == 1);
    CHECK(count_rule(conditions, AlertRule::signature_expiring_soon, "10.0.0.4") == 0);
    CHECK(count_rule(conditions, AlertRule::signature_validity_below_expire, "10.0.0.3") == 1);
    CHECK(count_rule(conditions, AlertRule::signature_validity_below_expire, "10.0.0.4") == 0);
    CHECK(count_rule(conditions, AlertRule::signature_validity_below_expire, "10.0.0.2") == 0);
    for (const auto& c : conditions)
        if (c.rule == AlertRule::signature_expired) {
            CHECK(c.nameserver == "ns2.");
            CHECK(c.description.find("key tag 4242, algorithm 13") != std::string::npos);
        }

    // Thresholds and switches come from the rules: min_validity, and disabled rules are silent.
    AlertRuleSet strict = rules;
    strict[AlertRule::signature_expiring_soon].min_validity = Duration{40LL * kDay * 1000};
    strict[AlertRule::signature_validity_below_expire].enabled = false;
    ZoneCheckResult r = round(T0, {signed_ok("ns4.", "10.0.0.4", 7, kT0 - kDay, kT0 + 30 * kDay)});
    r.rules = std::make_shared<const AlertRuleSet>(strict);
    const ZoneStatus z4 = evaluate(nullptr, r);
    CHECK(row(z4, "10.0.0.4").signature_findings.expiring);
    const auto strict_conditions = evaluate_alert_rules(z4, strict, T0);
    CHECK(count_rule(strict_conditions, AlertRule::signature_expiring_soon, "10.0.0.4") == 1);
    CHECK(count_rule(strict_conditions, AlertRule::signature_validity_below_expire, "10.0.0.4") ==
          0);
}

TEST_CASE("signatures: unsigned answers of a signed zone, dnssec true, and unsigned zones",
          "[signatures]") {
    // auto: ns2 answers without RRSIG(SOA) while ns1 signs.
    ZoneStatus z =
        evaluate(nullptr, round(T0, {signed_ok("ns1.", "10.0.0.1", 7, kT0 - kDay, kT0 + 20 * kDay),
                                     unsigned_ok("ns2.", "10.0.0.2", 7)}));
    CHECK(row(z, "10.0.0.2").signature_findings.missing);
    CHECK(has_reason(z, "ns2. (10.0.0.2) answers without RRSIG(SOA)"));

    // An unsigned hidden primary behind a signer (a bump in the wire) is not missing anything.
    z = evaluate(nullptr, round(T0,
                                {signed_ok("ns1.", "10.0.0.1", 7, kT0 - kDay, kT0 + 20 * kDay),
                                 signed_ok("ns2.", "10.0.0.2", 7, kT0 - kDay, kT0 + 20 * kDay)},
                                unsigned_ok("", "10.0.0.53", 7)));
    CHECK_FALSE(row(z, "10.0.0.53").signature_findings.missing);
    CHECK(z.verdict == Verdict::ok);

    // auto, nobody signs: an unsigned zone, nothing to say.
    z = evaluate(nullptr, round(T0, {unsigned_ok("ns1.", "10.0.0.1", 7),
                                     unsigned_ok("ns2.", "10.0.0.2", 7)}));
    CHECK_FALSE(z.signed_zone);
    CHECK(z.verdict == Verdict::ok);
    CHECK(MetricsExporter::render_zone(z).find("soawatch_rrsig") == std::string::npos);

    // dnssec: true, nobody signs: every address is named.
    ZoneCheckResult r =
        round(T0, {unsigned_ok("ns1.", "10.0.0.1", 7), unsigned_ok("ns2.", "10.0.0.2", 7)});
    r.dnssec = DnssecMode::required;
    z = evaluate(nullptr, r);
    CHECK(row(z, "10.0.0.1").signature_findings.missing);
    CHECK(has_reason(z, "and the zone has dnssec: true"));
    CHECK(z.verdict == Verdict::warning);

    // No DO asked (EDNS off, or dnssec: false): no signature, and none missed.
    r = round(T0, {ok("ns1.", "10.0.0.1", 7, T0), ok("ns2.", "10.0.0.2", 7, T0)});
    r.dnssec = DnssecMode::required;
    z = evaluate(nullptr, r);
    CHECK_FALSE(row(z, "10.0.0.1").signature_findings.missing);
    CHECK(zone_to_json(z)["servers"][0]["dnssec"]["asked"] == false);
    CHECK(zone_to_json(z)["servers"][0]["dnssec"]["rrsig"].is_null());

    // An unusable address has no signature and no finding.
    z = evaluate(nullptr, round(T0, {signed_ok("ns1.", "10.0.0.1", 7, kT0 - kDay, kT0 + 20 * kDay),
                                     failed("ns2.", "10.0.0.2", ProbeError::timeout, T0)}));
    CHECK_FALSE(row(z, "10.0.0.2").signature());
    CHECK_FALSE(row(z, "10.0.0.2").signature_findings.missing);
}

TEST_CASE("signatures: times wrap around 2^32 relative to the answer (RFC 4034 3.1.5)",
          "[signatures]") {
    // An answer in 2106, just after the 32-bit seconds wrapped: the expiration 0x100 is ahead.
    const auto at = Clock::time_point(std::chrono::seconds((int64_t{1} << 32) + 10));
    SoaObservation o = ok("ns1.", "10.0.0.1", 7, at);
    o.rrsig = RrsigTimes{0xffffff00u, 0x100u, 1, 13};
    const ZoneStatus z = evaluate(nullptr, round(at, {o}));
    const auto sig = row(z, "10.0.0.1").signature();
    REQUIRE(sig);
    CHECK(sig->expiration == (int64_t{1} << 32) + 0x100);
    CHECK(sig->inception == 0xffffff00);
    CHECK_FALSE(row(z, "10.0.0.1").signature_findings.expired);
}

TEST_CASE("signatures: dnssec in the config and on the command line", "[signatures][config]") {
    const Config c = parse_config(
        "global:\n  dnssec: false\nzones:\n  - a.test\n  - name: b.test\n    dnssec: true\n"
        "  - name: c.test\n    dnssec: auto\nalerting:\n  rules:\n    SignatureExpiringSoon:\n"
        "      min_validity: 7d\n",
        "t.yml");
    CHECK(c.global.probe.dnssec == DnssecMode::off);
    CHECK(effective_probe_settings(c.global, c.zones[0]).dnssec == DnssecMode::off);
    CHECK(effective_probe_settings(c.global, c.zones[1]).dnssec == DnssecMode::required);
    CHECK(effective_probe_settings(c.global, c.zones[2]).dnssec == DnssecMode::automatic);
    CHECK(c.alerting.rules[AlertRule::signature_expiring_soon].min_validity ==
          Duration{7LL * kDay * 1000});
    CHECK(parse_config("zones: [a.test]\n", "t.yml").global.probe.dnssec == DnssecMode::automatic);
    CHECK_THROWS_WITH(parse_config("alerting:\n  rules:\n    SignatureExpired:\n      "
                                   "min_validity: 1d\nzones: [a.test]\n",
                                   "t.yml"),
                      Catch::Contains("not a setting of SignatureExpired"));

    CHECK(parse_check_options({"--dnssec=true", "a.test"}).options.global.probe.dnssec ==
          DnssecMode::required);
    CHECK(parse_check_options({"--dnssec", "maybe", "a.test"}).error ==
          "--dnssec: allowed auto, true or false");
    CHECK(parse_check_options({"--dnssec=true", "--edns-bufsize=0", "a.test"}).error ==
          "--dnssec: true needs EDNS (edns_udp_size 0 sends no OPT record, and DO travels in it: "
          "RFC 3225 3)");
}
