// The vantage point an agent watches from (`--vantage=NAME`, `global.vantage`; the flag wins):
// a name that goes, as the label `vantage`, on every zone and nameserver series, every alert,
// the JSON API and the status page, so that Prometheus and Alertmanager can tell several agents
// watching the same zones from different places apart and aggregate across them
// (docs/DEPLOY.md). One definition of a valid name for the file and the command line, so the
// same bad value gets the same message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace soawatch {

// A Prometheus label value that needs no escaping anywhere it goes (URLs, HTML, logfmt).
inline constexpr std::size_t kMaxVantageLength = 63;

// "" when `name` is a valid vantage ([A-Za-z0-9_.-]{1,63}), else why not. The message has no
// prefix: the config puts "file:line: global.vantage: " before it, the flag "--vantage: ".
std::string vantage_error(std::string_view name);

// The vantage the agent uses: the flag's when given, else the config's; "" for none (then no
// series, alert or API answer carries a vantage).
inline std::string effective_vantage(const std::string& flag, const std::string& config) {
    return flag.empty() ? config : flag;
}

}  // namespace soawatch
