// One check of one zone: find its nameserver addresses (configured, or discovered), probe every
// address and the hidden primary concurrently, and hand back all observations at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config/config.hpp"
#include "probes/discovery.hpp"
#include "probes/observation.hpp"
#include "probes/soa_probe.hpp"

namespace soawatch {

struct ZoneCheckSpec {
    std::string zone;  // canonical
    std::optional<Endpoint> primary;
    // Configured nameservers, split once here rather than at every check: addresses are probed
    // as given, host names are resolved. Neither: the NS set is discovered.
    std::shared_ptr<const std::vector<ProbeTarget>> nameserver_addresses;  // null when none
    std::vector<std::string> nameserver_names;
    ProbeSettings probe;
    unsigned max_nameservers = 32;
    unsigned max_addresses = 64;
    // The zone's effective alert rules: their thresholds also decide the replication findings
    // of the verdict (agent/replication.hpp). Null: the defaults.
    std::shared_ptr<const AlertRuleSet> rules;
    TransferCheckPtr transfer_check;  // null: no transfer audit for this zone
    // How long an anycast instance is remembered after its last answer (agent/anycast.hpp):
    // kInstanceWindowIntervals of the zone's interval.
    Duration instance_window{180000};
    unsigned anycast_samples = 0;         // global.anycast_samples
    DelegationCheckPtr delegation_check;  // null: no delegation check for this zone
    // zones[].parent_nameservers as targets; null: the parent's servers are discovered.
    std::shared_ptr<const std::vector<ProbeTarget>> parent_nameservers;
    bool discovers() const { return !nameserver_addresses && nameserver_names.empty(); }
};

// Zones of one operator are mostly served by the same nameservers: specs made with one of these
// share each distinct list of configured addresses (100,000 zones on three addresses keep one
// list, not 100,000 copies), and each distinct `nameservers:` list is read once (parsing and
// normalising every address of every zone again was half the instructions of applying a
// configuration, and with it of the first round: docs/PERFORMANCE.md).
class NameserverLists {
  public:
    // A zone's `nameservers:` entries, read: its addresses (null when none) and its names.
    struct Split {
        std::shared_ptr<const std::vector<ProbeTarget>> addresses;
        std::vector<std::string> names;
    };
    const Split& split(const std::vector<std::string>& entries, uint16_t default_port);

  private:
    // The list equal to `list` made before, or `list` itself.
    std::shared_ptr<const std::vector<ProbeTarget>> intern(
        std::shared_ptr<const std::vector<ProbeTarget>> list);

    std::map<std::string, std::shared_ptr<const std::vector<ProbeTarget>>> lists_;
    std::unordered_map<std::string, Split> splits_;  // by the entries and the default port
    const Split* last_ = nullptr;                    // the last one asked for
    std::vector<std::string> last_entries_;
    uint16_t last_port_ = 0;
};

// Builds the spec of a configured zone (sharing address lists through `lists` when given).
ZoneCheckSpec make_check_spec(const GlobalConfig& global, const ZoneConfig& zone,
                              NameserverLists* lists = nullptr);

// An address known to have several instances behind it (agent/anycast.hpp): probed `samples`
// more times in the round, each from another source port, so that every instance is reached.
struct InstanceSampling {
    ProbeTarget target;
    unsigned samples = 0;
};

struct ZoneCheckResult {
    std::string zone;
    std::optional<SoaObservation> primary;     // when a primary is configured
    std::vector<SoaObservation> observations;  // one per nameserver address
    // The extra probes of addresses with several instances (InstanceSampling): they only tell
    // the evaluator which instance has which serial, never the address's state.
    std::vector<SoaObservation> instance_samples;
    std::vector<UnresolvedNameserver> unresolved;  // NS names with no address
    std::string discovery_error;
    bool discovery_from_cache = false;
    // Set when there were more NS names or addresses than the limits (the rest were skipped):
    // "2000 NS names, 32 followed (global.max_nameservers)"; empty when nothing was capped.
    std::string capped_detail;
    Instant started;
    Instant finished;
    std::optional<Instant> change_signal;       // a NOTIFY that triggered this check
    std::shared_ptr<const AlertRuleSet> rules;  // the spec's (null: the defaults)
    DnssecMode dnssec = DnssecMode::automatic;  // the spec's: what the signatures are held to
    Duration instance_window{180000};           // the spec's
};

class ZoneChecker {
  public:
    using Callback = std::function<void(ZoneCheckResult)>;
    ZoneChecker(Discovery& discovery, SoaProber& prober) : discovery_(discovery), prober_(prober) {}

    // Runs on the loop thread; the callback runs once when every probe has finished.
    // `sampling`: addresses to probe again from other source ports (anycast instances).
    void check(const ZoneCheckSpec& spec, Callback done,
               std::vector<InstanceSampling> sampling = {});
    // A result done with (evaluated): its observation buffer serves a later check. At three
    // addresses it is just over 1 KiB, past glibc's per-thread cache, so each check's new one
    // cost about 950 instructions to allocate and as much to free (docs/PERFORMANCE.md).
    void recycle(ZoneCheckResult&& result);
    // SOA probes and discovery lookups waiting behind their channels' in-flight caps (the
    // scheduler's back-pressure).
    std::size_t queries_queued() const { return prober_.queued() + discovery_.queued(); }

  private:
    struct Round;
    void sample_on_first_sight(const std::shared_ptr<Round>& round, std::size_t i);
    void probe_all(const std::shared_ptr<Round>& round, const std::vector<ProbeTarget>& targets);

    Discovery& discovery_;
    SoaProber& prober_;
    // probe_all's (name, address) pairs, one buffer for every check: a check's probes cannot
    // start another check's probe_all before its own loop ends (the round waits for it).
    std::vector<const ProbeTarget*> unique_targets_;
    // Emptied observation buffers of evaluated results, for the next checks' probe_all; a burst
    // of checks finishing at once keeps at most kSpareObservationBuffers.
    std::vector<std::vector<SoaObservation>> spare_observations_;
};

}  // namespace soawatch
