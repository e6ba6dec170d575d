// InlineCallback: the SOA probe's completion type. What it owns is moved and released exactly
// once, kept inline or (too large) on the heap.
#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>

#include "probes/inline_callback.hpp"

using namespace soawatch;

TEST_CASE("inline callback: calls, moves and releases what it holds", "[inline_callback]") {
    auto held = std::make_shared<int>(41);
    InlineCallback<int(int), 32> callback = [held](int add) { return *held + add; };
    CHECK(held.use_count() == 2);
    REQUIRE(callback);
    CHECK(callback(1) == 42);

    InlineCallback<int(int), 32> moved = std::move(callback);
    CHECK_FALSE(callback);  // NOLINT(bugprone-use-after-move): a moved-from callback is empty
    CHECK(held.use_count() == 2);
    CHECK(moved(2) == 43);

    moved = nullptr;
    CHECK_FALSE(moved);
    CHECK(held.use_count() == 1);
}

TEST_CASE("inline callback: a callable larger than the capacity lives on the heap",
          "[inline_callback]") {
    auto held = std::make_shared<std::string>("soa");
    std::array<char, 64> padding{};
    padding[0] = '!';
    InlineCallback<std::string(), 16> callback = [held, padding] { return *held + padding[0]; };
    CHECK(callback() == "soa!");
    InlineCallback<std::string(), 16> moved;
    moved = std::move(callback);
    CHECK(moved() == "soa!");
    CHECK(held.use_count() == 2);
    moved.reset();
    CHECK(held.use_count() == 1);
}

TEST_CASE("inline callback: arguments are forwarded, move-only ones too", "[inline_callback]") {
    std::unique_ptr<int> received;
    InlineCallback<void(std::unique_ptr<int>)> callback = [&](std::unique_ptr<int> value) {
        received = std::move(value);
    };
    callback(std::make_unique<int>(7));
    REQUIRE(received);
    CHECK(*received == 7);
}
