// The RFC 9432 catalog reader: members, the version property, and what makes a catalog broken
// (rejected whole, with the reason) or merely carries properties to ignore.
#include "probes/catalog_zone.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace dns = soawatch::dns;
using soawatch::parse_catalog;

namespace {

dns::ResourceRecord soa(uint32_t serial = 7) {
    dns::ResourceRecord rr;
    rr.owner = "cat.test.";
    rr.type = dns::rrtype::SOA;
    rr.rclass = dns::class_IN;
    rr.soa = dns::SoaRdata{"invalid.", "invalid.", serial, 3600, 600, 2147483646, 0};
    return rr;
}

dns::ResourceRecord txt(const std::string& owner, const std::vector<std::string>& strings) {
    dns::ResourceRecord rr;
    rr.owner = owner;
    rr.type = dns::rrtype::TXT;
    rr.rclass = dns::class_IN;
    for (const auto& s : strings) {
        rr.rdata.push_back(static_cast<uint8_t>(s.size()));
        rr.rdata.insert(rr.rdata.end(), s.begin(), s.end());
    }
    return rr;
}

dns::ResourceRecord ptr(const std::string& owner, const std::string& target) {
    dns::ResourceRecord rr;
    rr.owner = owner;
    rr.type = dns::rrtype::PTR;
    rr.rclass = dns::class_IN;
    rr.target = target;
    return rr;
}

std::vector<dns::ResourceRecord> valid() {
    return {soa(), txt("version.cat.test.", {"2"}), ptr("a1.zones.cat.test.", "One.Test."),
            ptr("b2.zones.cat.test.", "two.test.")};
}

}  // namespace

TEST_CASE("unit: catalog members are the PTR targets at <id>.zones, sorted", "[catalog]") {
    const auto parse = parse_catalog("Cat.Test", valid());
    REQUIRE(parse.ok());
    CHECK(parse.members->zones == std::vector<std::string>{"one.test.", "two.test."});
    CHECK(parse.members->serial == 7);
    CHECK(parse.members->refresh == 3600);
    CHECK(parse.members->duplicates.empty());
}

TEST_CASE("unit: catalog properties are allowed and ignored (RFC 9432 4.3, 4.4)", "[catalog]") {
    auto records = valid();
    records.push_back(txt("group.a1.zones.cat.test.", {"blue"}));
    records.push_back(ptr("coo.a1.zones.cat.test.", "other.cat."));
    records.push_back(ptr("x.ext.a1.zones.cat.test.", "anything."));
    records.push_back(txt("ext.cat.test.", {"custom"}));
    records.push_back(txt("serial.a1.zones.cat.test.", {"1"}));
    dns::ResourceRecord ns;
    ns.owner = "cat.test.";
    ns.type = dns::rrtype::NS;
    ns.rclass = dns::class_IN;
    ns.target = "invalid.";
    records.push_back(ns);
    const auto parse = parse_catalog("cat.test.", records);
    REQUIRE(parse.ok());
    CHECK(parse.members->zones.size() == 2);
}

TEST_CASE("unit: a zone listed twice is watched once, the later listing named", "[catalog]") {
    auto records = valid();
    records.push_back(ptr("c3.zones.cat.test.", "one.test."));
    const auto parse = parse_catalog("cat.test.", records);
    REQUIRE(parse.ok());
    CHECK(parse.members->zones.size() == 2);
    CHECK(parse.members->duplicates == std::vector<std::string>{"one.test."});
}

TEST_CASE("unit: a broken catalog is rejected with the reason", "[catalog]") {
    struct Case {
        const char* what;
        std::vector<dns::ResourceRecord> records;
        const char* reason;
    };
    auto base = valid();
    const auto with = [&](std::vector<dns::ResourceRecord> extra) {
        auto r = base;
        r.insert(r.end(), extra.begin(), extra.end());
        return r;
    };
    auto no_version = base;
    no_version.erase(no_version.begin() + 1);
    auto version_1 = base;
    version_1[1] = txt("version.cat.test.", {"1"});
    auto no_soa = base;
    no_soa.erase(no_soa.begin());
    auto chaos = base;
    chaos[2].rclass = 3;
    const std::vector<Case> cases{
        {"no version", no_version, "no version property"},
        {"version 1", version_1, "unsupported catalog schema version \"1\""},
        {"two version TXT records", with({txt("version.cat.test.", {"3"})}), "2 TXT records"},
        {"a PTR below a member that is no property", with({ptr("x.y.zones.cat.test.", "z.")}),
         "x.y.zones.cat.test."},
        {"a PTR deeper still", with({ptr("a.b.c.zones.cat.test.", "z.")}), "a.b.c.zones"},
        {"two PTRs at one member node", with({ptr("a1.zones.cat.test.", "three.test.")}),
         "2 PTR records at member node a1"},
        {"two coo PTRs",
         with({ptr("coo.a1.zones.cat.test.", "x."), ptr("coo.a1.zones.cat.test.", "y.")}),
         "coo.a1"},
        {"no SOA", no_soa, "no SOA"},
        {"a record of class CH", chaos, "class 3"},
        {"a record outside the zone", with({txt("elsewhere.test.", {"x"})}), "outside"},
        {"an invalid member name", with({ptr("d4.zones.cat.test.", ".")}), "invalid zone"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto parse = parse_catalog("cat.test.", c.records);
        CHECK_FALSE(parse.ok());
        CHECK_THAT(parse.error, Catch::Contains(c.reason));
    }
    SECTION("a version split over two strings is not \"2\"") {
        auto split = base;
        split[1] = txt("version.cat.test.", {"2", "2"});
        const auto parse = parse_catalog("cat.test.", split);
        CHECK_FALSE(parse.ok());
        CHECK_THAT(parse.error, Catch::Contains("\"2\" \"2\""));
    }
}

TEST_CASE("unit: an AXFR's repeated record does not make the version twice", "[catalog]") {
    auto records = valid();
    records.push_back(txt("version.cat.test.", {"2"}));
    records.push_back(soa());
    CHECK(parse_catalog("cat.test.", records).ok());
}
