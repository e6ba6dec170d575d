// The per-client token bucket: burst, refill, Retry-After, clients apart, IPv6 by /64, and the
// bounded table.
#include <catch2/catch.hpp>

#include <string>

#include "exporters/http/rate_limiter.hpp"

using namespace std::chrono_literals;
using soawatch::rate_limit_key;
using soawatch::RateLimit;
using soawatch::RateLimiter;

TEST_CASE("rate limit: a burst, then one request per interval", "[rate_limit]") {
    RateLimiter limiter(RateLimit{soawatch::Duration{2000}, 3});
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.acquire("192.0.2.1", t0));
    auto wait = limiter.acquire("192.0.2.1", t0);
    REQUIRE(wait);
    CHECK(*wait == 2s);
    // Half an interval later a token is half full: one more second to wait.
    wait = limiter.acquire("192.0.2.1", t0 + 1s);
    REQUIRE(wait);
    CHECK(*wait == 1s);
    CHECK_FALSE(limiter.acquire("192.0.2.1", t0 + 2s));
    CHECK(limiter.acquire("192.0.2.1", t0 + 2s));
    // Another client has its own bucket.
    CHECK_FALSE(limiter.acquire("192.0.2.2", t0 + 2s));
    // Idle long enough, the bucket is full again, never fuller than the burst.
    for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.acquire("192.0.2.1", t0 + 1h));
    CHECK(limiter.acquire("192.0.2.1", t0 + 1h));
}

TEST_CASE("rate limit: Retry-After is whole seconds, at least one", "[rate_limit]") {
    RateLimiter limiter(RateLimit{soawatch::Duration{100}, 1});
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    CHECK_FALSE(limiter.acquire("192.0.2.1", t0));
    const auto wait = limiter.acquire("192.0.2.1", t0);
    REQUIRE(wait);
    CHECK(*wait == 1s);
}

TEST_CASE("rate limit: interval 0 turns it off", "[rate_limit]") {
    RateLimiter limiter(RateLimit{soawatch::Duration{0}, 1});
    CHECK(limiter.disabled());
    for (int i = 0; i < 100; ++i) CHECK_FALSE(limiter.acquire("192.0.2.1"));
    CHECK(limiter.clients() == 0);
}

TEST_CASE("rate limit: IPv6 clients by /64, IPv4-mapped as IPv4", "[rate_limit]") {
    CHECK(rate_limit_key("192.0.2.1") == "192.0.2.1");
    CHECK(rate_limit_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
    CHECK(rate_limit_key("2001:db8:1:2::9") == "2001:db8:1:2::/64");
    CHECK(rate_limit_key("::ffff:192.0.2.1") == "192.0.2.1");
    CHECK(rate_limit_key("not an address") == "not an address");

    RateLimiter limiter(RateLimit{soawatch::Duration{60000}, 1});
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    CHECK_FALSE(limiter.acquire("2001:db8:1:2::1", t0));
    CHECK(limiter.acquire("2001:db8:1:2::ffff", t0));  // same /64
    CHECK_FALSE(limiter.acquire("2001:db8:1:3::1", t0));
}

TEST_CASE("rate limit: the client table is bounded", "[rate_limit]") {
    RateLimiter limiter(RateLimit{soawatch::Duration{1000}, 2}, 4);
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    for (int i = 0; i < 10; ++i) {
        CHECK_FALSE(limiter.acquire("192.0.2." + std::to_string(i), t0 + i * 1ms));
        CHECK(limiter.clients() <= 4);
    }
    // The most recent clients kept their (spent) tokens.
    CHECK_FALSE(limiter.acquire("192.0.2.9", t0 + 10ms));
    CHECK(limiter.acquire("192.0.2.9", t0 + 10ms));
    // After a refill, idle buckets are dropped first to make room.
    CHECK_FALSE(limiter.acquire("198.51.100.1", t0 + 1h));
    CHECK(limiter.clients() == 1);
}
