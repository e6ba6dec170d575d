#include <catch2/catch.hpp>

#include "agent/serial.hpp"

using soawatch::compare_serials;
using soawatch::serial_steps;
using soawatch::SerialOrder;

TEST_CASE("RFC 1982: equal and plain ordering", "[serial]") {
    CHECK(compare_serials(5, 5) == SerialOrder::equal);
    CHECK(compare_serials(2026112401u, 2026112402u) == SerialOrder::less);
    CHECK(compare_serials(2026112402u, 2026112401u) == SerialOrder::greater);
}

TEST_CASE("RFC 1982: wrap-around at 2^32", "[serial]") {
    // 4294967295 + 1 wraps to 0: 0 is newer (RFC 1982 section 3.1).
    CHECK(compare_serials(4294967295u, 0u) == SerialOrder::less);
    CHECK(compare_serials(0u, 4294967295u) == SerialOrder::greater);
    CHECK(compare_serials(4294967290u, 10u) == SerialOrder::less);
    CHECK(serial_steps(4294967290u, 10u) == 16u);
}

TEST_CASE("RFC 1982: a difference of exactly 2^31 is undefined", "[serial]") {
    CHECK(compare_serials(0u, 0x80000000u) == SerialOrder::undefined);
    CHECK(compare_serials(0x80000000u, 0u) == SerialOrder::undefined);
    CHECK(compare_serials(1u, 0x80000001u) == SerialOrder::undefined);
    // One less than 2^31 apart is still ordered.
    CHECK(compare_serials(0u, 0x7fffffffu) == SerialOrder::less);
    CHECK(compare_serials(0u, 0x80000001u) == SerialOrder::greater);
}
