#include "agent/cli/agent_flags.hpp"

#include "agent/cli/flags.hpp"
#include "agent/common/log.hpp"
#include "agent/common/quoted.hpp"
#include "agent/config/vantage.hpp"

namespace soawatch {

const char* const kAgentUsage = R"(Usage: soawatch [flags]
       soawatch check [options] ZONE...     (one-shot check; soawatch check --help)

Watches the SOA serial of every authoritative nameserver of the configured zones and exports
what it sees as Prometheus metrics, a JSON API and a status page on one HTTP port.

Flags:
  --config.file=FILE          configuration file (default soawatch.yml)
  --config.check              validate the configuration file and exit (0 valid, 1 invalid)
  --web.listen-address=ADDR   HTTP listen address, [IP]:PORT (default :9353)
  --web.config.file=FILE      TLS, basic auth, headers, rate limit (exporter-toolkit style)
  --web.enable-lifecycle      allow POST /-/reload (SIGHUP always reloads)
  --shard=INDEX/COUNT         watch only shard INDEX (0..COUNT-1) of the configured zones; a
                              zone's shard depends on its name and COUNT only (default 0/1)
  --vantage=NAME              where this agent watches from: the label vantage="NAME" on every
                              zone and nameserver series and alert, and in the API (wins over
                              global.vantage; letters, digits, '_', '.', '-', at most 63)
  --log.level=LEVEL           debug, info, warn, error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --metrics.per-address=WHICH all: per-address series for every zone (default);
                              not-in-sync: only for zones whose verdict is not OK (the
                              per-nameserver totals always cover every address)
  --version                   print the version and exit
  -h, --help                  show this help
)";

ParsedAgentFlags parse_agent_flags(const std::vector<std::string>& args) {
    ParsedAgentFlags result;
    AgentFlags& f = result.flags;
    bool& help = result.help;
    bool& version = result.version;
    const auto value_of = [](std::string& field) {
        return [&field](const std::string& v) {
            field = v;
            return std::string();
        };
    };
    const auto on = [](bool& flag) {
        return [&flag](const std::string&) {
            flag = true;
            return std::string();
        };
    };
    const std::vector<Flag> flags = {
        {"help", 'h', false, on(help)},
        {"version", 0, false, on(version)},
        {"config.file", 0, true, value_of(f.config_file)},
        {"config.check", 0, false, on(f.config_check)},
        {"web.listen-address", 0, true, value_of(f.listen)},
        {"web.config.file", 0, true, value_of(f.web_config_file)},
        {"web.enable-lifecycle", 0, false, on(f.enable_lifecycle)},
        {"shard", 0, true,
         [&f](const std::string& v) {
             std::string error;
             if (auto shard = parse_shard(v, &error)) f.shard = *shard;
             return error;
         }},
        {"vantage", 0, true,
         [&f](const std::string& v) {
             f.vantage = v;
             return vantage_error(v);
         }},
        {"log.level", 0, true,
         [](const std::string& v) {
             return log::set_level(v)
                        ? std::string()
                        : "unknown level " + quoted(v) + " (debug, info, warn, error)";
         }},
        {"log.format", 0, true,
         [](const std::string& v) {
             return log::set_format(v) ? std::string()
                                       : "unknown format " + quoted(v) + " (logfmt, json)";
         }},
        {"metrics.per-address", 0, true,
         [&f](const std::string& v) {
             if (v == "all") {
                 f.per_address = PerAddressSeries::all;
             } else if (v == "not-in-sync") {
                 f.per_address = PerAddressSeries::not_in_sync;
             } else {
                 return "unknown value " + quoted(v) + " (all, not-in-sync)";
             }
             return std::string();
         }},
    };
    const ParsedFlags parsed = parse_flags(args, flags);
    result.error = parsed.error;
    if (result.error.empty() && !parsed.operands.empty())
        result.error = "unexpected argument " + quoted(parsed.operands.front());
    return result;
}

}  // namespace soawatch
