// Sharding: the shards partition any zone list exactly, a zone's shard depends only on its name
// and the shard count, and growing the count moves few zones.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/config/shard.hpp"

using soawatch::Config;
using soawatch::keep_shard_zones;
using soawatch::parse_shard;
using soawatch::Shard;
using soawatch::shard_of_zone;
using soawatch::ZoneConfig;

namespace {

std::vector<std::string> zone_names(int n, const std::string& suffix = "example.") {
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) names.push_back("zone" + std::to_string(i) + "." + suffix);
    return names;
}

Config config_with(const std::vector<std::string>& names) {
    Config config;
    for (const auto& name : names) {
        ZoneConfig zone;
        zone.name = name;
        config.zones.push_back(zone);
    }
    return config;
}

std::vector<std::string> shard_names(const std::vector<std::string>& names, Shard shard) {
    Config config = config_with(names);
    keep_shard_zones(config, shard);
    std::vector<std::string> kept;
    for (const auto& zone : config.zones) kept.push_back(zone.name);
    return kept;
}

}  // namespace

TEST_CASE("shard: INDEX/COUNT spellings", "[shard]") {
    std::string error;
    CHECK(parse_shard("0/1", &error) == Shard{0, 1});
    CHECK(parse_shard("2/3", &error) == Shard{2, 3});
    CHECK(parse_shard("9999/10000", &error) == Shard{9999, 10000});
    CHECK(parse_shard("2/3", &error)->to_string() == "2/3");

    struct Case {
        const char* text;
        const char* error;
    };
    const std::vector<Case> bad{
        {"", "\"\" is not INDEX/COUNT (for example 0/3)"},
        {"3", "\"3\" is not INDEX/COUNT (for example 0/3)"},
        {"/3", "INDEX \"\" is not a number"},
        {"-1/3", "INDEX \"-1\" is not a number"},
        {"+1/3", "INDEX \"+1\" is not a number"},
        {" 1/3", "INDEX \" 1\" is not a number"},
        {"$(SHARD_INDEX)/3", "INDEX \"$(SHARD_INDEX)\" is not a number"},
        {"auto/3", "INDEX \"auto\" is not a number"},
        {"1/", "COUNT \"\" is not a number"},
        {"1/3/4", "COUNT \"3/4\" is not a number"},
        {"1/0x3", "COUNT \"0x3\" is not a number"},
        {"0/0", "COUNT must be 1..10000, not 0"},
        {"0/10001", "COUNT must be 1..10000, not 10001"},
        {"0/99999999999", "COUNT \"99999999999\" is not a number"},
        {"3/3", "INDEX must be 0..2 (COUNT is 3), not 3"},
        {"7/1", "INDEX must be 0..0 (COUNT is 1), not 7"},
    };
    for (const Case& c : bad) {
        INFO(c.text);
        error.clear();
        CHECK_FALSE(parse_shard(c.text, &error).has_value());
        CHECK(error == c.error);
    }
}

TEST_CASE("shard: the shards partition the zones exactly", "[shard]") {
    const auto names = zone_names(5000);
    for (unsigned count : {1u, 2u, 3u, 7u, 16u}) {
        INFO("count " << count);
        std::map<std::string, int> seen;
        std::vector<std::size_t> sizes;
        for (unsigned index = 0; index < count; ++index) {
            const auto kept = shard_names(names, Shard{index, count});
            sizes.push_back(kept.size());
            for (const auto& name : kept) {
                ++seen[name];
                CHECK(shard_of_zone(name, count) == index);
            }
        }
        REQUIRE(seen.size() == names.size());                      // every zone in some shard...
        for (const auto& [name, times] : seen) CHECK(times == 1);  // ...and in one only
        // Balanced within 15% of the mean (jump hash is uniform; 5000 zones keep noise low).
        const double mean = static_cast<double>(names.size()) / count;
        for (std::size_t size : sizes) {
            CHECK(static_cast<double>(size) > mean * 0.85);
            CHECK(static_cast<double>(size) < mean * 1.15);
        }
    }
}

TEST_CASE("shard: adding zones moves no other zone; order is kept", "[shard]") {
    const auto before = zone_names(1000);
    auto after = before;
    for (const auto& name : zone_names(300, "other.")) after.insert(after.begin(), name);
    for (unsigned index = 0; index < 4; ++index) {
        const auto old_shard = shard_names(before, Shard{index, 4});
        std::vector<std::string> new_shard_old_zones;
        std::set<std::string> before_set(before.begin(), before.end());
        for (const auto& name : shard_names(after, Shard{index, 4}))
            if (before_set.count(name)) new_shard_old_zones.push_back(name);
        CHECK(new_shard_old_zones == old_shard);  // same zones, same (config) order
    }
}

TEST_CASE("shard: one more shard moves about 1/COUNT of the zones, all to the new one", "[shard]") {
    const auto names = zone_names(6000);
    for (unsigned count : {1u, 2u, 5u, 11u}) {
        INFO("count " << count << " -> " << count + 1);
        std::size_t moved = 0;
        for (const auto& name : names) {
            const unsigned from = shard_of_zone(name, count);
            const unsigned to = shard_of_zone(name, count + 1);
            if (from != to) {
                ++moved;
                CHECK(to == count);
            }
        }
        const double expected = static_cast<double>(names.size()) / (count + 1);
        CHECK(static_cast<double>(moved) > expected * 0.85);
        CHECK(static_cast<double>(moved) < expected * 1.15);
    }
}

TEST_CASE("shard: assignment is fixed across versions and platforms", "[shard]") {
    // Running shards must agree on where a zone lives: these values must never change.
    CHECK(shard_of_zone("example.com.", 1) == 0);
    CHECK(shard_of_zone("example.com.", 3) == 1);
    CHECK(shard_of_zone("example.net.", 3) == 0);
    CHECK(shard_of_zone("example.test.", 10) == 5);
    CHECK(shard_of_zone("gen0001.test.", 1000) == 503);
}
