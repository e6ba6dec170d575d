// Durations and endpoints as users write them in flags and config, and the socket addresses
// they become.
#include <catch2/catch.hpp>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/duration.hpp"
#include "agent/config/endpoint.hpp"
#include "probes/socket_address.hpp"

using namespace std::chrono_literals;
using soawatch::any_address;
using soawatch::Duration;
using soawatch::Endpoint;
using soawatch::format_duration;
using soawatch::parse_duration;
using soawatch::parse_endpoint;
using soawatch::socket_address;

namespace {

constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;

}  // namespace

TEST_CASE("duration: valid spellings", "[duration]") {
    struct Case {
        const char* text;
        Duration value;
    };
    const std::vector<Case> cases{
        {"0", 0ms},
        {"0s", 0ms},
        {"0ms", 0ms},
        {"1ms", 1ms},
        {"500ms", 500ms},
        {"1s", 1s},
        {"2s", 2s},
        {"90s", 90s},
        {"1m", 1min},
        {"1m30s", 90s},
        {"1h", 1h},
        {"1h30m", 90min},
        {"1d", Duration{kDayMs}},
        {"1w", Duration{7 * kDayMs}},
        {"1y", Duration{365 * kDayMs}},
        {"1y2w3d4h5m6s7ms", Duration{365 * kDayMs + 14 * kDayMs + 3 * kDayMs + 4 * 3600000LL +
                                     5 * 60000LL + 6000 + 7}},
        {"2h0m", 2h},
        {"007s", 7s},
        {"1s1ms", 1001ms},
        {"1m1ms", 60001ms},
        {"1000ms", 1s},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        const auto parsed = parse_duration(c.text);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == c.value);
    }
}

TEST_CASE("duration: invalid spellings", "[duration]") {
    const std::vector<const char*> cases{
        "",
        "5x",
        "s",
        "ms",
        "1",
        "10",
        "-1s",
        "+1s",
        "1.5s",
        " 1s",
        "1s ",
        "1 s",
        "1S",
        "1M",
        "1s1m",
        "1ms1s",
        "1s1s",
        "1m1m",
        "1h1d",
        "1mss",
        "1sm",
        "1h30",
        "1µs",
        "1us",
        "1ns",
        "0x10s",
        "1e3ms",
        "1h 30m",
        "00",
        "s1",
        "1d1w",
        "1y1y",
        "1m30s1",
        "h",
        "1msms",
        // Overflow of 64-bit milliseconds, in the number and in the sum.
        "9223372036854775808ms",
        "99999999999999999999s",
        "300000000y",
        "292471209y",
        "292471208y248d",
    };
    for (const char* text : cases) {
        INFO(text);
        CHECK_FALSE(parse_duration(text).has_value());
    }
}

TEST_CASE("duration: the largest value parses, one more does not", "[duration]") {
    const auto max = std::numeric_limits<Duration::rep>::max();
    CHECK(parse_duration(std::to_string(max) + "ms") == Duration{max});
    CHECK_FALSE(parse_duration(std::to_string(max / 1000 + 1) + "s").has_value());
    CHECK(parse_duration(format_duration(Duration{max})) == Duration{max});
}

TEST_CASE("duration: canonical spelling", "[duration]") {
    struct Case {
        Duration value;
        const char* text;
    };
    const std::vector<Case> cases{
        {0ms, "0s"},
        {1ms, "1ms"},
        {250ms, "250ms"},
        {1s, "1s"},
        {1500ms, "1s500ms"},
        {90s, "1m30s"},
        {1h, "1h"},
        {25h, "1d1h"},
        {Duration{kDayMs}, "1d"},
        {Duration{7 * kDayMs}, "1w"},
        {Duration{14 * kDayMs}, "2w"},
        // Years and weeks only when they divide evenly (as Prometheus writes them).
        {Duration{8 * kDayMs}, "8d"},
        {Duration{90 * kDayMs}, "90d"},
        {Duration{365 * kDayMs}, "1y"},
        {Duration{366 * kDayMs}, "366d"},
        {Duration{730 * kDayMs}, "2y"},
        {Duration{kDayMs + 1}, "1d1ms"},
        {-2s, "-2s"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK(format_duration(c.value) == c.text);
    }
}

TEST_CASE("duration: format and parse round trip", "[duration]") {
    const std::vector<int64_t> values{0,
                                      1,
                                      999,
                                      1000,
                                      1001,
                                      59999,
                                      60000,
                                      3599999,
                                      3600000,
                                      kDayMs - 1,
                                      kDayMs,
                                      7 * kDayMs,
                                      8 * kDayMs,
                                      365 * kDayMs,
                                      400 * kDayMs + 1234567,
                                      123456789012LL};
    for (const int64_t ms : values) {
        INFO(ms);
        CHECK(parse_duration(format_duration(Duration{ms})) == Duration{ms});
    }
    for (const char* text : {"1m30s", "250ms", "1d1h", "2w", "1y", "1h1ms"}) {
        INFO(text);
        CHECK(format_duration(*parse_duration(text)) == text);
    }
}

TEST_CASE("endpoint: valid addresses", "[endpoint]") {
    struct Case {
        const char* text;
        uint16_t default_port;
        bool allow_any;
        Endpoint expected;
        const char* printed;
    };
    const std::vector<Case> cases{
        {"127.0.0.1", 53, false, {"127.0.0.1", 53}, "127.0.0.1:53"},
        {"127.0.0.1:5300", 53, false, {"127.0.0.1", 5300}, "127.0.0.1:5300"},
        {"192.0.2.1:1", 53, false, {"192.0.2.1", 1}, "192.0.2.1:1"},
        {"192.0.2.1:65535", 53, false, {"192.0.2.1", 65535}, "192.0.2.1:65535"},
        {"192.0.2.1:053", 53, false, {"192.0.2.1", 53}, "192.0.2.1:53"},
        {"::1", 53, false, {"::1", 53}, "[::1]:53"},
        {"[::1]", 53, false, {"::1", 53}, "[::1]:53"},
        {"[::1]:53", 5300, false, {"::1", 53}, "[::1]:53"},
        {"[2001:DB8:0:0::1]:5300", 53, false, {"2001:db8::1", 5300}, "[2001:db8::1]:5300"},
        {"2001:db8:0:0:0:0:0:1", 53, false, {"2001:db8::1", 53}, "[2001:db8::1]:53"},
        {"::ffff:192.0.2.1", 53, false, {"::ffff:192.0.2.1", 53}, "[::ffff:192.0.2.1]:53"},
        {"::", 53, false, {"::", 53}, "[::]:53"},
        {"0.0.0.0:9353", 53, false, {"0.0.0.0", 9353}, "0.0.0.0:9353"},
        {":9353", 53, true, {"", 9353}, ":9353"},
        // Default port 0 stays 0 when none is written, so a caller can require one.
        {"127.0.0.1", 0, false, {"127.0.0.1", 0}, "127.0.0.1:0"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        std::string error;
        const auto parsed = parse_endpoint(c.text, c.default_port, &error, c.allow_any);
        REQUIRE(parsed.has_value());
        CHECK(error.empty());
        CHECK(*parsed == c.expected);
        CHECK(parsed->to_string() == c.printed);
        // What to_string prints parses back to the same endpoint (port 0 is never valid).
        if (parsed->port != 0) {
            CHECK(parse_endpoint(parsed->to_string(), 1, nullptr, c.allow_any) == parsed);
        }
    }
}

TEST_CASE("endpoint: invalid addresses name the reason", "[endpoint]") {
    struct Case {
        const char* text;
        bool allow_any;
        const char* error;
    };
    const std::vector<Case> cases{
        {"", false, "empty address"},
        {"host.example:53", false, "not an IP address: \"host.example\""},
        {"host.example", false, "not an IP address: \"host.example\""},
        {"localhost", false, "not an IP address: \"localhost\""},
        {"192.0.2.1:0", false, "port out of range: 0 (allowed 1..65535)"},
        {"192.0.2.1:65536", false, "port out of range: 65536 (allowed 1..65535)"},
        {"192.0.2.1:99999999999999999999", false,
         "port out of range: 99999999999999999999 (allowed 1..65535)"},
        {"192.0.2.1:", false, "missing port after \":\""},
        {"192.0.2.1:dns", false, "not a port: \"dns\""},
        {"192.0.2.1:-1", false, "not a port: \"-1\""},
        {"192.0.2.1: 53", false, "not a port: \" 53\""},
        {"192.0.2.256", false, "not an IP address: \"192.0.2.256\""},
        {"192.0.2", false, "not an IP address: \"192.0.2\""},
        {"192.0.2.1 ", false, "not an IP address: \"192.0.2.1 \""},
        {":9353", false, "missing address before \":9353\""},
        {":", true, "missing port after \":\""},
        {"[::1", false, "missing \"]\" in \"[::1\""},
        {"[::1]53", false, "expected \":PORT\" after \"]\" in \"[::1]53\""},
        {"[::1]:0", false, "port out of range: 0 (allowed 1..65535)"},
        {"[192.0.2.1]:53", false,
         "not an IPv6 address: \"192.0.2.1\" (brackets are for IPv6 only)"},
        {"[host.example]:53", false, "not an IPv6 address: \"host.example\""},
        {"[]:53", false, "not an IPv6 address: \"\""},
        {"2001:db8::1::2", false,
         "not an IP address: \"2001:db8::1::2\" (write an IPv6 address with a port as "
         "[ADDRESS]:PORT)"},
        {"fe80::1%eth0", false,
         "not an IP address: \"fe80::1%eth0\" (write an IPv6 address with a port as "
         "[ADDRESS]:PORT)"},
        {"a\nb", false, "not an IP address: \"a\\x0ab\""},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        std::string error;
        CHECK_FALSE(parse_endpoint(c.text, 53, &error, c.allow_any).has_value());
        CHECK(error == c.error);
        // A null error pointer is allowed.
        CHECK_FALSE(parse_endpoint(c.text, 53, nullptr, c.allow_any).has_value());
    }
}

TEST_CASE("endpoint: address literals", "[endpoint]") {
    using soawatch::is_ip_address;
    using soawatch::is_ipv6_address;
    CHECK(is_ip_address("192.0.2.1"));
    CHECK(is_ip_address("::1"));
    CHECK(is_ip_address("2001:db8::1"));
    CHECK_FALSE(is_ip_address(""));
    CHECK_FALSE(is_ip_address("192.0.2.1:53"));
    CHECK_FALSE(is_ip_address("[::1]"));
    CHECK_FALSE(is_ip_address("ns1.example.com"));
    CHECK_FALSE(is_ip_address("1.2.3"));
    CHECK_FALSE(is_ip_address(std::string("192.0.2.1\0x", 11)));
    CHECK_FALSE(is_ip_address(std::string(100, '1')));
    CHECK(is_ipv6_address("::"));
    CHECK(is_ipv6_address("::ffff:192.0.2.1"));
    CHECK_FALSE(is_ipv6_address("192.0.2.1"));
}

TEST_CASE("socket_address: IP literals of both families, nothing else", "[endpoint]") {
    const auto v4 = socket_address("192.0.2.1", 5300);
    REQUIRE(v4);
    CHECK(v4->family() == AF_INET);
    CHECK(v4->length == sizeof(sockaddr_in));
    CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(&v4->storage)->sin_port) == 5300);
    const auto v6 = socket_address("2001:db8::1", 53);
    REQUIRE(v6);
    CHECK(v6->family() == AF_INET6);
    CHECK(v6->length == sizeof(sockaddr_in6));
    CHECK(ntohs(reinterpret_cast<const sockaddr_in6*>(&v6->storage)->sin6_port) == 53);
    for (const char* bad : {"", "ns1.example.", "[::1]", "192.0.2.1:53", "256.0.0.1"})
        CHECK_FALSE(socket_address(bad, 53));
    CHECK(any_address(AF_INET6, 9).family() == AF_INET6);
    CHECK(any_address(AF_INET, 9).length == sizeof(sockaddr_in));
}
