// Loading and validating the YAML configuration. Every check lives here and fails with exactly
// one ConfigError naming file:line and the key as a dotted path; docs/CONFIG.md lists the keys
// and tests/testdata/config/invalid-*.yml holds one input per error.
#include "agent/config/config.hpp"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "agent/config/alerting_schema.hpp"
#include "agent/config/vantage.hpp"
#include "agent/config/yaml_reader.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch {
namespace {

std::string format_error(const std::string& file, int line, const std::string& key,
                         const std::string& message) {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
    if (!key.empty()) out += key + ": ";
    out += message;
    return out;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, std::string message)
    : std::runtime_error(format_error(file, line, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      message_(std::move(message)) {}

ProbeSettings effective_probe_settings(const GlobalConfig& global, const ZoneConfig& zone) {
    ProbeSettings settings = global.probe;
    if (zone.timeout) settings.timeout = *zone.timeout;
    if (zone.retries) settings.retries = *zone.retries;
    if (zone.port) settings.port = *zone.port;
    if (zone.dnssec) settings.dnssec = *zone.dnssec;
    return settings;
}

Duration effective_interval(const GlobalConfig& global, const ZoneConfig& zone) {
    return zone.interval.value_or(global.interval);
}

TransferCheckPtr effective_transfer_check(const GlobalConfig& global, const ZoneConfig& zone) {
    return zone.transfer_check ? *zone.transfer_check : global.transfer_check;
}

DelegationCheckPtr effective_delegation_check(const GlobalConfig& global, const ZoneConfig& zone) {
    return zone.delegation_check ? *zone.delegation_check : global.delegation_check;
}

const AlertRuleSet& effective_alert_rules(const AlertingConfig& alerting, const ZoneConfig& zone) {
    return zone.alert_rules ? *zone.alert_rules : alerting.rules;
}

namespace {

using namespace std::chrono_literals;
using namespace yaml;

// ---- the schema: every key, its range, its default (defaults live in config.hpp) ----

constexpr std::array<std::string_view, 5> kTopKeys{"global", "alerting", "zones", "zones_files",
                                                   "zones_from_catalog"};
constexpr std::array<std::string_view, 6> kCatalogKeys{"catalog", "primary", "tsig",
                                                       "refresh", "timeout", "defaults"};
constexpr Duration kMinCatalogRefresh = 1s;
constexpr Duration kMaxCatalogRefresh = 24h;
constexpr Duration kMinCatalogTimeout = 1s;
constexpr Duration kMaxCatalogTimeout = 10min;
constexpr std::array<std::string_view, 23> kGlobalKeys{"interval",
                                                       "timeout",
                                                       "retries",
                                                       "port",
                                                       "edns_udp_size",
                                                       "ipv4",
                                                       "ipv6",
                                                       "resolvers",
                                                       "resolver_timeout",
                                                       "notify_listen",
                                                       "fast_reprobe_interval",
                                                       "fast_reprobe_initial_interval",
                                                       "fast_reprobe_limit",
                                                       "max_nameservers",
                                                       "max_addresses",
                                                       "min_usable_nameservers",
                                                       "min_usable_nameservers_severity",
                                                       "transfer_check",
                                                       "vantage",
                                                       "dnssec",
                                                       "anycast_samples",
                                                       "delegation_check",
                                                       "loops"};
constexpr std::array<std::string_view, 12> kZoneKeys{
    "name", "primary",  "nameservers",    "interval", "timeout",          "retries",
    "port", "alerting", "transfer_check", "dnssec",   "delegation_check", "parent_nameservers"};
constexpr std::array<std::string_view, 3> kTransferCheckKeys{"enabled", "interval", "tsig"};
constexpr std::array<std::string_view, 2> kDelegationCheckKeys{"enabled", "interval"};
// A parent's servers: a handful; more is a mistake, and each is asked once per check.
constexpr std::size_t kMaxParentNameservers = 16;
constexpr std::array<std::string_view, 4> kTsigKeys{"name", "algorithm", "secret_file",
                                                    "secret_env"};
// The interval of the slower audits beside the SOA probe: transfer_check and delegation_check.
constexpr Duration kMinAuditInterval = 1min;
constexpr Duration kMaxAuditInterval = 24h;
constexpr std::array<std::string_view, 1> kZonesFileKeys{"zones"};
constexpr std::array<std::string_view, 1> kZoneAlertingKeys{"rules"};

constexpr Duration kMinInterval = 1s;
// timeout, retries, port and edns_udp_size: setting_ranges.hpp (the command line takes them too).
constexpr Duration kMinFastReprobeInterval = 100ms;
// Below a few ms a re-probe would mostly see the secondary before its transfer even started.
constexpr Duration kMinFastReprobeInitialInterval = 10ms;
constexpr Duration kMaxFastReprobeLimit = 24h;
constexpr int64_t kMaxMaxNameservers = 1000;
constexpr int64_t kMaxMaxAddresses = 10000;
constexpr uint16_t kResolverPort = 53;
constexpr std::size_t kMaxFileBytes = 64u << 20;  // a zones file of 100k zones is ~5 MiB
// glob(3) with its result freed on every path.
class GlobResult {
  public:
    GlobResult() = default;
    GlobResult(const GlobResult&) = delete;
    GlobResult& operator=(const GlobResult&) = delete;
    ~GlobResult() {
        if (used_) globfree(&glob_);
    }
    glob_t* get() {
        used_ = true;
        return &glob_;
    }
    std::vector<std::string> paths() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; used_ && i < glob_.gl_pathc; ++i)
            out.emplace_back(glob_.gl_pathv[i]);
        return out;
    }

  private:
    glob_t glob_{};
    bool used_ = false;
};

// glob(3) reports unreadable folders through a plain function; this carries the first one out.
struct GlobFailure {
    std::string path;
    int error = 0;
};
thread_local GlobFailure glob_failure;

int on_glob_error(const char* path, int error) {
    // A folder that does not exist simply matches nothing.
    if (error == ENOENT || error == ENOTDIR) return 0;
    glob_failure = GlobFailure{path, error};
    return 1;  // stop: an unreadable folder would silently drop zones
}

// ---- the loader ----

struct Declaration {
    std::shared_ptr<const std::string> file;
    int line = 0;
};

class Loader {
  public:
    explicit Loader(Config& config) : config_(config) {}

    void main_file(const std::string& text, const std::string& file) {
        const Reader reader(file);
        folder_ = folder_of(file);
        const YAML::Node root = reader.parse(text);
        if (!root.IsNull() && !root.IsMap()) {
            reader.fail(
                line_of(root), "",
                "expected a mapping at the top level (global, alerting, zones, zones_files), got " +
                    describe(root));
        }
        auto entries = reader.mapping(Field{root, "", line_of(root)}, kTopKeys,
                                      [](std::string_view key) -> std::string {
                                          if (contains(kGlobalKeys, key)) {
                                              return "unknown key (it belongs under global)";
                                          }
                                          if (contains(kAlertingKeys, key)) {
                                              return "unknown key (it belongs under alerting)";
                                          }
                                          return "";
                                      });
        // Global first: zones take their default port from it, whatever the order in the file.
        if (const Field* f = find_field(entries, "global")) global(reader, *f);
        // Alerting before zones: a zone's rule overrides start from the global rules.
        if (const Field* f = find_field(entries, "alerting"))
            config_.alerting = read_alerting(reader, *f, folder_);
        if (const Field* f = find_field(entries, "zones")) zones(reader, *f);
        if (const Field* f = find_field(entries, "zones_from_catalog")) catalogs(reader, *f);
        if (const Field* f = find_field(entries, "zones_files")) {
            for (const Field& item : reader.list(*f)) {
                std::string pattern = reader.string(item, "a file pattern");
                if (pattern.empty()) reader.fail(item, "empty file pattern");
                config_.zones_files.push_back(pattern);
                patterns_.push_back(PatternAt{std::move(pattern), item});
            }
        }
    }

    // Loads every file the zones_files patterns match, relative to the main file's folder.
    void zones_files(const std::string& main_file) {
        const Reader reader(main_file);
        std::set<std::string> loaded;
        for (const PatternAt& pattern : patterns_) {
            const std::string resolved = resolve_pattern(folder_, pattern.pattern);
            GlobResult result;
            glob_failure = GlobFailure{};
            const int status = glob(resolved.c_str(), 0, on_glob_error, result.get());
            if (status == GLOB_NOMATCH) continue;
            if (status == GLOB_ABORTED) {
                reader.fail(pattern.field, "cannot read folder " + quoted(glob_failure.path) +
                                               ": " + errno_text(glob_failure.error));
            }
            if (status != 0) reader.fail(pattern.field, "cannot expand pattern: out of memory");
            for (const std::string& path : result.paths()) {
                if (!loaded.insert(path).second) continue;  // matched by an earlier pattern
                zones_file(read_file(path, kMaxFileBytes), path);
            }
        }
    }

  private:
    struct PatternAt {
        std::string pattern;
        Field field;
    };

    void zones_file(const std::string& text, const std::string& file) {
        const Reader reader(file);
        const YAML::Node root = reader.parse(text);
        if (!root.IsNull() && !root.IsMap()) {
            reader.fail(line_of(root), "",
                        "expected a mapping with zones at the top level, got " + describe(root));
        }
        auto entries = reader.mapping(Field{root, "", line_of(root)}, kZonesFileKeys,
                                      [](std::string_view key) -> std::string {
                                          if (contains(kTopKeys, key)) {
                                              return "not allowed in a zones file (it holds "
                                                     "only zones)";
                                          }
                                          return "";
                                      });
        if (const Field* f = find_field(entries, "zones")) zones(reader, *f);
    }

    void global(const Reader& reader, const Field& field) {
        GlobalConfig& g = config_.global;
        auto entries = reader.mapping(field, kGlobalKeys, no_hint);
        if (const Field* f = find_field(entries, "interval"))
            g.interval = reader.duration(*f, kMinInterval, {});
        if (const Field* f = find_field(entries, "timeout")) {
            g.probe.timeout = reader.duration(*f, kTimeoutRange);
        }
        if (const Field* f = find_field(entries, "retries")) {
            g.probe.retries = static_cast<unsigned>(reader.integer(*f, kRetriesRange));
        }
        if (const Field* f = find_field(entries, "port")) {
            g.probe.port = static_cast<uint16_t>(reader.integer(*f, kPortRange));
        }
        if (const Field* f = find_field(entries, "edns_udp_size")) {
            g.probe.edns_udp_size = static_cast<uint16_t>(reader.integer(*f, kEdnsUdpSizeRange));
        }
        if (const Field* f = find_field(entries, "ipv4")) g.probe.ipv4 = reader.boolean(*f);
        if (const Field* f = find_field(entries, "ipv6")) g.probe.ipv6 = reader.boolean(*f);
        if (!g.probe.ipv4 && !g.probe.ipv6) {
            // Both are true by default, so both were written: blame the later one.
            const Field* a = find_field(entries, "ipv4");
            const Field* b = find_field(entries, "ipv6");
            reader.fail(a->line > b->line ? *a : *b, "at least one of ipv4 and ipv6 must be true");
        }
        if (const Field* f = find_field(entries, "resolvers")) {
            for (const Field& item : reader.list(*f)) {
                g.resolvers.push_back(reader.endpoint(item, kResolverPort));
            }
        }
        if (const Field* f = find_field(entries, "resolver_timeout")) {
            g.resolver_timeout = reader.duration(*f, kTimeoutRange);
        }
        if (const Field* f = find_field(entries, "notify_listen")) {
            // Default port 0 stays 0 when none is written: a listener needs one.
            Endpoint endpoint = reader.endpoint(*f, 0, true);
            if (endpoint.port == 0) {
                reader.fail(*f, "a port is required (IP:PORT, or :PORT for every address)");
            }
            g.notify_listen = std::move(endpoint);
        }
        if (const Field* f = find_field(entries, "fast_reprobe_interval")) {
            g.fast_reprobe_interval =
                reader.duration(*f, kMinFastReprobeInterval, g.interval, "at most global.interval");
        }
        if (const Field* f = find_field(entries, "fast_reprobe_initial_interval")) {
            g.fast_reprobe_initial_interval =
                reader.duration(*f, kMinFastReprobeInitialInterval, g.fast_reprobe_interval,
                                "at most global.fast_reprobe_interval");
        } else {
            g.fast_reprobe_initial_interval =
                std::min(g.fast_reprobe_initial_interval, g.fast_reprobe_interval);
        }
        if (const Field* f = find_field(entries, "fast_reprobe_limit")) {
            g.fast_reprobe_limit = reader.duration(*f, Duration{0}, kMaxFastReprobeLimit);
        }
        if (const Field* f = find_field(entries, "max_nameservers")) {
            g.max_nameservers = static_cast<unsigned>(reader.integer(*f, 1, kMaxMaxNameservers));
        }
        if (const Field* f = find_field(entries, "loops")) {
            g.loops = static_cast<unsigned>(reader.integer(*f, kLoopsRange));
        }
        if (const Field* f = find_field(entries, "anycast_samples"))
            g.anycast_samples = static_cast<unsigned>(reader.integer(*f, kAnycastSamplesRange));
        if (const Field* f = find_field(entries, "max_addresses")) {
            g.max_addresses = static_cast<unsigned>(reader.integer(*f, 1, kMaxMaxAddresses));
        }
        if (const Field* f = find_field(entries, "min_usable_nameservers")) {
            g.min_usable_nameservers =
                static_cast<unsigned>(reader.integer(*f, 1, kMaxMaxNameservers));
        }
        if (const Field* f = find_field(entries, "min_usable_nameservers_severity")) {
            const std::string severity = reader.string(*f, "a severity");
            if (severity == "critical") {
                g.min_usable_nameservers_severity = RedundancySeverity::critical;
            } else if (severity == "warning") {
                g.min_usable_nameservers_severity = RedundancySeverity::warning;
            } else {
                reader.fail(*f, "unknown severity " + quoted(severity) + " (critical, warning)");
            }
        }
        if (const Field* f = find_field(entries, "transfer_check"))
            g.transfer_check = transfer_check(reader, *f);
        if (const Field* f = find_field(entries, "vantage")) {
            g.vantage = reader.string(*f, "a vantage name");
            if (const std::string error = vantage_error(g.vantage); !error.empty())
                reader.fail(*f, error);
        }
        if (const Field* f = find_field(entries, "dnssec"))
            g.probe.dnssec = dnssec_mode(reader, *f, g.probe.edns_udp_size);
        if (const Field* f = find_field(entries, "delegation_check"))
            g.delegation_check = delegation_check(reader, *f);
    }

    // dnssec: auto, true or false (agent/config/dnssec_mode.hpp); true needs EDNS.
    static DnssecMode dnssec_mode(const Reader& reader, const Field& field,
                                  unsigned edns_udp_size) {
        const auto mode = parse_dnssec_mode(reader.string(field, "auto, true or false"));
        if (!mode) reader.fail(field, dnssec_mode_allowed());
        if (const std::string problem = dnssec_mode_problem(*mode, edns_udp_size); !problem.empty())
            reader.fail(field, problem);
        return *mode;
    }

    // ---- delegation_check (global, or per zone replacing the global one) ----

    DelegationCheckPtr delegation_check(const Reader& reader, const Field& field) {
        auto entries = reader.mapping(field, kDelegationCheckKeys, no_hint);
        if (const Field* f = find_field(entries, "enabled"); f && !reader.boolean(*f))
            return nullptr;
        auto check = std::make_shared<DelegationCheckConfig>();
        if (const Field* f = find_field(entries, "interval")) {
            check->interval = reader.duration(*f, kMinAuditInterval, kMaxAuditInterval);
        }
        return check;
    }

    // ---- transfer_check (global, or per zone replacing the global one) ----

    TransferCheckPtr transfer_check(const Reader& reader, const Field& field) {
        auto entries = reader.mapping(field, kTransferCheckKeys, no_hint);
        if (const Field* f = find_field(entries, "enabled"); f && !reader.boolean(*f))
            return nullptr;
        auto check = std::make_shared<TransferCheckConfig>();
        if (const Field* f = find_field(entries, "interval")) {
            check->interval = reader.duration(*f, kMinAuditInterval, kMaxAuditInterval);
        }
        if (const Field* f = find_field(entries, "tsig")) check->tsig = tsig_key(reader, *f);
        return check;
    }

    tsig::Key tsig_key(const Reader& reader, const Field& field) {
        auto entries = reader.mapping(field, kTsigKeys, [](std::string_view key) -> std::string {
            if (key == "secret")
                return "write the secret in a file (secret_file) or the environment (secret_env)";
            return "";
        });
        tsig::Key key;
        const Field* name = find_field(entries, "name");
        if (name == nullptr) reader.fail(field, "missing required key name");
        const std::string text = reader.string(*name, "a key name");
        if (std::string reason = dns::validate_name(text); !reason.empty() || has_blank(text)) {
            reader.fail(*name,
                        "invalid key name " + quoted(text) + ": " +
                            (reason.empty() ? "contains a space or control character" : reason));
        }
        key.name = dns::canonical_name(text);
        if (const Field* f = find_field(entries, "algorithm")) {
            const auto algorithm = tsig::parse_algorithm(reader.string(*f, "an algorithm"));
            if (!algorithm) {
                reader.fail(*f, "unsupported algorithm " + quoted(f->node.Scalar()) +
                                    " (allowed hmac-sha256, hmac-sha512)");
            }
            key.algorithm = *algorithm;
        }
        const Field* file = find_field(entries, "secret_file");
        const Field* env = find_field(entries, "secret_env");
        if ((file == nullptr) == (env == nullptr)) {
            reader.fail(field, file == nullptr
                                   ? "missing the secret: one of secret_file, secret_env"
                                   : "give only one of secret_file, secret_env");
        }
        const Field& secret_field = file ? *file : *env;
        auto decoded = tsig::decode_base64(
            read_secret(reader, secret_field, file ? "_file" : "_env", folder_));
        if (!decoded) reader.fail(secret_field, "the secret is not base64");
        key.secret = std::move(*decoded);
        return key;
    }

    // ---- zones_from_catalog (RFC 9432 catalogs; docs/CATALOG.md) ----

    void catalogs(const Reader& reader, const Field& field) {
        std::map<std::string, int> seen;  // catalog -> line
        for (const Field& item : reader.list(field)) {
            auto entries = reader.mapping(item, kCatalogKeys, no_hint);
            CatalogConfig catalog;
            catalog.source_file = shared_file_name(reader);
            catalog.source_line = item.line;
            const Field* name = find_field(entries, "catalog");
            if (name == nullptr) reader.fail(item, "missing required key catalog");
            const std::string text = reader.string(*name, "a catalog zone name");
            if (std::string reason = dns::validate_name(text); !reason.empty() || has_blank(text))
                reader.fail(
                    *name, "invalid catalog zone name " + quoted(text) + ": " +
                               (reason.empty() ? "contains a space or control character" : reason));
            catalog.name = dns::canonical_name(text);
            if (const auto first = seen.find(catalog.name); first != seen.end()) {
                reader.fail(*name, "duplicate catalog " + catalog.name + " (first at line " +
                                       std::to_string(first->second) + ")");
            }
            seen.emplace(catalog.name, name->line);
            const Field* primary = find_field(entries, "primary");
            if (primary == nullptr) reader.fail(item, "missing required key primary");
            catalog.primary = reader.endpoint(*primary, 53);
            if (const Field* f = find_field(entries, "tsig")) catalog.tsig = tsig_key(reader, *f);
            if (const Field* f = find_field(entries, "refresh"))
                catalog.refresh = reader.duration(*f, kMinCatalogRefresh, kMaxCatalogRefresh);
            if (const Field* f = find_field(entries, "timeout"))
                catalog.timeout = reader.duration(*f, kMinCatalogTimeout, kMaxCatalogTimeout);
            if (const Field* f = find_field(entries, "defaults")) {
                if (!f->node.IsMap())
                    reader.fail(*f,
                                "expected a mapping of zone settings, got " + describe(f->node));
                catalog.defaults = zone(reader, *f, /*member_defaults=*/true);
            }
            catalog.defaults.source_file = catalog.source_file;
            catalog.defaults.source_line = catalog.source_line;
            config_.catalogs.push_back(std::move(catalog));
        }
    }

    void zones(const Reader& reader, const Field& field) {
        for (const Field& item : reader.list(field)) config_.zones.push_back(zone(reader, item));
    }

    // A zone's entry; with member_defaults, a catalog's defaults: the same keys but the name
    // (each member brings its own).
    ZoneConfig zone(const Reader& reader, const Field& item, bool member_defaults = false) {
        ZoneConfig zone;
        zone.source_file = shared_file_name(reader);
        if (item.node.IsScalar()) {  // "- example.com": just the name
            set_name(reader, item, zone);
            return zone;
        }
        if (!item.node.IsMap()) {
            reader.fail(item, "expected a zone name or a mapping, got " + describe(item.node));
        }
        auto entries = reader.mapping(item, kZoneKeys, [](std::string_view key) -> std::string {
            if (contains(kGlobalKeys, key)) {
                return "cannot be set per zone (only interval, timeout, retries, port, "
                       "transfer_check, dnssec, delegation_check and alerting can; set it "
                       "under global)";
            }
            return "";
        });
        const Field* name = find_field(entries, "name");
        if (member_defaults) {
            if (name != nullptr)
                reader.fail(*name, "a catalog's defaults take no name (each member has its own)");
        } else {
            if (name == nullptr) reader.fail(item, "missing required key name");
            set_name(reader, *name, zone);
        }

        // The port first: primary and nameservers addresses default to it.
        if (const Field* f = find_field(entries, "port"))
            zone.port = static_cast<uint16_t>(reader.integer(*f, kPortRange));
        const uint16_t port = zone.port.value_or(config_.global.probe.port);
        if (const Field* f = find_field(entries, "primary"))
            zone.primary = reader.endpoint(*f, port);
        if (const Field* f = find_field(entries, "nameservers")) {
            std::map<std::string, int> seen;  // entry -> line
            std::vector<std::string> nameservers;
            for (const Field& entry : reader.list(*f)) {
                std::string ns = nameserver(reader, entry, port);
                if (const auto first = seen.find(ns); first != seen.end()) {
                    reader.fail(entry, "duplicate nameserver " + ns + " (first at line " +
                                           std::to_string(first->second) + ")");
                }
                seen.emplace(ns, entry.line);
                nameservers.push_back(std::move(ns));
            }
            zone.nameservers = nameserver_lists_.intern(std::move(nameservers));
        }
        if (const Field* f = find_field(entries, "interval"))
            zone.interval = reader.duration(*f, kMinInterval, {});
        if (const Field* f = find_field(entries, "timeout")) {
            zone.timeout = reader.duration(*f, kTimeoutRange);
        }
        if (const Field* f = find_field(entries, "retries")) {
            zone.retries = static_cast<unsigned>(reader.integer(*f, kRetriesRange));
        }
        if (const Field* f = find_field(entries, "transfer_check"))
            zone.transfer_check = transfer_check(reader, *f);
        if (const Field* f = find_field(entries, "dnssec"))
            zone.dnssec = dnssec_mode(reader, *f, config_.global.probe.edns_udp_size);
        if (const Field* f = find_field(entries, "delegation_check"))
            zone.delegation_check = delegation_check(reader, *f);
        if (const Field* f = find_field(entries, "parent_nameservers")) {
            const auto list = reader.list(*f);
            if (list.size() > kMaxParentNameservers) {
                reader.fail(
                    *f, "at most " + std::to_string(kMaxParentNameservers) + " parent nameservers");
            }
            for (const Field& entry : list) {
                Endpoint endpoint = reader.endpoint(entry, port);
                if (std::find(zone.parent_nameservers.begin(), zone.parent_nameservers.end(),
                              endpoint) != zone.parent_nameservers.end())
                    reader.fail(entry, "duplicate parent nameserver " + endpoint.to_string());
                zone.parent_nameservers.push_back(std::move(endpoint));
            }
        }
        if (const Field* f = find_field(entries, "alerting")) {
            auto overrides =
                reader.mapping(*f, kZoneAlertingKeys, [](std::string_view key) -> std::string {
                    if (contains(kAlertingKeys, key))
                        return "cannot be set per zone (only rules can; set it under alerting)";
                    return "";
                });
            if (const Field* rules_field = find_field(overrides, "rules")) {
                AlertRuleSet rules = config_.alerting.rules;
                read_alert_rules(reader, *rules_field, rules);
                zone.alert_rules = std::make_shared<const AlertRuleSet>(std::move(rules));
            }
        }
        return zone;
    }

    void set_name(const Reader& reader, const Field& field, ZoneConfig& zone) {
        const std::string text = reader.string(field, "a zone name");
        std::string reason = dns::validate_name(text);
        if (reason.empty() && has_blank(text)) {
            reason = "contains a space or control character (write it as \\DDD if meant)";
        }
        if (reason.empty() && is_ip_address(text)) reason = "an IP address, not a domain name";
        if (!reason.empty())
            reader.fail(field, "invalid zone name " + quoted(text) + ": " + reason);

        zone.name = dns::canonical_name(text);
        zone.source_line = field.line;
        const auto [first, inserted] =
            declared_.emplace(zone.name, Declaration{zone.source_file, field.line});
        if (!inserted) {
            reader.fail(field, "duplicate zone " + zone.name + " (first declared at " +
                                   *first->second.file + ":" + std::to_string(first->second.line) +
                                   ")");
        }
    }

    // A nameservers entry: a host name (canonicalised) or IP[:PORT] (as "IP:PORT", the zone's
    // port when none is written), so consumers read it back with parse_endpoint.
    static std::string nameserver(const Reader& reader, const Field& field, uint16_t port) {
        const std::string text = reader.string(field, "a host name or IP[:PORT]");
        std::string error;
        if (auto endpoint = parse_endpoint(text, port, &error)) return endpoint->to_string();

        const std::size_t colon = text.find(':');
        const bool address_like = !text.empty() && (text.front() == '[' || colon != text.npos ||
                                                    last_label_numeric(text));
        if (!address_like) {
            std::string reason = dns::validate_name(text);
            if (reason.empty() && has_blank(text)) reason = "contains a space or control character";
            if (reason.empty()) return dns::canonical_name(text);
            reader.fail(field,
                        "neither a host name nor IP[:PORT]: " + quoted(text) + " (" + reason + ")");
        }
        // "ns1.example.com:53": a name with a port, which the zone's port replaces.
        if (text.front() != '[' && colon != text.npos && text.find(':', colon + 1) == text.npos) {
            const std::string host = text.substr(0, colon);
            if (!host.empty() && !last_label_numeric(host) && dns::validate_name(host).empty() &&
                !has_blank(host)) {
                reader.fail(field, "a host name takes no port: " + quoted(text) +
                                       " (set the zone's port instead)");
            }
        }
        reader.fail(field, error);
    }

    // "198.51.100.300": no top-level domain is numeric, so this was meant as an address.
    static bool last_label_numeric(std::string_view text) {
        while (!text.empty() && text.back() == '.') text.remove_suffix(1);
        const std::size_t dot = text.rfind('.');
        const std::string_view label = dot == text.npos ? text : text.substr(dot + 1);
        return !label.empty() && label.find_first_not_of("0123456789") == label.npos;
    }

    // The file's name, one string shared by every zone declared in it.
    std::shared_ptr<const std::string> shared_file_name(const Reader& reader) {
        if (!file_name_ || *file_name_ != reader.file())
            file_name_ = std::make_shared<const std::string>(reader.file());
        return file_name_;
    }

    Config& config_;
    // The main file's: relative secret files and zones_files patterns are read from there.
    std::string folder_;
    std::vector<PatternAt> patterns_;
    std::map<std::string, Declaration> declared_;   // canonical zone name -> first declaration
    std::shared_ptr<const std::string> file_name_;  // the last file's, shared by its zones
    StringListInterner nameserver_lists_;           // zones with the same nameservers share them
};

Config load_text(const std::string& text, const std::string& name, bool expand_zones_files) {
    Config config;
    config.path = name;
    Loader loader(config);
    loader.main_file(text, name);
    if (expand_zones_files) loader.zones_files(name);
    // The agent keeps its configuration: the vector's growth slack would be up to half of it.
    config.zones.shrink_to_fit();
    return config;
}

}  // namespace

Config load_config(const std::string& path) {
    return load_text(read_file(path, kMaxFileBytes), path, true);
}

Config parse_config(const std::string& text, const std::string& name, bool expand_zones_files) {
    return load_text(text, name, expand_zones_files);
}

}  // namespace soawatch
