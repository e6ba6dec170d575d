// Anycast: several instances behind one nameserver address, told apart by their NSID (RFC 5001).
// Each round's probe of an address reaches one instance (the one routing picks for that source
// port); across rounds the evaluator remembers the serial each instance last answered, so an
// instance that lags behind the others at the same address is named even while the address as a
// whole looks in sync most of the time. Pure functions, no clock: time comes from the
// observations. docs/REPLICATION.md (anycast) explains the window and the bounds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/duration.hpp"
#include "agent/zone_status.hpp"

namespace soawatch {

// An instance is forgotten when it has not answered for this many intervals of its zone: long
// enough that probes from fresh source ports reach each of a few instances again (with two
// instances behind the address, one is missed three rounds in a row one time in eight), short
// enough that a withdrawn instance stops being reported soon.
inline constexpr unsigned kInstanceWindowIntervals = 3;
// At most this many instances per address are remembered (the one heard longest ago makes room
// for a new one): bounds the state and soawatch_instance_serial_behind's series per address,
// whatever identities a server (or a forger) sends.
inline constexpr std::size_t kMaxInstancesPerAddress = 8;

// The window of a zone checked every `interval`.
constexpr Duration instance_window(Duration interval) {
    return interval * kInstanceWindowIntervals;
}

// Tracks the instances behind one address: `row` is this round's status of the address (its
// state already evaluated), `previous` its row in the zone's last status (or null), `obs` this
// round's probe of it, `reference` the zone's reference serial, `now` the end of the round. The
// row keeps an instance table only while two or more NSIDs answered it with a usable SOA within
// `window`: an address with one identity (most: unicast) costs nothing.
void track_instances(const NameserverStatus* previous, const SoaObservation& obs,
                     std::optional<uint32_t> reference, Clock::time_point now, Duration window,
                     NameserverStatus& row);

// One sentence per lagging instance for the verdict (a warning each).
void instance_findings(const ZoneStatus& zone, std::vector<std::string>& warning);

// "instance "ns2-b" of ns2.example. (192.0.2.1)": how messages name an instance.
std::string describe_instance(const NameserverStatus& server, const InstanceStatus& instance);

}  // namespace soawatch
