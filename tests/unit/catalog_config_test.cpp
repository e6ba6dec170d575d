// zones_from_catalog: the config keys and their messages, how catalog members join the watched
// zones (explicit zones win), and CatalogUnavailable.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "agent/alerting/alert_engine.hpp"
#include "agent/alerting/catalog_alert.hpp"
#include "agent/catalog_members.hpp"
#include "agent/config/config.hpp"
#include "tests/support/config_files.hpp"

using namespace std::chrono_literals;
using soawatch::Config;
using soawatch::parse_config;

namespace {

std::string parse_error(const std::string& text) {
    return soawatch::test::config_error_of([&] { parse_config(text, "test.yml"); });
}

}  // namespace

TEST_CASE("config: zones_from_catalog with every key", "[config][catalog]") {
    ::setenv("SOAWATCH_TEST_CATALOG_SECRET", "kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=", 1);
    const Config config = parse_config(R"(
zones:
  - name: two.test
    interval: 5m
zones_from_catalog:
  - catalog: Catalog.Example
    primary: 192.0.2.1:5300
    tsig: { name: cat-key, secret_env: SOAWATCH_TEST_CATALOG_SECRET }
    refresh: 30s
    timeout: 10s
    defaults:
      nameservers: [ 192.0.2.2 ]
      interval: 2m
      port: 5353
  - catalog: other.example
    primary: 192.0.2.3
)",
                                       "soawatch.yml");
    ::unsetenv("SOAWATCH_TEST_CATALOG_SECRET");
    REQUIRE(config.catalogs.size() == 2);
    const auto& c = config.catalogs[0];
    CHECK(c.name == "catalog.example.");
    CHECK(c.primary.address == "192.0.2.1");
    CHECK(c.primary.port == 5300);
    REQUIRE(c.tsig);
    CHECK(c.tsig->name == "cat-key.");
    CHECK(c.refresh == 30s);
    CHECK(c.timeout == 10s);
    CHECK(c.defaults.name.empty());
    CHECK(c.defaults.interval == 2min);
    CHECK(c.defaults.port == 5353);
    REQUIRE(c.defaults.nameservers.size() == 1);
    CHECK(c.defaults.nameservers.items().front() == "192.0.2.2:5353");
    const auto& d = config.catalogs[1];
    CHECK(d.primary.port == 53);
    CHECK_FALSE(d.tsig);
    CHECK_FALSE(d.refresh);
    CHECK(d.timeout == 30s);
}

TEST_CASE("config: zones_from_catalog errors name file, line and key", "[config][catalog]") {
    CHECK(parse_error("zones_from_catalog:\n  - primary: 192.0.2.1\n") ==
          "test.yml:2: zones_from_catalog[0]: missing required key catalog");
    CHECK(parse_error("zones_from_catalog:\n  - catalog: c.test\n") ==
          "test.yml:2: zones_from_catalog[0]: missing required key primary");
    CHECK_THAT(parse_error("zones_from_catalog:\n  - catalog: c.test\n    primary: ns.example\n"),
               Catch::StartsWith("test.yml:3: zones_from_catalog[0].primary:"));
    CHECK_THAT(parse_error("zones_from_catalog:\n  - catalog: c..test\n    primary: 192.0.2.1\n"),
               Catch::Contains("invalid catalog zone name"));
    CHECK(parse_error("zones_from_catalog:\n  - {catalog: c.test, primary: 192.0.2.1}\n"
                      "  - {catalog: C.test., primary: 192.0.2.2}\n") ==
          "test.yml:3: zones_from_catalog[1].catalog: duplicate catalog c.test. (first at line 2)");
    CHECK_THAT(parse_error("zones_from_catalog:\n  - {catalog: c.test, primary: 192.0.2.1, "
                           "refresh: 0s}\n"),
               Catch::Contains("refresh"));
    CHECK(parse_error("zones_from_catalog:\n  - catalog: c.test\n    primary: 192.0.2.1\n"
                      "    defaults: { name: x.test }\n") ==
          "test.yml:4: zones_from_catalog[0].defaults.name: a catalog's defaults take no name "
          "(each member has its own)");
    CHECK_THAT(parse_error("zones_from_catalog:\n  - catalog: c.test\n    primary: 192.0.2.1\n"
                           "    defaults: { notify_listen: ':53' }\n"),
               Catch::Contains("cannot be set per zone"));
    CHECK_THAT(parse_error("zones_from_catalog:\n  - catalog: c.test\n    primary: 192.0.2.1\n"
                           "    defaults: 3\n"),
               Catch::Contains("expected a mapping of zone settings"));
    CHECK_THAT(parse_error("zones_from_catalog:\n  - catalog: c.test\n    primary: 192.0.2.1\n"
                           "    members: []\n"),
               Catch::StartsWith("test.yml:4: zones_from_catalog[0].members: unknown key"));
}

TEST_CASE("unit: catalog members join the zones with the catalog's defaults; zones: wins",
          "[catalog]") {
    const Config config = parse_config(R"(
zones:
  - name: two.test
    interval: 5m
zones_from_catalog:
  - catalog: a.cat
    primary: 192.0.2.1
    defaults: { interval: 2m }
  - catalog: b.cat
    primary: 192.0.2.1
    defaults: { interval: 3m }
)",
                                       "soawatch.yml");
    const Config zones =
        soawatch::with_catalog_members(config, {{"a.cat.", {"one.test.", "two.test."}},
                                                {"b.cat.", {"one.test.", "three.test."}},
                                                {"unknown.cat.", {"four.test."}}});
    REQUIRE(zones.zones.size() == 3);
    CHECK(zones.zones[0].name == "two.test.");
    CHECK(zones.zones[0].interval == 5min);  // the explicit zone's, not the catalog's
    CHECK(zones.zones[1].name == "one.test.");
    CHECK(zones.zones[1].interval == 2min);  // the catalog configured first
    CHECK(zones.zones[2].name == "three.test.");
    CHECK(zones.zones[2].interval == 3min);
    CHECK(zones.catalogs.size() == 2);
}

TEST_CASE("unit: CatalogUnavailable holds while a refreshed catalog is not up", "[catalog]") {
    const auto rules = soawatch::AlertRuleSet::defaults(0s);
    soawatch::CatalogStatus status;
    status.catalog = "cat.test.";
    status.primary = "192.0.2.1:53";
    CHECK(soawatch::evaluate_catalog_rules(status, rules).empty());  // not refreshed yet
    status.refreshed = true;
    status.error = "catalog rejected (serial 9): no version property";
    status.members = {"a.test.", "b.test."};
    status.serial = 8;
    const auto conditions = soawatch::evaluate_catalog_rules(status, rules);
    REQUIRE(conditions.size() == 1);
    CHECK(conditions[0].rule == soawatch::AlertRule::catalog_unavailable);
    CHECK_THAT(conditions[0].description, Catch::Contains("no version property"));
    CHECK_THAT(conditions[0].description, Catch::Contains("2 zones, serial 8"));
    CHECK(soawatch::alert_rule_name(soawatch::AlertRule::catalog_unavailable) ==
          "CatalogUnavailable");
    status.up = true;
    CHECK(soawatch::evaluate_catalog_rules(status, rules).empty());

    SECTION("the engine fires it with the catalog label, and resolves it") {
        soawatch::AlertingConfig alerting;
        alerting.rules = rules;
        soawatch::AlertEngine engine(alerting, "http://soawatch:9353");
        const auto now = soawatch::Clock::now();
        status.up = false;
        engine.observe_catalog(status, rules, now);
        engine.tick(now);
        auto snapshot = engine.snapshot();
        REQUIRE(snapshot->alerts.size() == 1);
        CHECK(snapshot->alerts[0].label("catalog") == "cat.test.");
        CHECK(snapshot->alerts[0].label("zone").empty());
        CHECK(snapshot->alerts[0].state == soawatch::AlertState::firing);
        // Kept while the catalog is still followed, resolved when it is not.
        engine.retain_zones({soawatch::AlertEngine::catalog_alert_key("cat.test.")}, now);
        engine.tick(now);
        CHECK(engine.snapshot()->alerts.size() == 1);
        engine.retain_zones({}, now);
        engine.tick(now);
        CHECK(engine.snapshot()->alerts.empty());
    }
}
