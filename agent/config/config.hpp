// The agent's configuration (one YAML file plus optional zones_files), validated completely at
// load. A bad file throws ConfigError naming file:line and the key; nothing half-loaded escapes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/common/duration.hpp"
#include "agent/common/shared_list.hpp"
#include "agent/config/alert_config.hpp"
#include "agent/config/dnssec_mode.hpp"
#include "agent/config/endpoint.hpp"
#include "agent/config/setting_ranges.hpp"
#include "probes/tsig.hpp"

namespace soawatch {

class ConfigError : public std::runtime_error {
  public:
    // what() is "file:line: key: message" (line 1-based; ":line" left out when unknown).
    ConfigError(std::string file, int line, std::string key, std::string message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    const std::string& key() const { return key_; }
    const std::string& message() const { return message_; }

  private:
    std::string file_;
    int line_;
    std::string key_;
    std::string message_;
};

struct ProbeSettings {
    Duration timeout{2000};                     // per try
    unsigned retries = 2;                       // tries after the first
    uint16_t port = 53;                         // of the authoritative servers
    uint16_t edns_udp_size = 1232;              // 0 sends plain RFC 1035 queries
    bool ipv4 = true;                           // probe A addresses of NS names
    bool ipv6 = true;                           // probe AAAA addresses of NS names
    DnssecMode dnssec = DnssecMode::automatic;  // DO and RRSIG(SOA) (agent/config/dnssec_mode.hpp)
    bool operator==(const ProbeSettings&) const = default;
};

// How bad a zone is when fewer NS names than global.min_usable_nameservers answer usably.
enum class RedundancySeverity { warning, critical };
// transfer_check: the transfer audit (docs/CONFIG.md). Every nameserver address and the hidden
// primary are asked for an unsigned AXFR (it must be refused) once per interval; with a key, the
// primary is also asked for a TSIG-signed IXFR (it must be served). Shared: 100,000 zones that
// use the global one hold one copy.
struct TransferCheckConfig {
    Duration interval{3600000};     // 1m..24h
    std::optional<tsig::Key> tsig;  // the key the secondaries use; none: no keyed check
};
using TransferCheckPtr = std::shared_ptr<const TransferCheckConfig>;

// delegation_check: the delegation check (docs/CONFIG.md, agent/delegation_check.hpp). The
// parent's NS set and glue against the zone's own NS sets, at most once per interval. On by
// default; shared like transfer_check.
struct DelegationCheckConfig {
    Duration interval{600000};  // 1m..24h, default 10m
};
using DelegationCheckPtr = std::shared_ptr<const DelegationCheckConfig>;

struct GlobalConfig {
    Duration interval{60000};         // how often each zone is checked
    ProbeSettings probe;              // timeout, retries, port, edns_udp_size, ipv4, ipv6
    std::vector<Endpoint> resolvers;  // bootstrap recursive resolvers; empty: resolv.conf
    // Per try of a resolver lookup; unset: discovery_timeout()'s default.
    std::optional<Duration> resolver_timeout;
    std::optional<Endpoint> notify_listen;  // NOTIFY (RFC 1996) listener, off when absent
    Duration fast_reprobe_interval{1000};   // re-probe period after a reference change
    // The first fast re-probe waits this long, each later one twice as long, up to
    // fast_reprobe_interval (agent/fast_reprobe.hpp).
    Duration fast_reprobe_initial_interval{50};
    Duration fast_reprobe_limit{600000};  // give up fast re-probing after this long
    unsigned max_nameservers = 32;        // NS names followed per zone (caps hostile NS sets)
    unsigned max_addresses = 64;          // addresses probed per zone
    // Extra probes, each from its own source port, of an address whose answer carries an NSID
    // and that is not known to be anycast yet (agent/anycast.hpp); 0: none.
    unsigned anycast_samples = 0;
    // NS names with a usable address a zone needs (RFC 2182 section 5 asks for two); below it
    // the verdict is min_usable_nameservers_severity. None usable is always CRITICAL.
    unsigned min_usable_nameservers = 2;
    RedundancySeverity min_usable_nameservers_severity = RedundancySeverity::critical;
    TransferCheckPtr transfer_check;  // null: no transfer audit
    // The vantage point's name (agent/config/vantage.hpp); "": none. --vantage wins over it.
    std::string vantage;
    // null: no delegation check (delegation_check: { enabled: false }); on by default.
    DelegationCheckPtr delegation_check = std::make_shared<const DelegationCheckConfig>();
    // Event loops (threads) the zones are sharded across (agent/loop_assignment.hpp): N (1..64),
    // or kLoopsAuto (the default): one per usable CPU, at most kMaxAutoLoops.
    unsigned loops = kLoopsAuto;

    // A recursive resolver that meets a dead server of the zone waits out its own timeouts on
    // it before it answers (Unbound 1.17 on the lab: 0.8-3 s), so its lookups get at least
    // kMinResolverTimeout per try, however short the probes' `timeout` is.
    static constexpr Duration kMinResolverTimeout{2000};
    Duration discovery_timeout() const {
        return resolver_timeout.value_or(std::max(probe.timeout, kMinResolverTimeout));
    }
};

struct ZoneConfig {
    std::string name;                 // canonical: lower case, trailing dot
    std::optional<Endpoint> primary;  // hidden primary: the reference when set
    // Names or IP[:PORT]; empty means discover. Zones that list the same ones share the list.
    SharedStringList nameservers;
    std::optional<Duration> interval;  // per-zone overrides of global
    std::optional<Duration> timeout;
    std::optional<unsigned> retries;
    std::optional<uint16_t> port;
    std::optional<DnssecMode> dnssec;
    // zones[].alerting: the effective rules, resolved. Shared and out of line: a rule set is
    // ~600 bytes, which inline would be 60 MB in a config of 100,000 zones that have none.
    std::shared_ptr<const AlertRuleSet> alert_rules;
    // zones[].transfer_check: replaces the global one when set (null inside: off for the zone).
    std::optional<TransferCheckPtr> transfer_check;
    // zones[].delegation_check: replaces the global one when set (null inside: off for the zone).
    std::optional<DelegationCheckPtr> delegation_check;
    // zones[].parent_nameservers: the parent's servers to ask for the referral, instead of
    // discovering them (parents that discovery cannot reach, or that also serve the zone).
    std::vector<Endpoint> parent_nameservers;
    // Where this zone was declared, for messages: one string per file, shared by its zones.
    std::shared_ptr<const std::string> source_file;
    int source_line = 0;
};

// zones_from_catalog: a catalog zone (RFC 9432) whose member zones are watched with `defaults`
// (docs/CATALOG.md). Its member list is not part of the file: the agent transfers the catalog
// from `primary` and follows it (agent/catalog_watcher.*).
struct CatalogConfig {
    std::string name;               // canonical: lower case, trailing dot
    Endpoint primary;               // where the catalog is transferred from
    std::optional<tsig::Key> tsig;  // signs the SOA-checked transfers when set
    // How often the catalog's SOA is checked: its own SOA refresh when not set.
    std::optional<Duration> refresh;
    Duration timeout{30000};  // one whole transfer
    ZoneConfig defaults;      // every member's settings (no name): the keys of a zone
    std::shared_ptr<const std::string> source_file;
    int source_line = 0;
};

struct Config {
    GlobalConfig global;
    AlertingConfig alerting;
    std::vector<ZoneConfig> zones;         // every zone, from the main file and zones_files
    std::vector<std::string> zones_files;  // the patterns as written
    std::vector<CatalogConfig> catalogs;   // zones_from_catalog
    std::string path;                      // the main file
};

// Loads and validates the file at `path` and every file its zones_files patterns match
// (relative patterns are relative to the main file's folder). Throws ConfigError.
Config load_config(const std::string& path);

// Same, from text (for tests and /probe); `name` stands in for the file name in messages. With
// expand_zones_files false the zones_files patterns are checked but no file is read: the config
// fuzz target must never open what a fuzzed pattern names (a device, a FIFO).
Config parse_config(const std::string& text, const std::string& name,
                    bool expand_zones_files = true);

// The settings a zone is probed with: the global ones with the zone's overrides applied.
ProbeSettings effective_probe_settings(const GlobalConfig& global, const ZoneConfig& zone);
Duration effective_interval(const GlobalConfig& global, const ZoneConfig& zone);
// The zone's transfer_check, else the global one; null when the audit is off for the zone.
TransferCheckPtr effective_transfer_check(const GlobalConfig& global, const ZoneConfig& zone);
// The zone's delegation_check, else the global one; null when the check is off for the zone.
DelegationCheckPtr effective_delegation_check(const GlobalConfig& global, const ZoneConfig& zone);
const AlertRuleSet& effective_alert_rules(const AlertingConfig& alerting, const ZoneConfig& zone);

}  // namespace soawatch
