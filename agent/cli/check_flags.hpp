// The command line of `soawatch check`, read by the shared flags module (agent/cli/flags.hpp)
// with the probe settings' ranges shared with the configuration file (setting_ranges.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/config/endpoint.hpp"

namespace soawatch {

extern const char* const kCheckUsage;

struct CheckOptions {
    GlobalConfig global;  // the probe settings of the flags, resolvers included
    std::optional<std::string> primary_text;
    std::vector<std::string> nameservers;
    std::vector<std::string> zones;  // canonical
    std::optional<std::string> config_file;
    std::string vantage;  // --vantage; "": the file's global.vantage, if any
    bool json = false;
    bool summary = false;
    bool stats = false;
    // --no-delegation-check: no delegation check for any zone (with --config.file too, the
    // file's settings overridden: the benchmark times the SOA round alone).
    bool no_delegation_check = false;
    // --loops: event loops (threads) the zones are sharded across, or kLoopsAuto; none:
    // global.loops of the file, else auto; never more than the zones.
    std::optional<unsigned> loops;
    bool help = false;  // -h/--help: print kCheckUsage, exit 0 (the caller does)
};

struct ParsedCheckOptions {
    CheckOptions options;
    std::string error;  // why the command line is unusable ("--timeout: out of range: ..."); "" ok
};

// args: what follows "soawatch check".
ParsedCheckOptions parse_check_options(const std::vector<std::string>& args);

}  // namespace soawatch
