// The status store: what a snapshot holds, published by name or through a zone's slot.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

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
    store.publish(status_of("b.test.", 1));
    const auto a = store.slot("a.test.");
    const auto b = store.slot("b.test.");  // a zone already published keeps its status
    REQUIRE(a);
    REQUIRE(b);
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

    // A slot taken again for a zone that stays (a reload) is the same entry.
    store.retain({"a.test."});
    store.publish(store.slot("a.test."), status_of("a.test.", 8));
    REQUIRE(store.snapshot()->zones.size() == 1);
    CHECK(store.zone("a.test.")->reference_serial == 8u);
    CHECK(store.zone("b.test.") == nullptr);
}
