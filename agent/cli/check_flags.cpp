#include "agent/cli/check_flags.hpp"

#include "agent/cli/flags.hpp"
#include "agent/common/quoted.hpp"
#include "agent/config/dnssec_mode.hpp"
#include "agent/config/setting_ranges.hpp"
#include "agent/config/vantage.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch {

const char* const kCheckUsage = R"(Usage: soawatch check [options] ZONE...
       soawatch check --config.file=FILE [--json] [--summary] [--stats]

Asks every authoritative nameserver address of each ZONE for its SOA (RD=0, straight to the
address, UDP with TCP on truncation), compares the serials (RFC 1982) and prints one row per
address with a verdict. Exit codes follow the Nagios/Icinga plugin conventions:
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the worst zone decides: CRITICAL > WARNING > UNKNOWN > OK).

With --config.file, every zone of the agent's configuration file is checked once, with its
settings (nameservers, primary, port, timeout, retries, resolvers), all at once, through the
agent's own scheduler, prober and evaluator.

Options (the probe settings take what the configuration file's keys take):
  --config.file FILE         check every zone of this agent configuration file (no ZONE
                             arguments and no probe options below then)
  --resolver IP[:PORT]       recursive resolver for discovering NS names and their addresses
                             (repeatable; default: the system's /etc/resolv.conf)
  --port N                   port of the authoritative servers, 1..65535 (default 53)
  --primary IP[:PORT]        hidden primary: its serial is the reference (default: the newest
                             serial seen among the nameservers); an address, as in the config
  --nameserver NAME_OR_IP    probe this nameserver instead of discovering the NS set
                             (repeatable; IP[:PORT] or a host name resolved via --resolver)
  --timeout DURATION         per-try timeout, 1ms..1m, e.g. 500ms, 2s (default 2s)
  --resolver-timeout DURATION
                             per-try timeout of a resolver lookup, 1ms..1m (default: --timeout,
                             at least 2s: a resolver waits on a zone's dead servers itself)
  --retries N                tries after the first on timeout, 0..10 (default 2)
  --edns-bufsize N           EDNS UDP payload size to advertise, 0 or 512..4096; 0 sends plain
                             RFC 1035 queries (default 1232)
  --dnssec auto|true|false   DO and the RRSIG(SOA) each address serves (default auto: DO set,
                             signatures held to each other where the zone is signed; true: the
                             zone must be signed; false: no DO); true needs EDNS
  -4                         probe IPv4 addresses only
  -6                         probe IPv6 addresses only
  --anycast-samples N        ask an address that answers an NSID N more times, 0..8, each from
                             its own source port, to see the instances behind an anycast
                             address and which one lags (default 0)
  --transfer-check           also ask every address and the primary for an AXFR without TSIG
                             (it must be refused: an open one makes the zone WARNING); with
                             --config.file, the file's transfer_check decides instead
  --vantage NAME             where the check runs from: "vantage" in the --json output (wins
                             over the file's global.vantage; letters, digits, '_', '.', '-')
  --no-delegation-check      do not compare the parent's NS set and glue with the zone's own
                             (checked by default: a mismatch makes the zone WARNING); with
                             --config.file, off for every zone whatever the file says
  --json                     print the result as one JSON document
  --summary                  print the first line and the zones that are not OK, no table
  --loops N|auto             event loops (threads) the zones are sharded across, 1..64, or
                             auto: one per usable CPU, at most 8 (default: global.loops of
                             --config.file, else auto; never more than the zones)
  --stats                    print one line about the round on stderr: zones, probes, seconds,
                             probes per second, CPU seconds, peak memory
  -h, --help                 show this help
)";

ParsedCheckOptions parse_check_options(const std::vector<std::string>& args) {
    ParsedCheckOptions out;
    CheckOptions& o = out.options;
    bool only4 = false, only6 = false;
    bool probe_options = false;  // any option that --config.file replaces
    const auto set = [&probe_options](auto apply) {
        return [&probe_options, apply](const std::string& value) {
            probe_options = true;
            return apply(value);
        };
    };
    const auto on = [](bool& flag) {
        return [&flag](const std::string&) {
            flag = true;
            return std::string();
        };
    };
    const std::vector<Flag> flags = {
        {"help", 'h', false, on(o.help)},
        {"config.file", 0, true,
         [&o](const std::string& v) {
             o.config_file = v;
             return std::string();
         }},
        {"resolver", 0, true, set([&o](const std::string& v) {
             std::string error;
             const auto endpoint = parse_endpoint(v, 53, &error);
             if (endpoint) o.global.resolvers.push_back(*endpoint);
             return error;
         })},
        {"port", 0, true, set([&o](const std::string& v) {
             const IntegerSetting port = parse_integer_setting(v, kPortRange);
             o.global.probe.port = static_cast<uint16_t>(port.value);
             return port.error;
         })},
        {"primary", 0, true, set([&o](const std::string& v) {
             // Like zones[].primary in the config: an address. Checked here with the default
             // port; the zone's --port applies when none is given.
             std::string error;
             if (!parse_endpoint(v, 53, &error))
                 return error + " (a hidden primary is an address, IP[:PORT], as in the config)";
             o.primary_text = v;
             return std::string();
         })},
        {"nameserver", 0, true, set([&o](const std::string& v) {
             std::string error;
             if (!parse_endpoint(v, 53, &error) && !dns::validate_name(v).empty())
                 return quoted(v) + " is neither an IP[:PORT] nor a host name";
             o.nameservers.push_back(v);
             return std::string();
         })},
        {"timeout", 0, true, set([&o](const std::string& v) {
             const DurationSetting timeout = parse_duration_setting(v, kTimeoutRange);
             o.global.probe.timeout = timeout.value;
             return timeout.error;
         })},
        {"resolver-timeout", 0, true, set([&o](const std::string& v) {
             const DurationSetting timeout = parse_duration_setting(v, kTimeoutRange);
             o.global.resolver_timeout = timeout.value;
             return timeout.error;
         })},
        {"retries", 0, true, set([&o](const std::string& v) {
             const IntegerSetting retries = parse_integer_setting(v, kRetriesRange);
             o.global.probe.retries = static_cast<unsigned>(retries.value);
             return retries.error;
         })},
        {"edns-bufsize", 0, true, set([&o](const std::string& v) {
             const IntegerSetting size = parse_integer_setting(v, kEdnsUdpSizeRange);
             o.global.probe.edns_udp_size = static_cast<uint16_t>(size.value);
             return size.error;
         })},
        {"dnssec", 0, true, set([&o](const std::string& v) -> std::string {
             const auto mode = parse_dnssec_mode(v);
             if (!mode) return dnssec_mode_allowed();
             o.global.probe.dnssec = *mode;
             return "";
         })},
        {"anycast-samples", 0, true, set([&o](const std::string& v) {
             const IntegerSetting samples = parse_integer_setting(v, kAnycastSamplesRange);
             o.global.anycast_samples = static_cast<unsigned>(samples.value);
             return samples.error;
         })},
        {"", '4', false, set(on(only4))},
        {"", '6', false, set(on(only6))},
        {"transfer-check", 0, false, set([&o](const std::string&) {
             o.global.transfer_check = std::make_shared<const TransferCheckConfig>();
             return std::string();
         })},
        {"vantage", 0, true,
         [&o](const std::string& v) {
             o.vantage = v;
             return vantage_error(v);
         }},
        {"no-delegation-check", 0, false, on(o.no_delegation_check)},
        {"json", 0, false, on(o.json)},
        {"summary", 0, false, on(o.summary)},
        {"stats", 0, false, on(o.stats)},
        {"loops", 0, true,
         [&o](const std::string& v) {
             const IntegerSetting loops = parse_integer_setting(v, kLoopsRange);
             o.loops = static_cast<unsigned>(loops.value);
             return loops.error;
         }},
    };
    const ParsedFlags parsed = parse_flags(args, flags);
    if (!parsed.error.empty()) {
        out.error = parsed.error;
        return out;
    }
    if (o.help) return out;
    for (const auto& arg : parsed.operands) {
        const std::string reason = dns::validate_name(arg);
        if (!reason.empty()) {
            out.error = "invalid zone name " + quoted(arg) + ": " + reason;
            return out;
        }
        o.zones.push_back(dns::canonical_name(arg));
    }
    if (o.json && o.summary) {
        out.error = "--json and --summary exclude each other";
    } else if (o.config_file) {
        if (!o.zones.empty() || probe_options)
            out.error =
                "--config.file: zones and probe settings come from the file; give no ZONE "
                "arguments and no probe options with it";
    } else if (only4 && only6) {
        out.error = "-4 and -6 exclude each other";
    } else if (const std::string problem =
                   dnssec_mode_problem(o.global.probe.dnssec, o.global.probe.edns_udp_size);
               !problem.empty()) {
        out.error = "--dnssec: " + problem;
    } else if (o.zones.empty()) {
        out.error = "no zone given";
    }
    if (o.no_delegation_check) o.global.delegation_check = nullptr;
    if (only4) o.global.probe.ipv6 = false;
    if (only6) o.global.probe.ipv4 = false;
    return out;
}

}  // namespace soawatch
