// The command line of the agent (soawatch [flags]), read by the shared flags module
// (agent/cli/flags.hpp) as `soawatch check`'s is; the caller prints help, version and errors.
#pragma once

#include <string>
#include <vector>

#include "agent/config/shard.hpp"
#include "exporters/http/web_config.hpp"
#include "exporters/metrics/metrics.hpp"

namespace soawatch {

extern const char* const kAgentUsage;

struct AgentFlags {
    std::string config_file = "soawatch.yml";
    bool config_check = false;
    std::string listen = ":9353";
    bool enable_lifecycle = false;
    Shard shard;                  // 0/1: every zone
    std::string web_config_file;  // empty: plain HTTP, no auth
    WebConfig web;                // what web_config_file holds, loaded at start and on reload
    PerAddressSeries per_address = PerAddressSeries::all;
    std::string vantage;  // --vantage; "": global.vantage decides (agent/config/vantage.hpp)
};

struct ParsedAgentFlags {
    AgentFlags flags;
    std::string error;     // why the command line is unusable; "" when it is not
    bool help = false;     // -h/--help: print kAgentUsage, exit 0
    bool version = false;  // --version: print the version, exit 0
};

// args: the command line after the program name. --log.level and --log.format take effect as they
// are read.
ParsedAgentFlags parse_agent_flags(const std::vector<std::string>& args);

}  // namespace soawatch
