// libFuzzer target for the configuration loader (agent/config/config.cpp) on arbitrary text. The
// loader promises one thing for bad input: a ConfigError naming the file, never another
// exception, a crash or a hang. For input it accepts, the result must be usable as is:
//   - every zone name is valid, canonical and unique;
//   - every duration and limit is inside the range docs/CONFIG.md states.
// zones_files patterns are checked but not expanded (a fuzzed pattern must never open a file).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <set>
#include <string>

#include "agent/config/config.hpp"
#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"

namespace dns = soawatch::dns;
using namespace std::chrono_literals;

namespace {

constexpr const char* kName = "/nonexistent/soawatch-fuzz.yml";

void check_config(const soawatch::Config& config) {
    const auto& g = config.global;
    FUZZ_CHECK(g.interval >= 1s);
    FUZZ_CHECK(g.probe.timeout > 0ms && g.probe.timeout <= 60s);
    FUZZ_CHECK(g.probe.retries <= 10);
    FUZZ_CHECK(g.probe.port != 0);
    FUZZ_CHECK(g.probe.ipv4 || g.probe.ipv6);
    FUZZ_CHECK(g.fast_reprobe_interval <= g.interval);
    FUZZ_CHECK(g.max_nameservers >= 1 && g.max_addresses >= 1);
    for (const auto& r : g.resolvers) FUZZ_CHECK(!r.address.empty() && r.port != 0);
    std::set<std::string> names;
    for (const auto& zone : config.zones) {
        FUZZ_CHECK(dns::validate_name(zone.name).empty());
        FUZZ_CHECK(dns::canonical_name(zone.name) == zone.name);
        FUZZ_CHECK(names.insert(zone.name).second);
        FUZZ_CHECK(soawatch::effective_interval(g, zone) >= 1s);
        const auto probe = soawatch::effective_probe_settings(g, zone);
        FUZZ_CHECK(probe.port != 0 && probe.timeout > 0ms);
        if (zone.primary) FUZZ_CHECK(!zone.primary->address.empty() && zone.primary->port != 0);
        for (const auto& ns : zone.nameservers) FUZZ_CHECK(!ns.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Configurations are small; huge inputs only slow the fuzzer down.
    if (size > size_t{64} * 1024) return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        check_config(soawatch::parse_config(text, kName, false));
    } catch (const soawatch::ConfigError& e) {
        FUZZ_CHECK(e.file() == kName);
        FUZZ_CHECK(std::string(e.what()).rfind(kName, 0) == 0);
        FUZZ_CHECK(!e.message().empty());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "config loader threw something other than ConfigError: %s\n",
                     e.what());
        FUZZ_CHECK(!"only ConfigError may escape parse_config");
    }
    return 0;
}
