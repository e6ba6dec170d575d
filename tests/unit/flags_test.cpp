// One flags module for both commands, and the probe settings' ranges shared with the config
// file: the same bad value gets the same message from `soawatch check` and from the config.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/cli/agent_flags.hpp"
#include "agent/cli/check_flags.hpp"
#include "agent/cli/flags.hpp"
#include "agent/config/config.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

// What the config says about `key: value` under global, without "test.yml:1: global.key: ".
std::string config_message(const std::string& key, const std::string& value) {
    try {
        parse_config("global: {" + key + ": " + value + "}\n", "test.yml");
    } catch (const ConfigError& e) {
        return e.message();
    }
    return "";
}

// What `soawatch check --flag=value example.com` says, without "--flag: ".
std::string flag_message(const std::string& flag, const std::string& value) {
    const auto parsed = parse_check_options({"--" + flag + "=" + value, "example.com"});
    const std::string prefix = "--" + flag + ": ";
    if (parsed.error.rfind(prefix, 0) != 0) return parsed.error;
    return parsed.error.substr(prefix.size());
}

}  // namespace

TEST_CASE("flags: bad probe settings get the config's message, word for word", "[flags]") {
    struct Row {
        const char* key;
        const char* flag;
        const char* value;
        const char* message;
    };
    const Row rows[] = {
        {"timeout", "timeout", "0s", "out of range: 0s (allowed 1ms..1m)"},
        {"timeout", "timeout", "61s", "out of range: 61s (allowed 1ms..1m)"},
        {"timeout", "timeout", "5x", "not a duration: \"5x\" (use e.g. 500ms, 2s, 1m)"},
        {"timeout", "timeout", "1h", "out of range: 1h (allowed 1ms..1m)"},
        {"retries", "retries", "11", "out of range: 11 (allowed 0..10)"},
        {"retries", "retries", "-1", "out of range: -1 (allowed 0..10)"},
        {"retries", "retries", "x", "expected an integer, got \"x\""},
        {"loops", "loops", "0", "out of range: 0 (allowed auto, or 1..64)"},
        {"loops", "loops", "65", "out of range: 65 (allowed auto, or 1..64)"},
        {"loops", "loops", "many", "expected auto, or 1..64, got \"many\""},
        {"port", "port", "0", "out of range: 0 (allowed 1..65535)"},
        {"port", "port", "65536", "out of range: 65536 (allowed 1..65535)"},
        {"port", "port", "99999999999999999999",
         "out of range: 99999999999999999999 (allowed 1..65535)"},
        {"edns_udp_size", "edns-bufsize", "511", "out of range: 511 (allowed 0, or 512..4096)"},
        {"edns_udp_size", "edns-bufsize", "4097", "out of range: 4097 (allowed 0, or 512..4096)"},
        {"edns_udp_size", "edns-bufsize", "65535", "out of range: 65535 (allowed 0, or 512..4096)"},
        {"edns_udp_size", "edns-bufsize", "1", "out of range: 1 (allowed 0, or 512..4096)"},
    };
    for (const Row& row : rows) {
        INFO(row.key << " / --" << row.flag << " = " << row.value);
        CHECK(config_message(row.key, row.value) == row.message);
        CHECK(flag_message(row.flag, row.value) == row.message);
    }
    // And the same good values.
    for (const char* value : {"0", "512", "4096", "1232"}) {
        CHECK(config_message("edns_udp_size", value).empty());
        CHECK(flag_message("edns-bufsize", value).empty());
    }
    CHECK(flag_message("timeout", "1m").empty());
    CHECK(flag_message("retries", "10").empty());
    for (const char* value : {"auto", "1", "64"}) {
        CHECK(config_message("loops", value).empty());
        CHECK(flag_message("loops", value).empty());
    }
}

TEST_CASE("flags: check takes values both ways and reports flags by name", "[flags]") {
    auto parsed = parse_check_options({"--timeout", "500ms", "--retries=1", "-4", "--port=5300",
                                       "--edns-bufsize", "0", "Example.COM", "--json", "b.test"});
    REQUIRE(parsed.error.empty());
    const CheckOptions& o = parsed.options;
    CHECK(o.global.probe.timeout == 500ms);
    CHECK(o.global.probe.retries == 1);
    CHECK(o.global.probe.port == 5300);
    CHECK(o.global.probe.edns_udp_size == 0);
    CHECK_FALSE(o.global.probe.ipv6);
    CHECK(o.json);
    CHECK(o.zones == std::vector<std::string>{"example.com.", "b.test."});

    CHECK(parse_check_options({"--bogus", "a.test"}).error == "unknown flag --bogus");
    CHECK(parse_check_options({"--bogus=1", "a.test"}).error == "unknown flag --bogus");
    CHECK(parse_check_options({"-x", "a.test"}).error == "unknown flag -x");
    CHECK(parse_check_options({"a.test", "--timeout"}).error == "--timeout: needs a value");
    CHECK(parse_check_options({"--json=yes", "a.test"}).error == "--json: takes no value");
    CHECK(parse_check_options({"-4", "-6", "a.test"}).error == "-4 and -6 exclude each other");
    CHECK(parse_check_options({"--timeout=2s"}).error == "no zone given");
    CHECK(parse_check_options({"--primary=ns1.example.com", "a.test"})
              .error.rfind("--primary: ", 0) == 0);
    CHECK(parse_check_options({"--primary=192.0.2.1:5300", "a.test"}).error.empty());
    CHECK(parse_check_options({"--nameserver=ns1.example.com", "a.test"}).error.empty());
    // Help is a result, not an exit inside the parser.
    auto help = parse_check_options({"--help"});
    CHECK(help.error.empty());
    CHECK(help.options.help);
    CHECK(parse_check_options({"-h"}).options.help);
    // --no-delegation-check goes with --config.file too (it overrides the file: the benchmark
    // times the SOA round alone); a probe option does not.
    auto with_file = parse_check_options({"--config.file=a.yml", "--no-delegation-check"});
    CHECK(with_file.error.empty());
    CHECK(with_file.options.no_delegation_check);
    CHECK_FALSE(with_file.options.global.delegation_check);
    CHECK_FALSE(parse_check_options({"--config.file=a.yml", "--timeout=1s"}).error.empty());
}

TEST_CASE("flags: the parser can run again (getopt state is reset)", "[flags]") {
    for (int i = 0; i < 3; ++i) {
        bool seen = false;
        const auto parsed =
            parse_flags({"x", "--on", "y"}, {{"on", 0, false, [&](const std::string&) {
                                                  seen = true;
                                                  return std::string();
                                              }}});
        CHECK(parsed.error.empty());
        CHECK(seen);
        CHECK(parsed.operands == std::vector<std::string>{"x", "y"});
    }
}

TEST_CASE("flags: the agent's command line on the same parser, errors returned, never exit()",
          "[flags]") {
    const auto parse = [](const std::vector<std::string>& args) { return parse_agent_flags(args); };
    const auto ok =
        parse({"--config.file=a.yml", "--web.listen-address", "127.0.0.1:0",
               "--web.enable-lifecycle", "--shard=1/3", "--metrics.per-address=not-in-sync"});
    CHECK(ok.error.empty());
    CHECK(ok.flags.config_file == "a.yml");
    CHECK(ok.flags.listen == "127.0.0.1:0");
    CHECK(ok.flags.enable_lifecycle);
    CHECK(ok.flags.shard.to_string() == "1/3");
    CHECK(ok.flags.per_address == PerAddressSeries::not_in_sync);
    CHECK(parse({"--help"}).help);
    CHECK(parse({"--version"}).version);
    CHECK(parse({"--bogus"}).error == "unknown flag --bogus");
    CHECK(parse({"extra"}).error == "unexpected argument \"extra\"");
    CHECK(parse({"--metrics.per-address=some"}).error.find("(all, not-in-sync)") !=
          std::string::npos);
    CHECK_FALSE(parse({"--shard=3/3"}).error.empty());
}
