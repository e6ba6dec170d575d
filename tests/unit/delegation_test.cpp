// The delegation check: answers captured from the lab's servers classified
// (probes/delegation_answer), the findings drawn from both sides (agent/delegation_findings), and
// their place in the verdict and the DelegationMismatch alert.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "agent/alerting/alert_rules.hpp"
#include "agent/delegation_findings.hpp"
#include "agent/transfer_audit.hpp"
#include "probes/delegation_answer.hpp"
#include "probes/dns_wire.hpp"

using soawatch::AddressObservation;
using soawatch::DelegationAudit;
using soawatch::DelegationProblem;
using soawatch::NsObservation;
using soawatch::Transport;
namespace dns = soawatch::dns;

namespace {

std::vector<uint8_t> captured(const char* name) {
    const auto path =
        std::filesystem::path(SOAWATCH_SOURCE_DIR) / "fuzz" / "corpus" / "delegation_answer" / name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

NsObservation ns_answer(const char* address, std::vector<std::string> names, bool referral = false,
                        std::vector<std::pair<std::string, std::string>> glue = {}) {
    NsObservation obs;
    obs.target = {"", address, 53};
    obs.names = std::move(names);
    obs.referral = referral;
    obs.glue = std::move(glue);
    return obs;
}

const std::vector<std::string> kThree{"ns1.lab.test.", "ns2.lab.test.", "ns3.lab.test."};

// A healthy zone: the parent delegates to the three names the zone's two servers list.
DelegationAudit healthy() {
    DelegationAudit audit;
    audit.parent = {ns_answer("192.0.2.53", kThree, true)};
    audit.child = {ns_answer("192.0.2.1", kThree), ns_answer("192.0.2.2", kThree)};
    return audit;
}

}  // namespace

TEST_CASE("unit: delegation answers captured from the lab are classified", "[delegation]") {
    NsObservation referral;
    CHECK_FALSE(soawatch::classify_ns_answer(captured("lab-parent-referral-glue.bin"),
                                             "example.test.", Transport::udp, referral));
    CHECK(referral.usable());
    CHECK(referral.referral);
    CHECK(referral.names == std::vector<std::string>{"ns-glue.example.test.", "ns1.lab.test.",
                                                     "ns2.lab.test.", "ns3.lab.test."});
    CHECK(referral.glue == std::vector<std::pair<std::string, std::string>>{
                               {"ns-glue.example.test.", "127.0.100.12"}});

    for (const char* file : {"lab-bind-ns-authoritative.bin", "lab-knot-ns-authoritative.bin"}) {
        NsObservation own;
        soawatch::classify_ns_answer(captured(file), "example.test.", Transport::udp, own);
        CHECK(own.usable());
        CHECK_FALSE(own.referral);
        CHECK(own.names.size() == 4);
        CHECK(own.glue.empty());
    }

    AddressObservation a;
    soawatch::classify_address_answer(captured("lab-bind-a-in-zone.bin"), "ns-glue.example.test.",
                                      dns::rrtype::A, Transport::udp, a);
    CHECK(a.error.empty());
    CHECK(a.addresses == std::vector<std::string>{"127.0.100.13"});
    AddressObservation aaaa;
    soawatch::classify_address_answer(captured("lab-bind-aaaa-nodata.bin"), "ns-glue.example.test.",
                                      dns::rrtype::AAAA, Transport::udp, aaaa);
    CHECK(aaaa.error.empty());
    CHECK(aaaa.addresses.empty());

    // Another question, a cut message: errors, never names.
    NsObservation other;
    soawatch::classify_ns_answer(captured("lab-parent-referral-glue.bin"), "second.test.",
                                 Transport::udp, other);
    CHECK(other.error == "the answer is for another question");
    CHECK(other.names.empty());
    auto cut = captured("lab-bind-ns-authoritative.bin");
    cut.resize(40);
    NsObservation broken;
    soawatch::classify_ns_answer(cut, "example.test.", Transport::udp, broken);
    CHECK_FALSE(broken.usable());
    CHECK(broken.names.empty());
}

TEST_CASE("unit: a healthy delegation has no findings", "[delegation]") {
    DelegationAudit audit = healthy();
    soawatch::find_delegation_problems(audit, "example.test.");
    CHECK(audit.findings.empty());
    REQUIRE(audit.parent_ns);
    CHECK(*audit.parent_ns == kThree);
    REQUIRE(audit.child_ns);
    CHECK(*audit.child_ns == kThree);
}

TEST_CASE("unit: each delegation fault has its own finding, names and side", "[delegation]") {
    SECTION("a name only at the parent, and one only at the child") {
        DelegationAudit audit = healthy();
        audit.parent.edit()[0].names = {"ns1.lab.test.", "ns2.lab.test.", "nsx.lab.test."};
        soawatch::find_delegation_problems(audit, "example.test.");
        REQUIRE(audit.findings.size() == 2);
        CHECK(audit.findings[0].problem == DelegationProblem::parent_child_differ);
        CHECK(audit.findings[0].side == "parent");
        CHECK(audit.findings[0].names == std::vector<std::string>{"nsx.lab.test."});
        CHECK(audit.findings[0].addresses == std::vector<std::string>{"192.0.2.53"});
        CHECK(audit.findings[1].side == "child");
        CHECK(audit.findings[1].names == std::vector<std::string>{"ns3.lab.test."});
        CHECK(audit.findings[1].addresses == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    }
    SECTION("the zone's servers disagree") {
        DelegationAudit audit = healthy();
        audit.child.edit()[1].names = {"ns1.lab.test.", "ns2.lab.test."};
        audit.parent.edit()[0].names = {"ns1.lab.test.", "ns2.lab.test."};
        soawatch::find_delegation_problems(audit, "example.test.");
        CHECK(audit.has(DelegationProblem::ns_sets_differ));
        const auto& f = audit.findings.back();
        CHECK(f.problem == DelegationProblem::ns_sets_differ);
        CHECK(f.names == std::vector<std::string>{"ns3.lab.test."});
        CHECK(f.addresses.size() == 2);
    }
    SECTION("glue that differs from the zone's own address, per family") {
        DelegationAudit audit = healthy();
        const std::vector<std::string> four{"ns-glue.example.test.", "ns1.lab.test.",
                                            "ns2.lab.test.", "ns3.lab.test."};
        audit.parent.edit()[0].names = four;
        audit.parent.edit()[0].glue = {{"ns-glue.example.test.", "192.0.2.12"}};
        audit.child.edit()[0].names = audit.child.edit()[1].names = four;
        AddressObservation a;
        a.name = "ns-glue.example.test.";
        a.type = dns::rrtype::A;
        a.addresses = {"192.0.2.13"};
        AddressObservation aaaa = a;
        aaaa.type = dns::rrtype::AAAA;
        aaaa.addresses = {"2001:db8::13"};  // no AAAA glue: no mismatch for that family
        audit.in_zone_addresses = {a, aaaa};
        soawatch::find_delegation_problems(audit, "example.test.");
        REQUIRE(audit.findings.size() == 1);
        CHECK(audit.findings[0].problem == DelegationProblem::glue_mismatch);
        CHECK(audit.findings[0].names == std::vector<std::string>{"ns-glue.example.test."});
        CHECK(audit.findings[0].addresses == std::vector<std::string>{"192.0.2.12", "192.0.2.13"});

        audit.in_zone_addresses[0].addresses = {"192.0.2.12"};
        soawatch::find_delegation_problems(audit, "example.test.");
        CHECK(audit.findings.empty());
    }
    SECTION("an NS name without address") {
        DelegationAudit audit = healthy();
        audit.unresolved = {{"ns-gone.lab.test.", soawatch::AddressError::nxdomain, "NXDOMAIN"}};
        soawatch::find_delegation_problems(audit, "example.test.");
        REQUIRE(audit.findings.size() == 1);
        CHECK(audit.findings[0].problem == DelegationProblem::ns_unresolvable);
        CHECK(audit.findings[0].names == std::vector<std::string>{"ns-gone.lab.test."});
    }
    SECTION("a single NS name at both sides") {
        DelegationAudit audit = healthy();
        audit.parent.edit()[0].names = {"ns1.lab.test."};
        audit.child.edit()[0].names = audit.child.edit()[1].names = {"ns1.lab.test."};
        soawatch::find_delegation_problems(audit, "example.test.");
        REQUIRE(audit.findings.size() == 2);
        CHECK(audit.findings[0].problem == DelegationProblem::too_few_ns);
        CHECK(audit.findings[0].side == "parent");
        CHECK(audit.findings[1].side == "child");
    }
    SECTION("no referral: nothing about the parent, the zone's own view stays") {
        DelegationAudit audit = healthy();
        audit.parent.edit()[0].referral = false;  // a parent server that serves the zone too
        audit.child.edit()[1].names = {"ns1.lab.test."};
        soawatch::find_delegation_problems(audit, "example.test.");
        CHECK_FALSE(audit.parent_ns);
        CHECK_FALSE(audit.has(DelegationProblem::parent_child_differ));
        CHECK(audit.has(DelegationProblem::ns_sets_differ));
    }
}

TEST_CASE("unit: delegation findings make an OK zone WARNING and fire DelegationMismatch",
          "[delegation]") {
    auto audit = std::make_shared<DelegationAudit>(healthy());
    audit->parent.edit()[0].names = {"ns1.lab.test.", "ns2.lab.test.", "ns3.lab.test.",
                                     "nsx.lab.test."};
    soawatch::find_delegation_problems(*audit, "example.test.");
    soawatch::ZoneStatus status;
    status.zone = "example.test.";
    status.verdict = status.evaluated_verdict = soawatch::Verdict::ok;
    status.delegation = audit;
    soawatch::apply_transfer_findings(status);
    soawatch::apply_delegation_findings(status);
    CHECK(status.verdict == soawatch::Verdict::warning);
    REQUIRE(status.reasons.size() == 1);
    CHECK(status.reasons[0].find("nsx.lab.test.") != std::string::npos);

    auto rules = soawatch::AlertRuleSet::defaults(soawatch::Duration{60000});
    const auto conditions = soawatch::evaluate_alert_rules(status, rules, soawatch::Clock::now());
    REQUIRE(conditions.size() == 1);
    CHECK(conditions[0].rule == soawatch::AlertRule::delegation_mismatch);
    CHECK(conditions[0].summary ==
          "delegation of example.test.: parent_child_ns_differ at the parent (nsx.lab.test.)");
    CHECK(soawatch::alert_rule_name(soawatch::AlertRule::delegation_mismatch) ==
          "DelegationMismatch");
    CHECK(rules[soawatch::AlertRule::delegation_mismatch].severity == "warning");
    rules[soawatch::AlertRule::delegation_mismatch].enabled = false;
    CHECK(soawatch::evaluate_alert_rules(status, rules, soawatch::Clock::now()).empty());
}

TEST_CASE("unit: in-zone NS names", "[delegation]") {
    CHECK(soawatch::is_in_zone("ns.example.test.", "example.test."));
    CHECK(soawatch::is_in_zone("example.test.", "example.test."));
    CHECK_FALSE(soawatch::is_in_zone("ns.badexample.test.", "example.test."));
    CHECK_FALSE(soawatch::is_in_zone("ns1.lab.test.", "example.test."));
    CHECK(soawatch::is_in_zone("ns1.lab.test.", "."));
}
