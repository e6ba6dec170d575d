// Sharding: one agent watches one shard of the configured zones (`--shard=INDEX/COUNT`), so a
// zone list too large for one machine is split over several agents (a Kubernetes StatefulSet
// passes each replica's ordinal as INDEX). A zone's shard depends on its canonical name and
// COUNT only: adding or removing a zone moves no other zone, and going from COUNT to COUNT+1
// shards moves about 1/(COUNT+1) of the zones, all of them to the new shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config.hpp"

namespace soawatch {

struct Shard {
    unsigned index = 0;  // 0 <= index < count
    unsigned count = 1;
    bool operator==(const Shard&) const = default;
    std::string to_string() const;  // "INDEX/COUNT"
};

// The largest COUNT accepted: far more shards than zones makes no sense, and a typo like
// "1/20000" should be an error rather than an agent that watches nothing.
inline constexpr unsigned kMaxShardCount = 10000;

// Parses "INDEX/COUNT" (decimal, 0 <= INDEX < COUNT <= kMaxShardCount). Returns nullopt and
// sets *error to a one-line reason on failure.
std::optional<Shard> parse_shard(std::string_view text, std::string* error);

// The shard, in [0, count), of a zone given by its canonical name (lower case, trailing dot, as
// in ZoneConfig::name). Stable across platforms and versions: FNV-1a 64 of the name, mixed with
// the SplitMix64 finalizer, into Lamping and Veach's jump consistent hash
// (https://arxiv.org/abs/1406.2294). Changing it would move zones between running shards.
unsigned shard_of_zone(std::string_view canonical_name, unsigned count);

// The same hash with a salt XORed into the name's FNV-1a before the finalizer: another stable
// split of the zones, independent of the shards' (agent/loop_assignment.hpp). Salt 0 is
// shard_of_zone.
unsigned bucket_of_name(std::string_view canonical_name, unsigned count, uint64_t salt);

// Keeps only the zones of `shard` in config.zones (order preserved).
void keep_shard_zones(Config& config, const Shard& shard);

}  // namespace soawatch
