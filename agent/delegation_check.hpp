// The delegation check of one zone (delegation_check, on by default): the parent's view of the
// delegation against the zone's own. The parent zone's servers (discovered: the zone's name
// without its first label, up to the first ancestor with an NS set; or zones[].parent_nameservers)
// are asked "ZONE NS" with RD=0 for their referral (NS set, glue); each address of the zone's
// last check is asked the same for its own NS set; the zone's servers are asked the A/AAAA of
// its in-zone NS names, and the resolver the addresses of the others. It runs beside the zone
// checks at its own, slower cadence (the Scheduler decides when) and never holds a check back.
// A zone whose nameservers are all configured as addresses makes no resolver query here either:
// its parent is asked only through parent_nameservers, and its out-of-zone NS names are not
// resolved.
// agent/delegation_findings turns the answers into findings.
#pragma once

#include <functional>
#include <memory>

#include "agent/common/shared_list.hpp"
#include "agent/delegation_status.hpp"
#include "agent/zone_check.hpp"
#include "agent/zone_status.hpp"
#include "probes/delegation_probe.hpp"
#include "probes/discovery.hpp"

namespace soawatch {

class DelegationChecker {
  public:
    using Callback = std::function<void(std::shared_ptr<const DelegationAudit>)>;

    DelegationChecker(Discovery& discovery, DelegationProber& prober)
        : discovery_(discovery), prober_(prober) {}

    // Loop thread. Checks the zone of `status` (its latest check's addresses) with `spec`'s
    // settings. The callback runs once, on the loop thread, when every query has finished.
    void check(const ZoneStatus& status, const ZoneCheckSpec& spec, Callback done);

    // Parent servers asked per zone at most (a parent zone has a handful).
    static constexpr std::size_t kMaxParentAddresses = 8;
    // NS names followed per zone at most (for addresses and glue).
    static constexpr std::size_t kMaxNames = 32;

  private:
    struct Round;
    void ask_parent(const std::shared_ptr<Round>& round, const std::string& parent);
    void ask_parent_servers(const std::shared_ptr<Round>& round,
                            const std::vector<ProbeTarget>& servers);
    void ask_addresses(const std::shared_ptr<Round>& round);

    Discovery& discovery_;
    DelegationProber& prober_;
    WeakStringListPool names_;               // the NS sets of the audits that are kept
    WeakVectorPool<NsObservation> answers_;  // their lists of answers
    WeakValuePool<DelegationAudit> audits_;  // and the audits themselves
};

}  // namespace soawatch
