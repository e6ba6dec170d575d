// The configuration loader. As in blackbox_exporter's config_test, every
// tests/testdata/config/invalid-*.yml is paired below with the one message it must produce.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "tests/support/config_files.hpp"

using namespace std::chrono_literals;
using soawatch::Config;
using soawatch::ConfigError;
using soawatch::Endpoint;
using soawatch::load_config;
using soawatch::parse_config;

namespace {

const std::string kConfigDir = std::string(SOAWATCH_TESTDATA_DIR) + "/config";

// The message load_config throws for `path`, or "" when it loads.
std::string load_error(const std::string& path) {
    return soawatch::test::config_error_of([&] { load_config(path); });
}

std::string parse_error(const std::string& text) {
    return soawatch::test::config_error_of([&] { parse_config(text, "test.yml"); });
}

using soawatch::test::replace_all;
using soawatch::test::TempDir;

}  // namespace

TEST_CASE("config: every key of a full file", "[config]") {
    const std::string path = kConfigDir + "/valid-full.yml";
    const Config config = load_config(path);
    CHECK(config.path == path);

    const auto& g = config.global;
    CHECK(g.interval == 2min);
    CHECK(g.probe.timeout == 1500ms);
    CHECK(g.probe.retries == 3);
    CHECK(g.probe.port == 5353);
    CHECK(g.probe.edns_udp_size == 0);
    CHECK(g.probe.ipv4);
    CHECK_FALSE(g.probe.ipv6);
    CHECK(g.resolvers ==
          std::vector<Endpoint>{
              {"127.0.0.10", 5300}, {"::1", 53}, {"2001:db8::53", 5300}, {"192.0.2.53", 53}});
    CHECK(g.resolver_timeout == 4s);
    CHECK(g.discovery_timeout() == 4s);
    CHECK(g.notify_listen == Endpoint{"127.0.0.1", 5354});
    CHECK(g.fast_reprobe_interval == 500ms);
    CHECK(g.fast_reprobe_limit == 15min);
    CHECK(g.max_nameservers == 8);
    CHECK(g.max_addresses == 16);

    CHECK(config.zones_files == std::vector<std::string>{"zones-valid.d/*.yml"});
    REQUIRE(config.zones.size() == 6);

    const auto& com = config.zones[0];
    CHECK(com.name == "example.com.");
    CHECK(com.primary == Endpoint{"203.0.113.53", 53});  // the zone's port, not global's 5353
    CHECK(com.nameservers == std::vector<std::string>{"ns1.example.com.", "198.51.100.10:53",
                                                      "[2001:db8::1]:5300", "[2001:db8::2]:53"});
    CHECK(com.interval == 30s);
    CHECK(com.timeout == 1s);
    CHECK(com.retries == 0u);
    CHECK(com.port == 53);
    CHECK(*com.source_file == path);
    CHECK(com.source_line == 18);

    const auto& net = config.zones[1];
    CHECK(net.name == "example.net.");
    CHECK_FALSE(net.primary.has_value());
    CHECK(net.nameservers.empty());
    CHECK_FALSE(net.interval.has_value());
    CHECK_FALSE(net.timeout.has_value());
    CHECK_FALSE(net.retries.has_value());
    CHECK_FALSE(net.port.has_value());
    CHECK(net.source_line == 25);

    const auto& org = config.zones[2];
    CHECK(org.name == "example.org.");
    CHECK(org.primary == Endpoint{"2001:db8::53", 5300});

    // zones_files, relative to the main file's folder, in glob(3) order.
    CHECK(config.zones[3].name == "shard1.example.org.");
    CHECK(*config.zones[3].source_file == kConfigDir + "/zones-valid.d/a.yml");
    CHECK(config.zones[3].source_line == 3);
    CHECK(config.zones[4].name == "shard2.example.org.");
    CHECK(config.zones[4].interval == 5min);
    CHECK(config.zones[5].name == "shard3.example.org.");
    CHECK(config.zones[5].primary == Endpoint{"192.0.2.53", 5353});  // global port
    CHECK(*config.zones[5].source_file == kConfigDir + "/zones-valid.d/b.yml");
}

TEST_CASE("config: resolver lookups wait at least 2 s per try unless resolver_timeout says",
          "[config]") {
    // A recursive resolver that meets a dead server of the zone waits that server out itself.
    CHECK(parse_config("global: {timeout: 500ms}", "t.yml").global.discovery_timeout() == 2s);
    CHECK(parse_config("global: {timeout: 5s}", "t.yml").global.discovery_timeout() == 5s);
    CHECK(parse_config("global: {timeout: 500ms, resolver_timeout: 700ms}", "t.yml")
              .global.discovery_timeout() == 700ms);
    CHECK(parse_error("global:\n  resolver_timeout: 2m\n").find("test.yml:2") == 0);
}

TEST_CASE("config: defaults when keys are absent", "[config]") {
    const soawatch::GlobalConfig defaults;
    CHECK(defaults.interval == 60s);
    CHECK(defaults.probe.timeout == 2s);
    CHECK(defaults.probe.retries == 2);
    CHECK(defaults.probe.port == 53);
    CHECK(defaults.probe.edns_udp_size == 1232);
    CHECK(defaults.probe.ipv4);
    CHECK(defaults.probe.ipv6);
    CHECK(defaults.resolvers.empty());
    CHECK_FALSE(defaults.notify_listen.has_value());
    CHECK(defaults.fast_reprobe_interval == 1s);
    CHECK(defaults.fast_reprobe_limit == 10min);
    CHECK(defaults.fast_reprobe_initial_interval == 50ms);
    CHECK(defaults.max_nameservers == 32);
    CHECK(defaults.max_addresses == 64);
    CHECK_FALSE(defaults.resolver_timeout.has_value());
    CHECK(defaults.discovery_timeout() == 2s);

    // Each of these leaves every global setting at its default.
    for (const char* text : {"", "# nothing yet\n", "global:\n", "global: {}\nzones: []\n",
                             "zones:\n", "zones_files: []\n"}) {
        INFO(text);
        const Config config = parse_config(text, "test.yml");
        CHECK(config.global.interval == defaults.interval);
        CHECK(config.global.probe.timeout == defaults.probe.timeout);
        CHECK(config.global.probe.retries == defaults.probe.retries);
        CHECK(config.global.probe.port == defaults.probe.port);
        CHECK(config.global.probe.edns_udp_size == defaults.probe.edns_udp_size);
        CHECK(config.global.probe.ipv4 == defaults.probe.ipv4);
        CHECK(config.global.probe.ipv6 == defaults.probe.ipv6);
        CHECK(config.global.resolvers.empty());
        CHECK_FALSE(config.global.notify_listen.has_value());
        CHECK(config.global.fast_reprobe_interval == defaults.fast_reprobe_interval);
        CHECK(config.global.fast_reprobe_limit == defaults.fast_reprobe_limit);
        CHECK(config.global.max_nameservers == defaults.max_nameservers);
        CHECK(config.global.max_addresses == defaults.max_addresses);
        CHECK(config.zones.empty());  // an agent with no zones is valid
        CHECK(config.zones_files.empty());
    }
}

TEST_CASE("config: the minimal file", "[config]") {
    const Config config = load_config(kConfigDir + "/valid-minimal.yml");
    REQUIRE(config.zones.size() == 1);
    CHECK(config.zones[0].name == "example.com.");
    const auto settings = soawatch::effective_probe_settings(config.global, config.zones[0]);
    CHECK(settings.timeout == 2s);
    CHECK(settings.retries == 2);
    CHECK(settings.port == 53);
    CHECK(soawatch::effective_interval(config.global, config.zones[0]) == 60s);
}

TEST_CASE("config: zone overrides apply over global settings", "[config]") {
    const Config config = parse_config(R"(
global:
  interval: 5m
  timeout: 3s
  retries: 4
  port: 5300
  edns_udp_size: 4096
  ipv6: false
zones:
  - name: a.example
    interval: 10s
    timeout: 250ms
    retries: 0
    port: 53
  - b.example
)",
                                       "test.yml");
    REQUIRE(config.zones.size() == 2);
    const auto a = soawatch::effective_probe_settings(config.global, config.zones[0]);
    CHECK(a.timeout == 250ms);
    CHECK(a.retries == 0);
    CHECK(a.port == 53);
    CHECK(a.edns_udp_size == 4096);  // not per zone: from global
    CHECK(a.ipv4);
    CHECK_FALSE(a.ipv6);
    CHECK(soawatch::effective_interval(config.global, config.zones[0]) == 10s);

    const auto b = soawatch::effective_probe_settings(config.global, config.zones[1]);
    CHECK(b.timeout == 3s);
    CHECK(b.retries == 4);
    CHECK(b.port == 5300);
    CHECK(soawatch::effective_interval(config.global, config.zones[1]) == 5min);
}

TEST_CASE("config: zones with the same nameservers share one list, zones of a file its name",
          "[config][scale]") {
    // At 100,000 zones a copy of the list and of the file name per zone was ~35 MB.
    const Config config = parse_config(R"(
zones:
  - { name: a.example, nameservers: [ ns1.example.net, "192.0.2.1" ] }
  - { name: b.example, nameservers: [ NS1.example.net., "192.0.2.1:53" ] }
  - { name: c.example, nameservers: [ "192.0.2.1", ns1.example.net ] }
  - d.example
)",
                                       "test.yml");
    REQUIRE(config.zones.size() == 4);
    const auto& a = config.zones[0].nameservers;
    CHECK(a == std::vector<std::string>{"ns1.example.net.", "192.0.2.1:53"});
    CHECK(config.zones[1].nameservers.shares_with(a));  // the same once normalised
    CHECK(config.zones[2].nameservers.size() == 2);
    CHECK_FALSE(config.zones[2].nameservers.shares_with(a));  // another order: another list
    CHECK(config.zones[3].nameservers.empty());
    CHECK(*config.zones[3].source_file == "test.yml");
    CHECK(config.zones[3].source_file == config.zones[0].source_file);  // one string
}

TEST_CASE("config: zone names and addresses are normalised", "[config]") {
    // global comes after zones in the file; its port is still the zones' default.
    const Config config = parse_config(R"(
zones:
  - name: WWW.Example.COM.
    primary: "2001:DB8::0:53"
    nameservers: [ 192.0.2.1, "[::1]", ns.EXAMPLE.net ]
  - .
  - name: _dmarc.example.com
global:
  port: 5353
  notify_listen: ":5354"
)",
                                       "test.yml");
    REQUIRE(config.zones.size() == 3);
    CHECK(config.zones[0].name == "www.example.com.");
    CHECK(config.zones[0].primary == Endpoint{"2001:db8::53", 5353});
    CHECK(config.zones[0].nameservers ==
          std::vector<std::string>{"192.0.2.1:5353", "[::1]:5353", "ns.example.net."});
    CHECK(config.zones[1].name == ".");  // the root zone may be watched too
    CHECK(config.zones[2].name == "_dmarc.example.com.");
    CHECK(config.global.notify_listen == Endpoint{"", 5354});  // every local address
}

TEST_CASE("config: zones_files in a temp folder", "[config]") {
    TempDir dir("soawatch-config");
    std::filesystem::create_directory(dir.path() / "zones.d");
    dir.write("zones.d/10-a.yml", "zones:\n  - a.example\n  - b.example\n");
    dir.write("zones.d/20-b.yml", "# second file\nzones:\n  - name: c.example\n    port: 5300\n");
    dir.write("zones.d/notes.txt", "not a zones file\n");
    dir.write("zones.d/30-empty.yml", "");
    const std::string main = dir.file("soawatch.yml");

    SECTION("relative patterns are relative to the main file's folder") {
        dir.write("soawatch.yml",
                  "zones:\n  - main.example\n"
                  "zones_files:\n  - zones.d/*.yml\n  - missing.d/*.yml\n  - nothing-*.yml\n");
        const Config config = load_config(main);
        CHECK(config.zones_files ==
              std::vector<std::string>{"zones.d/*.yml", "missing.d/*.yml", "nothing-*.yml"});
        REQUIRE(config.zones.size() == 4);
        CHECK(config.zones[0].name == "main.example.");
        CHECK(*config.zones[0].source_file == main);
        CHECK(config.zones[1].name == "a.example.");
        CHECK(*config.zones[1].source_file == dir.file("zones.d/10-a.yml"));
        CHECK(config.zones[1].source_line == 2);
        CHECK(config.zones[2].name == "b.example.");
        CHECK(config.zones[3].name == "c.example.");
        CHECK(*config.zones[3].source_file == dir.file("zones.d/20-b.yml"));
        CHECK(config.zones[3].source_line == 3);
        CHECK(config.zones[3].port == 5300);
    }

    SECTION("absolute patterns, and a file matched twice is read once") {
        dir.write("soawatch.yml", "zones_files: [ \"" + dir.file("zones.d") + "/*.yml\", \"" +
                                      dir.file("zones.d") + "/10-*.yml\" ]\n");
        const Config config = load_config(main);
        REQUIRE(config.zones.size() == 3);
        CHECK(config.zones[2].name == "c.example.");
    }

    SECTION("a duplicate across files names both places") {
        dir.write("zones.d/40-dup.yml", "zones:\n  - c.example.\n");
        dir.write("soawatch.yml", "zones_files: [ \"zones.d/*.yml\" ]\n");
        CHECK(load_error(main) ==
              dir.file("zones.d/40-dup.yml") +
                  ":2: zones[0]: duplicate zone c.example. (first declared at " +
                  dir.file("zones.d/20-b.yml") + ":3)");
    }

    SECTION("a duplicate of a zone in the main file") {
        dir.write("soawatch.yml",
                  "zones:\n  - x.example\n  - B.Example\nzones_files: [ \"zones.d/*.yml\" ]\n");
        CHECK(load_error(main) ==
              dir.file("zones.d/10-a.yml") +
                  ":3: zones[1]: duplicate zone b.example. (first declared at " + main + ":3)");
    }

    SECTION("a matched file that cannot be read is an error naming it") {
        std::filesystem::create_directory(dir.path() / "zones.d" / "50-folder.yml");
        dir.write("soawatch.yml", "zones_files: [ \"zones.d/*.yml\" ]\n");
        CHECK(load_error(main) ==
              dir.file("zones.d/50-folder.yml") + ": cannot read file: Is a directory");
    }

    SECTION("a matched file that is invalid is an error naming it") {
        dir.write("zones.d/50-bad.yml", "zones:\n  - name: d.example\n    prot: 53\n");
        dir.write("soawatch.yml", "zones_files: [ \"zones.d/*.yml\" ]\n");
        CHECK(load_error(main) == dir.file("zones.d/50-bad.yml") +
                                      ":3: zones[0].prot: unknown key (did you mean port?)");
    }

    SECTION("a folder that cannot be opened is an error, not silently no zones") {
        std::filesystem::create_directory_symlink("loop", dir.path() / "loop");
        dir.write("soawatch.yml", "zones:\n  - main.example\nzones_files: [ \"loop/*.yml\" ]\n");
        CHECK(load_error(main) == main + ":3: zones_files[0]: cannot read folder \"" +
                                      dir.file("loop") + "\": Too many levels of symbolic links");
    }

    SECTION("an unreadable folder on the way is an error, not silently no zones") {
        if (geteuid() == 0) return;  // root reads everything
        std::filesystem::create_directory(dir.path() / "locked");
        std::filesystem::permissions(dir.path() / "locked", std::filesystem::perms::none);
        dir.write("soawatch.yml", "zones_files: [ \"locked/*.yml\" ]\n");
        const std::string error = load_error(main);
        std::filesystem::permissions(dir.path() / "locked", std::filesystem::perms::owner_all);
        CHECK(error == main + ":1: zones_files[0]: cannot read folder \"" + dir.file("locked") +
                           "\": Permission denied");
    }
}

TEST_CASE("config: a file that cannot be read", "[config]") {
    TempDir dir("soawatch-config");
    const std::string missing = dir.file("missing.yml");
    CHECK(load_error(missing) == missing + ": cannot read file: No such file or directory");
    try {
        load_config(missing);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.file() == missing);
        CHECK(e.line() == 0);
        CHECK(e.key().empty());
        CHECK(e.message() == "cannot read file: No such file or directory");
    }
    CHECK(load_error(dir.path().string()) ==
          dir.path().string() + ": cannot read file: Is a directory");
}

TEST_CASE("config: error parts and what()", "[config]") {
    const ConfigError full("a.yml", 3, "global.timeout", "not a duration");
    CHECK(std::string(full.what()) == "a.yml:3: global.timeout: not a duration");
    CHECK(full.file() == "a.yml");
    CHECK(full.line() == 3);
    CHECK(full.key() == "global.timeout");
    CHECK(full.message() == "not a duration");
    CHECK(std::string(ConfigError("a.yml", 0, "zones", "m").what()) == "a.yml: zones: m");
    CHECK(std::string(ConfigError("a.yml", 2, "", "m").what()) == "a.yml:2: m");

    try {
        parse_config("global:\n  retries: 11\n", "inline");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.file() == "inline");
        CHECK(e.line() == 2);
        CHECK(e.key() == "global.retries");
        CHECK(e.message() == "out of range: 11 (allowed 0..10)");
    }
}

TEST_CASE("config: values at the edges of their ranges", "[config]") {
    struct Case {
        const char* text;
        const char* error;  // "" when valid
    };
    const std::vector<Case> cases{
        {"global: {interval: 1s, fast_reprobe_interval: 1s}", ""},
        {"global: {interval: 999ms}",
         "test.yml:1: global.interval: out of range: 999ms (at least 1s)"},
        {"global: {timeout: 1ms}", ""},
        {"global: {timeout: 0s}", "test.yml:1: global.timeout: out of range: 0s (allowed 1ms..1m)"},
        {"global: {timeout: 60s}", ""},
        {"global: {timeout: 1m1ms}",
         "test.yml:1: global.timeout: out of range: 1m1ms (allowed 1ms..1m)"},
        {"global: {retries: 0}", ""},
        {"global: {retries: 10}", ""},
        {"global: {retries: -1}", "test.yml:1: global.retries: out of range: -1 (allowed 0..10)"},
        {"global: {retries: 99999999999999999999}",
         "test.yml:1: global.retries: out of range: 99999999999999999999 (allowed 0..10)"},
        {"global: {retries: 1.5}", "test.yml:1: global.retries: expected an integer, got \"1.5\""},
        {"global: {retries: 0x10}",
         "test.yml:1: global.retries: expected an integer, got \"0x10\""},
        {"global: {port: 1}", ""},
        {"global: {port: 65535}", ""},
        {"global: {port: 65536}",
         "test.yml:1: global.port: out of range: 65536 (allowed 1..65535)"},
        {"global: {edns_udp_size: 0}", ""},
        {"global: {edns_udp_size: 512}", ""},
        {"global: {edns_udp_size: 4096}", ""},
        {"global: {edns_udp_size: 511}",
         "test.yml:1: global.edns_udp_size: out of range: 511 (allowed 0, or 512..4096)"},
        {"global: {edns_udp_size: 4097}",
         "test.yml:1: global.edns_udp_size: out of range: 4097 (allowed 0, or 512..4096)"},
        {"global: {fast_reprobe_interval: 100ms}", ""},
        {"global: {fast_reprobe_interval: 99ms}",
         "test.yml:1: global.fast_reprobe_interval: out of range: 99ms (allowed 100ms..1m, at "
         "most global.interval)"},
        {"global: {fast_reprobe_initial_interval: 10ms}", ""},
        {"global: {fast_reprobe_initial_interval: 1s}", ""},  // the fixed 1 s schedule
        {"global: {fast_reprobe_initial_interval: 9ms}",
         "test.yml:1: global.fast_reprobe_initial_interval: out of range: 9ms (allowed 10ms..1s, "
         "at most global.fast_reprobe_interval)"},
        {"global: {fast_reprobe_interval: 200ms, fast_reprobe_initial_interval: 300ms}",
         "test.yml:1: global.fast_reprobe_initial_interval: out of range: 300ms (allowed "
         "10ms..200ms, at most global.fast_reprobe_interval)"},
        {"global: {fast_reprobe_limit: 0}", ""},
        {"global: {fast_reprobe_limit: 1d}", ""},
        {"global: {max_nameservers: 1000, max_addresses: 10000}", ""},
        {"global: {max_nameservers: 1001}",
         "test.yml:1: global.max_nameservers: out of range: 1001 (allowed 1..1000)"},
        {"global: {max_addresses: 0}",
         "test.yml:1: global.max_addresses: out of range: 0 (allowed 1..10000)"},
        {"global: {anycast_samples: 8}", ""},
        {"global: {anycast_samples: 9}",
         "test.yml:1: global.anycast_samples: out of range: 9 (allowed 0..8)"},
        {"global: {min_usable_nameservers: 1, min_usable_nameservers_severity: warning}", ""},
        {"global: {min_usable_nameservers: 1000, min_usable_nameservers_severity: critical}", ""},
        {"global: {min_usable_nameservers: 0}",
         "test.yml:1: global.min_usable_nameservers: out of range: 0 (allowed 1..1000)"},
        {"global: {min_usable_nameservers_severity: page}",
         "test.yml:1: global.min_usable_nameservers_severity: unknown severity \"page\" "
         "(critical, warning)"},
        {"global: {ipv4: false}", ""},
        {"global: {ipv4: False, ipv6: TRUE}", ""},
        {"global: {ipv4: \"true\"}",
         "test.yml:1: global.ipv4: expected a boolean (true or false), got the string \"true\""},
        {"global: {ipv4: 1}",
         "test.yml:1: global.ipv4: expected a boolean (true or false), got \"1\""},
        {"global: {resolvers: []}", ""},
        {"global: {resolvers: 127.0.0.1}",
         "test.yml:1: global.resolvers: expected a list, got \"127.0.0.1\""},
        {"global: {resolvers: [[127.0.0.1]]}",
         "test.yml:1: global.resolvers[0]: expected an address (IP[:PORT]), got a list"},
        {"global: {notify_listen: \"[::1]:5354\"}", ""},
        {"global: {notify_listen: \"127.0.0.1:0\"}",
         "test.yml:1: global.notify_listen: port out of range: 0 (allowed 1..65535)"},
        {"global: {interval: 60}",
         "test.yml:1: global.interval: not a duration: \"60\" (use e.g. 500ms, 2s, 1m)"},
        {"global: {interval: [1s]}",
         "test.yml:1: global.interval: expected a duration (e.g. 500ms, 2s, 1m), got a list"},
        {"zones: [{name: a.example, retries: 10, timeout: 60s, interval: 1s, port: 1}]", ""},
        {"zones: [{name: a.example, retries: 11}]",
         "test.yml:1: zones[0].retries: out of range: 11 (allowed 0..10)"},
        {"zones: [{name: a.example, timeout: 0ms}]",
         "test.yml:1: zones[0].timeout: out of range: 0ms (allowed 1ms..1m)"},
        {"zones: [{name: a.example, nameservers: ns1.a.example}]",
         "test.yml:1: zones[0].nameservers: expected a list, got \"ns1.a.example\""},
        {"zones: [{name: [a.example]}]",
         "test.yml:1: zones[0].name: expected a zone name, got a list"},
        {"zones: [{name: \"\"}]", "test.yml:1: zones[0].name: invalid zone name \"\": empty name"},
        {"zones: [{name: a.example, nameservers: [\"\"]}]",
         "test.yml:1: zones[0].nameservers[0]: neither a host name nor IP[:PORT]: \"\" (empty "
         "name)"},
        {"zones: [{name: a.example, nameservers: [\"ns 1.a.example\"]}]",
         "test.yml:1: zones[0].nameservers[0]: neither a host name nor IP[:PORT]: \"ns "
         "1.a.example\" (contains a space or control character)"},
        {"zones: [~]", "test.yml:1: zones[0]: expected a zone name or a mapping, got nothing"},
        {"zones: [{primary: 192.0.2.1}]", "test.yml:1: zones[0]: missing required key name"},
        {"zones: [{name: a.example, Name: b.example}]",
         "test.yml:1: zones[0].Name: unknown key (did you mean name?)"},
        {"zone: [a.example]", "test.yml:1: zone: unknown key (did you mean zones?)"},
        {"zones_file: [a.yml]", "test.yml:1: zones_file: unknown key (did you mean zones_files?)"},
        {"? [a, b]\n: c\n", "test.yml:1: expected a key name, got a list"},
        {"just text",
         "test.yml:1: expected a mapping at the top level (global, alerting, zones, zones_files), "
         "got \"just text\""},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK(parse_error(c.text) == c.error);
    }
}

TEST_CASE("config: each invalid-*.yml fails with its one message", "[config]") {
    // File name -> the exact what(); {dir} stands for tests/testdata/config.
    const std::map<std::string, std::string> expected{
        {"invalid-yaml-syntax.yml",
         "{dir}/invalid-yaml-syntax.yml:3: YAML syntax error: illegal "
         "map value (column 11)"},
        {"invalid-yaml-stray-comma.yml",  // yaml-cpp 0.7's LoadAll never returns on this
         "{dir}/invalid-yaml-stray-comma.yml:2: YAML syntax error: unexpected \",\" (column 1)"},
        {"invalid-multiple-documents.yml",
         "{dir}/invalid-multiple-documents.yml:4: more than one YAML document (a file holds one)"},
        {"invalid-top-level-list.yml",
         "{dir}/invalid-top-level-list.yml:1: expected a mapping at the top level (global, "
         "alerting, zones, zones_files), got a list"},
        {"invalid-unknown-key-suggestion.yml",
         "{dir}/invalid-unknown-key-suggestion.yml:2: global.intreval: unknown key (did you mean "
         "interval?)"},
        {"invalid-unknown-key.yml", "{dir}/invalid-unknown-key.yml:3: global.colour: unknown key"},
        {"invalid-global-key-at-top-level.yml",
         "{dir}/invalid-global-key-at-top-level.yml:1: interval: unknown key (it belongs under "
         "global)"},
        {"invalid-zone-key-global-only.yml",
         "{dir}/invalid-zone-key-global-only.yml:3: zones[0].ipv6: cannot be set per zone (only "
         "interval, timeout, retries, port, transfer_check, dnssec, delegation_check and "
         "alerting can; set it under global)"},
        {"invalid-dnssec-value.yml",
         "{dir}/invalid-dnssec-value.yml:2: global.dnssec: allowed auto, true or false"},
        {"invalid-dnssec-without-edns.yml",
         "{dir}/invalid-dnssec-without-edns.yml:5: zones[0].dnssec: true needs EDNS (edns_udp_size "
         "0 sends no OPT record, and DO travels in it: RFC 3225 3)"},
        {"invalid-delegation-check-interval.yml",
         "{dir}/invalid-delegation-check-interval.yml:3: global.delegation_check.interval: out "
         "of range: 20s (allowed 1m..1d)"},
        {"invalid-parent-nameserver-name.yml",
         "{dir}/invalid-parent-nameserver-name.yml:5: zones[0].parent_nameservers[1]: not an IP "
         "address: "
         "\"ns1.example.net\""},
        {"invalid-transfer-check-interval.yml",
         "{dir}/invalid-transfer-check-interval.yml:3: global.transfer_check.interval: out of "
         "range: 30s (allowed 1m..1d)"},
        {"invalid-transfer-check-algorithm.yml",
         "{dir}/invalid-transfer-check-algorithm.yml:5: global.transfer_check.tsig.algorithm: "
         "unsupported algorithm \"hmac-md5\" (allowed hmac-sha256, hmac-sha512)"},
        {"invalid-transfer-check-inline-secret.yml",
         "{dir}/invalid-transfer-check-inline-secret.yml:6: zones[0].transfer_check.tsig.secret: "
         "write the secret in a file (secret_file) or the environment (secret_env)"},
        {"invalid-transfer-check-secret-not-base64.yml",
         "{dir}/invalid-transfer-check-secret-not-base64.yml:5: "
         "global.transfer_check.tsig.secret_file: the secret is not base64"},
        {"invalid-transfer-check-key-name-missing.yml",
         "{dir}/invalid-transfer-check-key-name-missing.yml:4: global.transfer_check.tsig: "
         "missing required key name"},
        {"invalid-duplicate-key.yml",
         "{dir}/invalid-duplicate-key.yml:4: global.timeout: duplicate key (first at line 2)"},
        {"invalid-global-not-mapping.yml",
         "{dir}/invalid-global-not-mapping.yml:1: global: expected a mapping, got a list"},
        {"invalid-zones-not-list.yml",
         "{dir}/invalid-zones-not-list.yml:2: zones: expected a list, got a mapping"},
        {"invalid-value-missing.yml",
         "{dir}/invalid-value-missing.yml:3: global.timeout: expected a duration (e.g. 500ms, 2s, "
         "1m), got nothing"},
        {"invalid-integer.yml",
         "{dir}/invalid-integer.yml:2: global.retries: expected an integer, got \"two\""},
        {"invalid-integer-quoted.yml",
         "{dir}/invalid-integer-quoted.yml:2: global.port: expected an integer, got the string "
         "\"53\""},
        {"invalid-boolean.yml",
         "{dir}/invalid-boolean.yml:3: global.ipv6: expected a boolean (true or false), got "
         "\"yes\""},
        {"invalid-duration.yml",
         "{dir}/invalid-duration.yml:2: global.timeout: not a duration: \"5x\" (use e.g. 500ms, "
         "2s, 1m)"},
        {"invalid-duration-out-of-range.yml",
         "{dir}/invalid-duration-out-of-range.yml:2: global.timeout: out of range: 2m (allowed "
         "1ms..1m)"},
        {"invalid-interval-too-short.yml",
         "{dir}/invalid-interval-too-short.yml:2: global.interval: out of range: 500ms (at least "
         "1s)"},
        {"invalid-retries-out-of-range.yml",
         "{dir}/invalid-retries-out-of-range.yml:2: global.retries: out of range: 11 (allowed "
         "0..10)"},
        {"invalid-port-zero.yml",
         "{dir}/invalid-port-zero.yml:2: global.port: out of range: 0 (allowed 1..65535)"},
        {"invalid-edns-udp-size.yml",
         "{dir}/invalid-edns-udp-size.yml:2: global.edns_udp_size: out of range: 300 (allowed 0, "
         "or 512..4096)"},
        {"invalid-no-address-family.yml",
         "{dir}/invalid-no-address-family.yml:3: global.ipv6: at least one of ipv4 and ipv6 must "
         "be true"},
        {"invalid-resolver-host-name.yml",
         "{dir}/invalid-resolver-host-name.yml:4: global.resolvers[1]: not an IP address: "
         "\"dns.google\""},
        {"invalid-notify-listen-without-port.yml",
         "{dir}/invalid-notify-listen-without-port.yml:2: global.notify_listen: a port is required "
         "(IP:PORT, or :PORT for every address)"},
        {"invalid-fast-reprobe-interval.yml",
         "{dir}/invalid-fast-reprobe-interval.yml:3: global.fast_reprobe_interval: out of range: "
         "1m (allowed 100ms..30s, at most global.interval)"},
        {"invalid-fast-reprobe-limit.yml",
         "{dir}/invalid-fast-reprobe-limit.yml:2: global.fast_reprobe_limit: out of range: 2d "
         "(allowed 0s..1d)"},
        {"invalid-max-nameservers.yml",
         "{dir}/invalid-max-nameservers.yml:2: global.max_nameservers: out of range: 0 (allowed "
         "1..1000)"},
        {"invalid-max-addresses.yml",
         "{dir}/invalid-max-addresses.yml:2: global.max_addresses: out of range: 10001 (allowed "
         "1..10000)"},
        {"invalid-zone-entry-type.yml",
         "{dir}/invalid-zone-entry-type.yml:3: zones[1]: expected a zone name or a mapping, got a "
         "list"},
        {"invalid-zone-missing-name.yml",
         "{dir}/invalid-zone-missing-name.yml:3: zones[1]: missing required key name"},
        {"invalid-zone-name-label-too-long.yml",
         "{dir}/invalid-zone-name-label-too-long.yml:2: zones[0].name: invalid zone name \"" +
             std::string(64, 'a') + ".example.com\": label longer than 63 octets at offset 63"},
        {"invalid-zone-name-empty-label.yml",
         "{dir}/invalid-zone-name-empty-label.yml:2: zones[0]: invalid zone name \"example..com\": "
         "empty label at offset 8"},
        {"invalid-zone-name-space.yml",
         "{dir}/invalid-zone-name-space.yml:2: zones[0].name: invalid zone name \"example com\": "
         "contains a space or control character (write it as \\DDD if meant)"},
        {"invalid-zone-name-ip-address.yml",
         "{dir}/invalid-zone-name-ip-address.yml:2: zones[0]: invalid zone name \"192.0.2.1\": an "
         "IP address, not a domain name"},
        {"invalid-duplicate-zone.yml",
         "{dir}/invalid-duplicate-zone.yml:4: zones[2].name: duplicate zone example.com. (first "
         "declared at {dir}/invalid-duplicate-zone.yml:2)"},
        {"invalid-primary-host-name.yml",
         "{dir}/invalid-primary-host-name.yml:3: zones[0].primary: not an IP address: "
         "\"primary.example.com\""},
        {"invalid-primary-port.yml",
         "{dir}/invalid-primary-port.yml:3: zones[0].primary: port out of range: 70000 (allowed "
         "1..65535)"},
        {"invalid-nameserver-name.yml",
         "{dir}/invalid-nameserver-name.yml:3: zones[0].nameservers[1]: neither a host name nor "
         "IP[:PORT]: \"ns2..example.com\" (empty label at offset 4)"},
        {"invalid-nameserver-name-with-port.yml",
         "{dir}/invalid-nameserver-name-with-port.yml:4: zones[0].nameservers[0]: a host name "
         "takes no port: \"ns1.example.com:5300\" (set the zone's port instead)"},
        {"invalid-nameserver-bad-ipv4.yml",
         "{dir}/invalid-nameserver-bad-ipv4.yml:4: zones[0].nameservers[0]: not an IP address: "
         "\"198.51.100.300\""},
        {"invalid-nameserver-bad-ipv6-port.yml",
         "{dir}/invalid-nameserver-bad-ipv6-port.yml:4: zones[0].nameservers[0]: expected "
         "\":PORT\" after \"]\" in \"[2001:db8::1]5300\""},
        {"invalid-duplicate-nameserver.yml",
         "{dir}/invalid-duplicate-nameserver.yml:7: zones[0].nameservers[2]: duplicate nameserver "
         "198.51.100.10:5300 (first at line 5)"},
        {"invalid-zone-interval-override.yml",
         "{dir}/invalid-zone-interval-override.yml:3: zones[0].interval: out of range: 100ms (at "
         "least 1s)"},
        {"invalid-zone-port-override.yml",
         "{dir}/invalid-zone-port-override.yml:3: zones[0].port: out of range: 65536 (allowed "
         "1..65535)"},
        {"invalid-zones-files-not-list.yml",
         "{dir}/invalid-zones-files-not-list.yml:1: zones_files: expected a list, got "
         "\"zones.d/*.yml\""},
        {"invalid-zones-files-empty-pattern.yml",
         "{dir}/invalid-zones-files-empty-pattern.yml:3: zones_files[1]: empty file pattern"},
        {"invalid-zones-file-global-key.yml",
         "{dir}/zones-global-key.d/zones.yml:3: global: not allowed in a zones file (it holds only "
         "zones)"},
        {"invalid-zones-file-bad-zone.yml",
         "{dir}/zones-bad-zone.d/zones.yml:4: zones[1].timeout: not a duration: \"forever\" (use "
         "e.g. 500ms, 2s, 1m)"},
        {"invalid-zones-file-duplicate-zone.yml",
         "{dir}/zones-valid.d/a.yml:4: zones[1].name: duplicate zone shard2.example.org. (first "
         "declared at {dir}/invalid-zones-file-duplicate-zone.yml:3)"},
    };

    // Every file has its message and every message its file.
    soawatch::test::check_invalid_files(kConfigDir, expected, load_error, 20);
}

TEST_CASE("config: parse_config reads the same text as load_config", "[config]") {
    const std::string path = kConfigDir + "/invalid-duration.yml";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    try {
        parse_config(text.str(), "inline.yml");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "inline.yml:2: global.timeout: not a duration: \"5x\" (use e.g. 500ms, 2s, 1m)");
    }
}

TEST_CASE("config: the example in docs/CONFIG.md loads", "[config]") {
    std::ifstream in(std::string(SOAWATCH_SOURCE_DIR) + "/docs/CONFIG.md");
    REQUIRE(in.good());
    // The first ```yaml block is the full example.
    std::string line;
    std::string example;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside && line == "```yaml") {
            inside = true;
        } else if (inside && line == "```") {
            break;
        } else if (inside) {
            example += line + "\n";
        }
    }
    REQUIRE_FALSE(example.empty());
    // Its zones_files pattern matches nothing from here, which is no error.
    const Config config = parse_config(example, "/nonexistent/soawatch.yml");
    CHECK_FALSE(config.zones.empty());
}

TEST_CASE("config: min_usable_nameservers and its severity", "[config]") {
    const soawatch::GlobalConfig defaults;
    CHECK(defaults.min_usable_nameservers == 2);
    CHECK(defaults.min_usable_nameservers_severity == soawatch::RedundancySeverity::critical);
    const auto config = soawatch::parse_config(
        "global:\n  min_usable_nameservers: 1\n  min_usable_nameservers_severity: warning\n",
        "test.yml");
    CHECK(config.global.min_usable_nameservers == 1);
    CHECK(config.global.min_usable_nameservers_severity == soawatch::RedundancySeverity::warning);
}

TEST_CASE("config: transfer_check, global and per zone", "[config]") {
    ::setenv("SOAWATCH_TEST_XFR_SECRET", "kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=", 1);
    const Config config = parse_config(R"(
global:
  transfer_check:
    interval: 2h
    tsig:
      name: Lab-XFR
      algorithm: hmac-sha512
      secret_env: SOAWATCH_TEST_XFR_SECRET
zones:
  - example.com
  - name: open.example
    transfer_check:
      interval: 1m
  - name: off.example
    transfer_check:
      enabled: false
)",
                                       "soawatch.yml");
    const auto& global = config.global.transfer_check;
    REQUIRE(global);
    CHECK(global->interval == 2h);
    REQUIRE(global->tsig);
    CHECK(global->tsig->name == "lab-xfr.");
    CHECK(global->tsig->algorithm == soawatch::tsig::Algorithm::hmac_sha512);
    CHECK(global->tsig->secret.size() == 32);
    REQUIRE(config.zones.size() == 3);
    CHECK(soawatch::effective_transfer_check(config.global, config.zones[0]) == global);
    const auto zone = soawatch::effective_transfer_check(config.global, config.zones[1]);
    REQUIRE(zone);
    CHECK(zone->interval == 1min);
    CHECK_FALSE(zone->tsig);  // replaces the global one, key included
    CHECK(soawatch::effective_transfer_check(config.global, config.zones[2]) == nullptr);
    CHECK(parse_config("zones: [a.example]\n", "x.yml").global.transfer_check == nullptr);
    ::unsetenv("SOAWATCH_TEST_XFR_SECRET");
}
