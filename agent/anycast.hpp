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
#include "agent/zone_check.hpp"
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

// An address known to have n instances is probed this many more times per round (each from its
// own source port, agent/zone_check.hpp): 2n, at most kMaxInstancesPerAddress. Routing picks an
// instance per port at random, so one given instance of two is missed by all 2n + 1 probes of a
// round 1 time in 32, and for a whole window of 3 rounds about 1 in 30,000; of four, 1 in 13
// per round and 1 in 2,000 per window. Addresses with one identity get no extra probe.
inline constexpr unsigned kInstanceSamplesPerInstance = 2;

// The addresses of `previous` (the zone's last status) that have instance tables, with their
// extra probes for the next round.
std::vector<InstanceSampling> instance_sampling(const ZoneStatus& previous);

// The window of a zone checked every `interval`.
constexpr Duration instance_window(Duration interval) {
    return interval * kInstanceWindowIntervals;
}

// Tracks the instances behind one address: `row` is this round's status of the address (its
// state already evaluated), `previous` its row in the zone's last status (or null), `heard` this
// round's probes of it (the ordinary one first, then the extra samples), `reference` the zone's
// reference serial, `now` the end of the round. The row keeps an instance table only while two
// or more NSIDs answered it with a usable SOA within `window`: an address with one identity
// (most: unicast) costs nothing.
void track_instances(const NameserverStatus* previous,
                     const std::vector<const SoaObservation*>& heard,
                     std::optional<uint32_t> reference, Clock::time_point now, Duration window,
                     NameserverStatus& row);

// One sentence per lagging instance for the verdict (a warning each).
void instance_findings(const ZoneStatus& zone, std::vector<std::string>& warning);

// "instance "ns2-b" of ns2.example. (192.0.2.1)": how messages name an instance.
std::string describe_instance(const NameserverStatus& server, const InstanceStatus& instance);

}  // namespace soawatch
