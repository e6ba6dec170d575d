// The transfer audit of one zone (transfer_check): an unsigned AXFR to the hidden primary and
// every nameserver address the zone's last check found, and, with a key, a TSIG-signed IXFR of
// the primary for its current serial. It runs beside the zone checks at its own, slower cadence
// (the Scheduler decides when) and never holds a check back. What it found becomes part of the
// zone's verdict and reasons through apply_transfer_findings.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "agent/config/config.hpp"
#include "agent/zone_status.hpp"
#include "probes/transfer_probe.hpp"

namespace soawatch {

class TransferAuditor {
  public:
    using Callback = std::function<void(std::shared_ptr<const TransferAudit>)>;

    explicit TransferAuditor(TransferProber& prober) : prober_(prober) {}

    // Loop thread. Audits the addresses of `status` (the zone's latest check) with `check`'s
    // settings; each request waits `timeout` at most. The callback runs once, on the loop
    // thread, when every request has finished (possibly before audit() returns).
    void audit(const ZoneStatus& status, const TransferCheckConfig& check,
               std::chrono::milliseconds timeout, Callback done);

  private:
    TransferProber& prober_;
};

// Sets the verdict and reasons of `status` from its evaluator's own (evaluated_verdict,
// the first evaluated_reasons reasons) and its transfer audit: an open AXFR or a keyed check of
// the primary that is not `ok` adds a reason each and makes an OK zone a WARNING.
void apply_transfer_findings(ZoneStatus& status);

}  // namespace soawatch
