// The fast re-probe schedule after a zone's reference serial moves (or a NOTIFY arrives): the
// first re-probe comes `initial` after the change, each later one waits twice as long as the
// one before, up to `interval`. Secondaries usually have a new serial within a fraction of a
// second of the NOTIFY (RFC 1996 section 3.11: they should query at once), so the short first
// waits time the common case closely, while a slow propagation costs few extra queries: the
// backoff adds at most fast_reprobe_backoff_checks() checks per new reference serial over a
// fixed `interval` schedule.
#pragma once

#include <cstddef>

#include "agent/config/config.hpp"

namespace soawatch {

// The wait before fast re-probe number `step` (0: the first after the change).
Duration fast_reprobe_delay(std::size_t step, Duration initial, Duration interval);

// The re-probes that wait less than `interval`: the bound on the checks the backoff adds to one
// propagation (ceil(log2(interval / initial)); 0 when initial == interval, the fixed schedule).
std::size_t fast_reprobe_backoff_checks(Duration initial, Duration interval);

}  // namespace soawatch
