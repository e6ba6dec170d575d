// The `alerting:` section of the configuration: every key read, every error with its one
// message (file:line: key: message), secrets from files and the environment.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "tests/support/config_files.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

std::string parse_error(const std::string& text) {
    return test::config_error_of([&] { parse_config(text, "test.yml"); });
}

using test::TempDir;

}  // namespace

TEST_CASE("alerting: defaults without the section", "[alerting][config]") {
    const Config c = parse_config("zones: [a.example]", "test.yml");
    const AlertingConfig& a = c.alerting;
    CHECK(a.default_for == 1min);
    CHECK(a.repeat_interval == 4h);
    CHECK(a.resend_interval == 1min);
    CHECK(a.receivers.empty());
    CHECK(a.group_by == std::vector<std::string>{"alertname", "zone"});
    CHECK(a.rules[AlertRule::nameserver_behind].enabled);
    CHECK(a.rules[AlertRule::nameserver_behind].severity == "warning");
    CHECK(a.rules[AlertRule::zone_expiry_risk].severity == "critical");
    CHECK(a.rules[AlertRule::primary_unreachable].severity == "critical");
    CHECK(a.rules[AlertRule::nameserver_unreachable].consecutive_failures == 3u);
    CHECK(a.rules[AlertRule::zone_expiry_risk].expire_fraction == 0.5);
    CHECK(&effective_alert_rules(a, c.zones[0]) == &a.rules);
}

TEST_CASE("alerting: every key of a full section", "[alerting][config]") {
    TempDir dir("soawatch-alerting");
    const std::string slack =
        dir.write("slack-url", "https://hooks.slack.example/services/T/B/x\n");
    const std::string token = dir.write("token", "Bearer abc\n");
    setenv("SOAWATCH_TEST_AM_URL", "http://alertmanager.example:9093/", 1);
    const std::string text = R"(
alerting:
  for: 2m
  repeat_interval: 1h
  resend_interval: 30s
  external_url: https://soawatch.example/
  queue_capacity: 10
  rules:
    NameserverBehind: { for: 5m, max_serial_behind: 2, max_lag: 10m, severity: page }
    ZoneExpiryRisk: { expire_fraction: 0.25 }
    NameserverUnreachable: { consecutive_failures: 5 }
    ZoneSerialMismatch: { enabled: false }
  receivers:
    - name: ops
      type: slack
      url_file: )" + slack + R"(
    - name: hooks
      type: webhook
      url: http://hooks.example/hook
      headers: { Authorization_file: )" +
                             token + R"(, X-Key_env_file: )" + token + R"(, X-Team: dns }
      timeout: 3s
      max_attempts: 2
      send_resolved: false
    - name: am
      type: alertmanager
      url_env: SOAWATCH_TEST_AM_URL
  route: { receivers: [ops, am], group_by: [zone, alertname] }
zones:
  - name: a.example
    alerting:
      rules:
        NameserverBehind: { max_lag: 1h }
  - b.example
)";
    const Config c = parse_config(text, dir.path().string() + "/soawatch.yml");
    const AlertingConfig& a = c.alerting;
    CHECK(a.default_for == 2min);
    CHECK(a.repeat_interval == 1h);
    CHECK(a.resend_interval == 30s);
    CHECK(a.external_url == "https://soawatch.example");
    CHECK(a.queue_capacity == 10u);
    const auto& behind = a.rules[AlertRule::nameserver_behind];
    CHECK(behind.for_duration == 5min);
    CHECK(behind.max_serial_behind == 2u);
    CHECK(behind.max_lag == 10min);
    CHECK(behind.severity == "page");
    CHECK(a.rules[AlertRule::zone_expiry_risk].expire_fraction == 0.25);
    CHECK(a.rules[AlertRule::zone_expiry_risk].for_duration == 2min);  // alerting.for
    CHECK(a.rules[AlertRule::nameserver_unreachable].consecutive_failures == 5u);
    CHECK_FALSE(a.rules[AlertRule::zone_serial_mismatch].enabled);
    REQUIRE(a.receivers.size() == 3);
    CHECK(a.receivers[0].type == ReceiverType::slack);
    CHECK(a.receivers[0].url == "https://hooks.slack.example/services/T/B/x");
    CHECK(a.receivers[1].type == ReceiverType::webhook);
    CHECK(a.receivers[1].headers == std::vector<std::pair<std::string, std::string>>{
                                        {"Authorization", "Bearer abc"},
                                        {"X-Key_env", "Bearer abc"},  // a file, not a variable
                                        {"X-Team", "dns"}});
    CHECK(a.receivers[1].timeout == 3s);
    CHECK(a.receivers[1].max_attempts == 2u);
    CHECK_FALSE(a.receivers[1].send_resolved);
    CHECK(a.receivers[2].type == ReceiverType::alertmanager);
    CHECK(a.receivers[2].url == "http://alertmanager.example:9093");  // trailing / dropped
    CHECK(a.route_receivers == std::vector<std::string>{"ops", "am"});
    CHECK(a.group_by == std::vector<std::string>{"zone", "alertname"});
    // The zone's override starts from the global rules, changing only what it names.
    const AlertRuleSet& zone_rules = effective_alert_rules(a, c.zones[0]);
    CHECK(zone_rules[AlertRule::nameserver_behind].max_lag == 1h);
    CHECK(zone_rules[AlertRule::nameserver_behind].for_duration == 5min);
    CHECK(zone_rules[AlertRule::nameserver_behind].max_serial_behind == 2u);
    CHECK_FALSE(zone_rules[AlertRule::zone_serial_mismatch].enabled);
    CHECK(&effective_alert_rules(a, c.zones[1]) == &a.rules);
    unsetenv("SOAWATCH_TEST_AM_URL");
}

TEST_CASE("alerting: each error has its one message", "[alerting][config]") {
    struct Case {
        const char* text;
        const char* error;
    };
    unsetenv("SOAWATCH_TEST_UNSET");
    const std::vector<Case> cases{
        {"alerting: {for: soon}",
         "test.yml:1: alerting.for: not a duration: \"soon\" (use e.g. 500ms, 2s, 1m)"},
        {"alerting: {repeat_interval: 0s}",
         "test.yml:1: alerting.repeat_interval: out of range: 0s (at least 1s)"},
        {"alerting: {resend_interval: 2h}",
         "test.yml:1: alerting.resend_interval: out of range: 2h (allowed 1s..1h)"},
        {"alerting: {repeat: 1h}", "test.yml:1: alerting.repeat: unknown key"},
        {"receivers: []", "test.yml:1: receivers: unknown key (it belongs under alerting)"},
        {"alerting: {external_url: soawatch.example}",
         "test.yml:1: alerting.external_url: not an http:// or https:// URL"},
        {"alerting: {queue_capacity: 0}",
         "test.yml:1: alerting.queue_capacity: out of range: 0 (allowed 1..100000)"},
        {"alerting: {rules: {NameserverBehnd: {for: 1m}}}",
         "test.yml:1: alerting.rules.NameserverBehnd: unknown rule (ZoneSerialMismatch, "
         "NameserverBehind, NameserverUnreachable, NameserverLame, ZoneExpiryRisk, "
         "PrimaryUnreachable, SecondaryRefreshFailing, PropagationSlow, SOAFieldsMismatch, "
         "SOATimersUnsafe)"},
        {"alerting: {rules: {SecondaryRefreshFailing: {tolerated_retries: 101}}}",
         "test.yml:1: alerting.rules.SecondaryRefreshFailing.tolerated_retries: out of range: "
         "101 (allowed 0..100)"},
        {"alerting: {rules: {PropagationSlow: {expire_fraction: 0.2}}}",
         "test.yml:1: alerting.rules.PropagationSlow.expire_fraction: not a setting of "
         "PropagationSlow (enabled, for, severity, max_propagation)"},
        {"alerting: {rules: {SOATimersUnsafe: {max_minimum: 0s}}}",
         "test.yml:1: alerting.rules.SOATimersUnsafe.max_minimum: out of range: 0s (allowed "
         "1s..1w)"},
        {"alerting: {rules: {NameserverLame: {max_lag: 1m}}}",
         "test.yml:1: alerting.rules.NameserverLame.max_lag: not a setting of NameserverLame "
         "(enabled, for, severity)"},
        {"alerting: {rules: {ZoneExpiryRisk: {consecutive_failures: 2}}}",
         "test.yml:1: alerting.rules.ZoneExpiryRisk.consecutive_failures: not a setting of "
         "ZoneExpiryRisk (enabled, for, severity, expire_fraction)"},
        {"alerting: {rules: {ZoneExpiryRisk: {expire_fraction: 1.5}}}",
         "test.yml:1: alerting.rules.ZoneExpiryRisk.expire_fraction: out of range: 1.5 (allowed "
         "above 0 up to 1)"},
        {"alerting: {rules: {ZoneExpiryRisk: {expire_fraction: half}}}",
         "test.yml:1: alerting.rules.ZoneExpiryRisk.expire_fraction: expected a number, got "
         "\"half\""},
        {"alerting: {rules: {NameserverBehind: {max_serial_behind: -1}}}",
         "test.yml:1: alerting.rules.NameserverBehind.max_serial_behind: out of range: -1 "
         "(allowed 0..2147483647)"},
        {"alerting: {rules: {NameserverUnreachable: {consecutive_failures: 0}}}",
         "test.yml:1: alerting.rules.NameserverUnreachable.consecutive_failures: out of range: 0 "
         "(allowed 1..1000)"},
        {"alerting: {rules: {PrimaryUnreachable: {severity: \"very bad\"}}}",
         "test.yml:1: alerting.rules.PrimaryUnreachable.severity: a severity is one word, like "
         "warning or critical"},
        {"alerting: {rules: [NameserverBehind]}",
         "test.yml:1: alerting.rules: expected a mapping of rule names, got a list"},
        {"alerting: {receivers: [{type: slack, url: \"http://x.example/\"}]}",
         "test.yml:1: alerting.receivers[0]: missing required key name"},
        {"alerting: {receivers: [{name: a, url: \"http://x.example/\"}]}",
         "test.yml:1: alerting.receivers[0]: missing required key type"},
        {"alerting: {receivers: [{name: a, type: pager, url: \"http://x.example/\"}]}",
         "test.yml:1: alerting.receivers[0].type: unknown receiver type \"pager\" (slack, "
         "webhook, alertmanager)"},
        {"alerting: {receivers: [{name: a, type: slack}]}",
         "test.yml:1: alerting.receivers[0]: missing the URL: one of url, url_file, url_env"},
        {"alerting: {receivers: [{name: a, type: slack, url: \"http://x.example/\", url_env: "
         "X}]}",
         "test.yml:1: alerting.receivers[0]: give only one of url, url_file, url_env"},
        {"alerting: {receivers: [{name: a, type: slack, url: \"ftp://x.example/secret\"}]}",
         "test.yml:1: alerting.receivers[0].url: not an http:// or https:// URL"},
        {"alerting: {receivers: [{name: a, type: slack, url: \"https:///path\"}]}",
         "test.yml:1: alerting.receivers[0].url: the URL has no host"},
        {"alerting: {receivers: [{name: a, type: slack, url_env: SOAWATCH_TEST_UNSET}]}",
         "test.yml:1: alerting.receivers[0].url_env: environment variable "
         "\"SOAWATCH_TEST_UNSET\" is not set"},
        {"alerting: {receivers: [{name: a, type: webhook, url: \"http://x.example/\", headers: "
         "{\"Bad Header\": x}}]}",
         "test.yml:1: alerting.receivers[0].headers.Bad Header: not an HTTP header name: "
         "\"Bad Header\""},
        {"alerting: {receivers: [{name: a, type: webhook, url: \"http://x.example/\", timeout: "
         "10m}]}",
         "test.yml:1: alerting.receivers[0].timeout: out of range: 10m (allowed 100ms..5m)"},
        {"alerting: {receivers: [{name: a, type: webhook, url: \"http://x.example/\"}, {name: a, "
         "type: slack, url: \"http://y.example/\"}]}",
         "test.yml:1: alerting.receivers[1]: duplicate receiver name \"a\" (first at line 1)"},
        {"alerting: {route: {receivers: [ops]}}",
         "test.yml:1: alerting.route.receivers[0]: no receiver named \"ops\" (define it under "
         "alerting.receivers)"},
        {"alerting: {receivers: [{name: a, type: webhook, url: \"http://x.example/\"}], route: "
         "{receivers: [a, a]}}",
         "test.yml:1: alerting.route.receivers[1]: receiver \"a\" listed twice"},
        {"alerting: {route: {group_by: [instance]}}",
         "test.yml:1: alerting.route.group_by[0]: unknown label \"instance\" (alertname, zone, "
         "nameserver, address, severity, or \"...\" alone for all)"},
        {"alerting: {route: {group_by: [zone, \"...\"]}}",
         "test.yml:1: alerting.route.group_by[1]: unknown label \"...\" (alertname, zone, "
         "nameserver, address, severity, or \"...\" alone for all)"},
        {"zones: [{name: a.example, alerting: {receivers: []}}]",
         "test.yml:1: zones[0].alerting.receivers: cannot be set per zone (only rules can; set "
         "it under alerting)"},
        {"zones: [{name: a.example, alerting: {rules: {NameserverBehind: {max_lag: 1x}}}}]",
         "test.yml:1: zones[0].alerting.rules.NameserverBehind.max_lag: not a duration: \"1x\" "
         "(use e.g. 500ms, 2s, 1m)"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(parse_error(c.text) == c.error);
    }
}

TEST_CASE("alerting: secret files are read relative to the main file, never echoed",
          "[alerting][config]") {
    TempDir dir("soawatch-alerting");
    dir.write("url", "https://hooks.example/T/B/sEcReT\n\n");
    dir.write("empty", "\n");
    const std::string main = (dir.path() / "soawatch.yml").string();
    const Config c =
        parse_config("alerting: {receivers: [{name: a, type: slack, url_file: url}]}", main);
    CHECK(c.alerting.receivers[0].url == "https://hooks.example/T/B/sEcReT");

    const auto error_of = [&main](const std::string& text) {
        try {
            parse_config(text, main);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error_of("alerting: {receivers: [{name: a, type: slack, url_file: empty}]}") ==
          main + ":1: alerting.receivers[0].url_file: file \"" + (dir.path() / "empty").string() +
              "\" is empty");
    CHECK(error_of("alerting: {receivers: [{name: a, type: slack, url_file: missing}]}") ==
          main +
              ":1: alerting.receivers[0].url_file: cannot read file: No such file or "
              "directory (" +
              (dir.path() / "missing").string() + ")");
    // A URL that is not http(s) is refused without repeating it (it may hold a token).
    dir.write("bad", "hooks.example/T/B/sEcReT");
    const std::string bad =
        error_of("alerting: {receivers: [{name: a, type: slack, url_file: bad}]}");
    CHECK(bad.find("sEcReT") == std::string::npos);
    CHECK(bad.find("not an http:// or https:// URL") != std::string::npos);
}

TEST_CASE("alerting: the replication rules' settings and defaults", "[alerting][config]") {
    const Config defaults = parse_config("zones: [{name: a.test}]\n", "test.yml");
    const AlertRuleSet& d = defaults.alerting.rules;
    CHECK(d[AlertRule::secondary_refresh_failing].tolerated_retries == 2u);
    CHECK(d[AlertRule::secondary_refresh_failing].severity == "warning");
    CHECK(d[AlertRule::zone_expiry_risk].expire_fraction == 0.5);
    CHECK(d[AlertRule::propagation_slow].max_propagation == 0s);
    CHECK(d[AlertRule::soa_timers_unsafe].min_expire == 7 * 24h);
    CHECK(d[AlertRule::soa_timers_unsafe].max_minimum == 24h);
    CHECK(d[AlertRule::soa_fields_mismatch].enabled);

    const Config c = parse_config(R"(
alerting:
  rules:
    SecondaryRefreshFailing: {tolerated_retries: 5, for: 0s}
    PropagationSlow: {max_propagation: 10m}
    SOATimersUnsafe: {min_expire: 3d, max_minimum: 3h, severity: info}
    SOAFieldsMismatch: {enabled: false}
zones: [{name: a.test}]
)",
                                  "test.yml");
    const AlertRuleSet& r = c.alerting.rules;
    CHECK(r[AlertRule::secondary_refresh_failing].tolerated_retries == 5u);
    CHECK(r[AlertRule::secondary_refresh_failing].for_duration == 0s);
    CHECK(r[AlertRule::propagation_slow].max_propagation == 10min);
    CHECK(r[AlertRule::soa_timers_unsafe].min_expire == 72h);
    CHECK(r[AlertRule::soa_timers_unsafe].max_minimum == 3h);
    CHECK(r[AlertRule::soa_timers_unsafe].severity == "info");
    CHECK_FALSE(r[AlertRule::soa_fields_mismatch].enabled);
}
