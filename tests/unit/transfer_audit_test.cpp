// The transfer audit's findings in a zone's verdict and reasons (agent/transfer_audit.*).
#include "agent/transfer_audit.hpp"

#include <catch2/catch.hpp>
#include <memory>

#include "agent/alerting/alert_rules.hpp"

using soawatch::apply_transfer_findings;
using soawatch::TransferAudit;
using soawatch::TransferObservation;
using soawatch::TransferResult;
using soawatch::Verdict;
using soawatch::ZoneStatus;

namespace {

TransferObservation observed(const char* name, const char* address, TransferResult result) {
    TransferObservation obs;
    obs.zone = "example.test.";
    obs.target = {name, address, 53};
    obs.result = result;
    obs.detail = "rcode REFUSED";
    return obs;
}

}  // namespace

TEST_CASE("unit: transfer findings raise OK to WARNING and are replaced by the next audit",
          "[transfer]") {
    ZoneStatus status;
    status.verdict = status.evaluated_verdict = Verdict::ok;
    status.reasons = {};
    status.evaluated_reasons = 0;
    apply_transfer_findings(status);  // no audit yet
    CHECK(status.verdict == Verdict::ok);

    auto audit = std::make_shared<TransferAudit>();
    audit->axfr = {observed("", "192.0.2.1", TransferResult::refused),
                   observed("ns1.example.", "192.0.2.11", TransferResult::open),
                   observed("ns2.example.", "192.0.2.12", TransferResult::timeout)};
    status.transfer = audit;
    apply_transfer_findings(status);
    CHECK(status.verdict == Verdict::warning);
    REQUIRE(status.reasons.size() == 1);
    CHECK(status.reasons[0] ==
          "zone transfer open at ns1.example. (192.0.2.11): an unsigned AXFR from anyone is "
          "answered with the zone");

    // Applied again (a new audit on the same status): the old findings go first.
    auto keyed = std::make_shared<TransferAudit>();
    keyed->axfr = {observed("", "192.0.2.1", TransferResult::refused)};
    keyed->signed_ixfr = observed("", "192.0.2.1", TransferResult::badsig);
    keyed->signed_ixfr->detail = "the server answers TSIG BADSIG";
    status.transfer = keyed;
    apply_transfer_findings(status);
    CHECK(status.verdict == Verdict::warning);
    REQUIRE(status.reasons.size() == 1);
    CHECK(status.reasons[0] ==
          "the primary 192.0.2.1 does not serve a TSIG-signed IXFR with the secondaries' key: "
          "badsig (the server answers TSIG BADSIG)");

    keyed->signed_ixfr->result = TransferResult::ok;
    apply_transfer_findings(status);
    CHECK(status.verdict == Verdict::ok);
    CHECK(status.reasons.empty());

    // A CRITICAL zone stays CRITICAL; its own reasons stay first.
    status.evaluated_verdict = Verdict::critical;
    status.reasons = {"the primary does not answer"};
    status.evaluated_reasons = 1;
    status.transfer = audit;
    apply_transfer_findings(status);
    CHECK(status.verdict == Verdict::critical);
    REQUIRE(status.reasons.size() == 2);
    CHECK(status.reasons[0] == "the primary does not answer");
}

TEST_CASE("unit: transfer alerts name the open address and the primary's keyed result",
          "[transfer]") {
    ZoneStatus status;
    status.zone = "example.test.";
    auto audit = std::make_shared<TransferAudit>();
    audit->axfr = {observed("", "192.0.2.1", TransferResult::refused),
                   observed("ns1.example.", "192.0.2.11", TransferResult::open)};
    audit->axfr[1].serial = 7;
    audit->signed_ixfr = observed("", "192.0.2.1", TransferResult::badkey);
    audit->signed_ixfr->detail = "the server answers TSIG BADKEY";
    status.transfer = audit;
    auto rules = soawatch::AlertRuleSet::defaults(soawatch::Duration{60000});
    const auto conditions = soawatch::evaluate_alert_rules(status, rules, soawatch::Clock::now());
    REQUIRE(conditions.size() == 2);
    CHECK(conditions[0].rule == soawatch::AlertRule::zone_transfer_open);
    CHECK(conditions[0].nameserver == "ns1.example.");
    CHECK(conditions[0].address == "192.0.2.11");
    CHECK(conditions[0].summary ==
          "ns1.example. (192.0.2.11) hands example.test. to anyone (open AXFR)");
    CHECK(conditions[1].rule == soawatch::AlertRule::primary_transfer_broken);
    CHECK(conditions[1].address == "192.0.2.1");
    CHECK(conditions[1].summary ==
          "the primary 192.0.2.1 does not serve example.test. with the secondaries' key (badkey)");
    CHECK(soawatch::alert_rule_name(soawatch::AlertRule::zone_transfer_open) == "ZoneTransferOpen");
    CHECK(soawatch::alert_rule_from_name("PrimaryTransferBroken") ==
          soawatch::AlertRule::primary_transfer_broken);
    CHECK(rules[soawatch::AlertRule::zone_transfer_open].severity == "warning");

    rules[soawatch::AlertRule::zone_transfer_open].enabled = false;
    audit->signed_ixfr->result = TransferResult::ok;
    CHECK(soawatch::evaluate_alert_rules(status, rules, soawatch::Clock::now()).empty());
}
