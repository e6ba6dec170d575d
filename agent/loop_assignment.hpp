// Which event loop owns a zone (global.loops): where one core is the limit, zones are sharded
// across one loop per core, each loop owning its zones' state (DESIGN.md, Scheduler). A zone's
// loop depends on its canonical name and the number of loops only, so a reload keeps every
// zone on its loop and the loop keeps the zone's state (serials, lag, fast re-probe, slot).
#pragma once

#include <string_view>
#include <vector>

#include "agent/config/config.hpp"

namespace soawatch {

// `auto` runs at most this many loops. Each loop's channels take 1/N of the 128 queries in flight
// per address, but never fewer than 16 (agent/loop_set.cpp): past 8 loops an address would see
// more than the 128 at once that Knot was measured to take without losing answers.
inline constexpr unsigned kMaxAutoLoops = 8;

// The loops to run for global.loops (or --loops): the number itself, or for kLoopsAuto one per
// CPU this process may use (affinity and cgroup quota, agent/common/usable_cpus.hpp) up to
// kMaxAutoLoops. `usable_cpus` is the count to use, a parameter so tests can give any.
unsigned loops_to_run(unsigned configured, unsigned usable_cpus);
unsigned loops_to_run(unsigned configured);

// The loop, in [0, loops), of a zone given by its canonical name. FNV-1a 64 of the name, salted
// so that it does not follow --shard's choice (shard_of_zone: with --shard=1/2 and 2 loops the
// unsalted hash would put every zone of the shard on one loop), the SplitMix64 finalizer, then
// jump consistent hash (https://arxiv.org/abs/1406.2294): going from N to N+1 loops moves
// about 1/(N+1) of the zones.
unsigned loop_of_zone(std::string_view canonical_name, unsigned loops);

// The zones of each loop: element i points at the zones of `config` that loop i watches, in the
// config's order; one element (every zone) when loops <= 1. Pointers into config.zones, valid
// while it is: copies of the zones cost 150 ms before any loop could start at 100,000 zones.
std::vector<std::vector<const ZoneConfig*>> zones_by_loop(const Config& config, unsigned loops);

}  // namespace soawatch
