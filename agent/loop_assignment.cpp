#include "agent/loop_assignment.hpp"

#include <algorithm>
#include <cstdint>

#include "agent/common/usable_cpus.hpp"
#include "agent/config/shard.hpp"

namespace soawatch {

namespace {

// Salt of the loop hash: any constant other than --shard's (which has none) will do.
constexpr uint64_t kLoopSalt = 0x6c6f6f7073000000ULL;  // "loops"

}  // namespace

unsigned loops_to_run(unsigned configured, unsigned usable_cpus) {
    if (configured != kLoopsAuto) return configured;
    return std::clamp(usable_cpus, 1U, kMaxAutoLoops);
}

unsigned loops_to_run(unsigned configured) {
    // The CPUs are only looked up when they are asked for.
    return configured != kLoopsAuto ? configured : loops_to_run(configured, usable_cpus());
}

unsigned loop_of_zone(std::string_view canonical_name, unsigned loops) {
    return bucket_of_name(canonical_name, loops, kLoopSalt);
}

std::vector<std::vector<const ZoneConfig*>> zones_by_loop(const Config& config, unsigned loops) {
    loops = std::max(loops, 1U);
    std::vector<std::vector<const ZoneConfig*>> parts(loops);
    // The hash splits evenly: a share and an eighth is room for any part but a tiny one's.
    const std::size_t share = config.zones.size() / loops;
    for (auto& part : parts) part.reserve(share + share / 8 + 16);
    for (const auto& zone : config.zones)
        parts[loops == 1 ? 0 : loop_of_zone(zone.name, loops)].push_back(&zone);  // 1: no hash
    return parts;
}

}  // namespace soawatch
