#include "agent/config/shard.hpp"

#include <charconv>
#include <vector>

namespace soawatch {

namespace {

// A decimal number with no sign, no spaces and no trailing characters.
std::optional<unsigned> parse_unsigned(std::string_view text) {
    unsigned value = 0;
    if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

uint64_t fnv1a64(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// FNV-1a alone leaves names that differ in their last characters close together in the high
// bits jump hash reads first; the SplitMix64 finalizer spreads every input bit over the word.
uint64_t splitmix64_finalize(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Jump consistent hash (Lamping, Veach 2014), exactly as published: the bucket in [0, buckets).
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

std::string Shard::to_string() const {
    return std::to_string(index) + "/" + std::to_string(count);
}

std::optional<Shard> parse_shard(std::string_view text, std::string* error) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        *error = "\"" + std::string(text) + "\" is not INDEX/COUNT (for example 0/3)";
        return std::nullopt;
    }
    const auto index = parse_unsigned(text.substr(0, slash));
    const auto count = parse_unsigned(text.substr(slash + 1));
    if (!index) {
        *error = "INDEX \"" + std::string(text.substr(0, slash)) + "\" is not a number";
        return std::nullopt;
    }
    if (!count) {
        *error = "COUNT \"" + std::string(text.substr(slash + 1)) + "\" is not a number";
        return std::nullopt;
    }
    if (*count == 0 || *count > kMaxShardCount) {
        *error = "COUNT must be 1.." + std::to_string(kMaxShardCount) + ", not " +
                 std::to_string(*count);
        return std::nullopt;
    }
    if (*index >= *count) {
        *error = "INDEX must be 0.." + std::to_string(*count - 1) + " (COUNT is " +
                 std::to_string(*count) + "), not " + std::to_string(*index);
        return std::nullopt;
    }
    return Shard{*index, *count};
}

unsigned bucket_of_name(std::string_view canonical_name, unsigned count, uint64_t salt) {
    if (count <= 1) return 0;
    const uint64_t key = splitmix64_finalize(fnv1a64(canonical_name) ^ salt);
    return static_cast<unsigned>(jump_consistent_hash(key, static_cast<int32_t>(count)));
}

unsigned shard_of_zone(std::string_view canonical_name, unsigned count) {
    return bucket_of_name(canonical_name, count, 0);
}

void keep_shard_zones(Config& config, const Shard& shard) {
    std::erase_if(config.zones, [&](const ZoneConfig& zone) {
        return shard_of_zone(zone.name, shard.count) != shard.index;
    });
}

}  // namespace soawatch
