// The status store: what a snapshot holds, published by name or through a zone's slot.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/status_store.hpp"

using namespace soawatch;

namespace {

ZoneStatusPtr status_of(const std::string& zone, uint32_t serial) {
    auto status = std::make_shared<ZoneStatus>();
    status->zone = zone;
    status->reference_serial = serial;
    return status;
}

}  // namespace

TEST_CASE("status store: a slot publishes its zone; nothing shows before the first status",
          "[store]") {
    StatusStore store;
    const std::vector<std::string_view> both{"a.test.", "b.test."};
    const auto slots = store.keep_only(both);
    REQUIRE(slots.size() == 2);
    const auto a = slots[0];
    const auto b = slots[1];
    REQUIRE(a);
    REQUIRE(b);
    store.publish(b, status_of("b.test.", 1));
    CHECK(store.zone("a.test.") == nullptr);
    REQUIRE(store.snapshot()->zones.size() == 1);
    CHECK(store.snapshot()->zones[0]->zone == "b.test.");

    store.publish(a, status_of("a.test.", 7));
    store.publish(b, status_of("b.test.", 2));
    const auto snap = store.snapshot();
    REQUIRE(snap->zones.size() == 2);  // sorted by name
    CHECK(snap->zones[0]->zone == "a.test.");
    CHECK(snap->zones[0]->reference_serial == 7u);
    CHECK(snap->zones[1]->reference_serial == 2u);
    CHECK(store.zone("b.test.")->reference_serial == 2u);

    // A zone that stays (a reload) keeps its entry: the slot taken before still publishes it,
    // and keep_only hands out that same entry.
    const std::vector<std::string_view> kept{"a.test."};
    const auto again = store.keep_only(kept);
    REQUIRE(again.size() == 1);
    CHECK(store.zone("a.test.")->reference_serial == 7u);
    store.publish(a, status_of("a.test.", 8));
    REQUIRE(store.snapshot()->zones.size() == 1);
    CHECK(store.zone("a.test.")->reference_serial == 8u);
    store.publish(again[0], status_of("a.test.", 9));
    CHECK(store.zone("a.test.")->reference_serial == 9u);
    CHECK(store.zone("b.test.") == nullptr);
}

TEST_CASE("status store: keep_only keeps exactly the zones given, their slots in order",
          "[store]") {
    StatusStore store;
    const std::vector<std::string_view> before{"b.test.", "d.test.", "f.test.", "h.test."};
    const auto first = store.keep_only(before);
    for (std::size_t i = 0; i < before.size(); ++i)
        store.publish(first[i], status_of(std::string(before[i]), 1));
    // Removed before, between and after the zones that stay; added at the front, between and at
    // the end.
    const std::vector<std::string_view> zones{"a.test.", "d.test.", "e.test.", "h.test.",
                                              "z.test."};
    const auto slots = store.keep_only(zones);
    REQUIRE(slots.size() == zones.size());
    for (const auto& slot : slots) CHECK(slot);
    // Zones that stay keep their status; new ones have none until published.
    CHECK(store.zone("d.test.")->reference_serial == 1u);
    CHECK(store.zone("h.test.")->reference_serial == 1u);
    CHECK(store.zone("a.test.") == nullptr);
    for (const char* gone : {"b.test.", "f.test."}) CHECK(store.zone(gone) == nullptr);
    REQUIRE(store.snapshot()->zones.size() == 2);
    // Each slot is its own zone's entry.
    for (std::size_t i = 0; i < zones.size(); ++i)
        store.publish(slots[i], status_of(std::string(zones[i]), static_cast<uint32_t>(10 + i)));
    const auto snap = store.snapshot();
    REQUIRE(snap->zones.size() == zones.size());
    for (std::size_t i = 0; i < zones.size(); ++i) {
        CHECK(snap->zones[i]->zone == zones[i]);
        CHECK(snap->zones[i]->reference_serial == 10 + i);
    }
    // Nothing: every zone goes.
    CHECK(store.keep_only({}).empty());
    CHECK(store.snapshot()->zones.empty());
}
