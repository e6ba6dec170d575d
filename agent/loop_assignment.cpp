#include "agent/loop_assignment.hpp"

#include <algorithm>
#include <cstdint>

namespace soawatch {

namespace {

// Salt of the loop hash: any constant other than --shard's (which has none) will do.
constexpr uint64_t kLoopSalt = 0x6c6f6f7073000000ULL;  // "loops"

uint64_t fnv1a64(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

uint64_t splitmix64_finalize(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Jump consistent hash (Lamping, Veach 2014), as published: the bucket in [0, buckets).
int32_t jump_consistent_hash(uint64_t key, int32_t buckets) {
    int64_t b = -1;
    int64_t j = 0;
    while (j < buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = static_cast<int64_t>(
            static_cast<double>(b + 1) *
            (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
    }
    return static_cast<int32_t>(b);
}

}  // namespace

unsigned loop_of_zone(std::string_view canonical_name, unsigned loops) {
    if (loops <= 1) return 0;
    const uint64_t key = splitmix64_finalize(fnv1a64(canonical_name) ^ kLoopSalt);
    return static_cast<unsigned>(jump_consistent_hash(key, static_cast<int32_t>(loops)));
}

std::vector<Config> split_zones_by_loop(const Config& config, unsigned loops) {
    if (loops <= 1) return {config};
    std::vector<Config> parts(loops);
    for (auto& part : parts) {
        part.global = config.global;
        part.alerting = config.alerting;
        part.zones_files = config.zones_files;
        part.path = config.path;
    }
    for (const auto& zone : config.zones)
        parts[loop_of_zone(zone.name, loops)].zones.push_back(zone);
    return parts;
}

}  // namespace soawatch
