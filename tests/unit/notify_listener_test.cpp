// The NOTIFY listener on real loopback sockets: every local address on both families for
// ":PORT", and a clear error (not a lost listener) when the address is taken.
#include "agent/notify_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/unique_fd.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

// A NOTIFY (RFC 1996 3.7) for example.com: opcode 4, AA, one SOA question.
std::vector<uint8_t> notify_for_example_com() {
    std::vector<uint8_t> m = {0x12, 0x34, 0x24, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    const auto name = dns::encode_name("example.com.");
    m.insert(m.end(), name.begin(), name.end());
    m.insert(m.end(), {0, 6, 0, 1});
    return m;
}

// Sends a NOTIFY from a socket of `family` to address:port, runs the loop until the answer
// arrives (or 5 s pass: a bound, not a timing assertion) and returns the answer's rcode.
std::optional<unsigned> send_notify(EventLoop& loop, int family, const char* address,
                                    uint16_t port) {
    UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_storage to{};
    socklen_t to_len = 0;
    if (family == AF_INET6) {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&to);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        REQUIRE(inet_pton(AF_INET6, address, &a6->sin6_addr) == 1);
        to_len = sizeof(sockaddr_in6);
    } else {
        auto* a4 = reinterpret_cast<sockaddr_in*>(&to);
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        REQUIRE(inet_pton(AF_INET, address, &a4->sin_addr) == 1);
        to_len = sizeof(sockaddr_in);
    }
    const auto request = notify_for_example_com();
    REQUIRE(::sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     to_len) == static_cast<ssize_t>(request.size()));
    std::optional<unsigned> rcode;
    bool gave_up = false;
    loop.watch_fd(fd.get(), true, false, [&](bool, bool) {
        uint8_t buf[512];
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n >= 4) rcode = buf[3] & 0x0f;
    });
    const auto limit = loop.add_timer(5s, [&] { gave_up = true; });
    loop.run_until([&] { return rcode.has_value() || gave_up; });
    loop.cancel_timer(limit);
    loop.unwatch_fd(fd.get());
    return rcode;
}

bool ipv6_loopback_available() {
    UniqueFd fd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0;
}

}  // namespace

TEST_CASE("NOTIFY listener on :PORT answers over IPv4 and IPv6 loopback", "[notify]") {
    if (!ipv6_loopback_available()) {
        WARN("SKIPPED: no IPv6 loopback on this host");
        return;
    }
    EventLoop loop;
    std::vector<std::string> zones;
    NotifyListener listener(loop, Endpoint{"", 0}, [&](const std::string& zone, Instant) {
        zones.push_back(zone);
        return true;
    });
    REQUIRE(listener.port() != 0);
    CHECK(send_notify(loop, AF_INET6, "::1", listener.port()) == 0u);  // NOERROR
    // The same zone within a second is answered, not handed on again now: once when the
    // second is over, so it counts as accepted.
    CHECK(send_notify(loop, AF_INET, "127.0.0.1", listener.port()) == 0u);
    CHECK(zones == std::vector<std::string>{"example.com."});
    CHECK(listener.accepted() == 2);
    CHECK(listener.ignored() == 0);
}

TEST_CASE("NOTIFY listener on an address in use fails with the reason", "[notify]") {
    EventLoop loop;
    NotifyListener first(loop, Endpoint{"127.0.0.1", 0},
                         [](const std::string&, Instant) { return true; });
    try {
        NotifyListener second(loop, Endpoint{"127.0.0.1", first.port()},
                              [](const std::string&, Instant) { return true; });
        FAIL("the second listener bound a port in use");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) ==
              "notify_listen: cannot bind 127.0.0.1:" + std::to_string(first.port()) +
                  ": Address already in use");
    }
    // The first one still answers.
    CHECK(send_notify(loop, AF_INET, "127.0.0.1", first.port()) == 0u);
    CHECK(first.accepted() == 1);
}

TEST_CASE("NOTIFY listener hands on one repeat per zone when its second is over", "[notify]") {
    // A second change announced soon after the first must not wait for the next regular check:
    // the repeats within the second are answered at once and handed on once, when it is over.
    EventLoop loop;
    std::vector<Instant> handed;
    NotifyListener listener(loop, Endpoint{"127.0.0.1", 0}, [&](const std::string&, Instant when) {
        handed.push_back(when);
        return true;
    });
    REQUIRE(send_notify(loop, AF_INET, "127.0.0.1", listener.port()) == 0u);
    const Instant before_repeats = Instant::now();
    for (int i = 0; i < 5; ++i)
        CHECK(send_notify(loop, AF_INET, "127.0.0.1", listener.port()) == 0u);
    CHECK(handed.size() == 1);
    // The first repeat will be handed on (accepted), the four after it are ignored.
    CHECK(listener.accepted() == 2);
    CHECK(listener.ignored() == 4);

    bool over = false;
    const auto limit = loop.add_timer(5s, [&] { over = true; });
    loop.run_until([&] { return handed.size() == 2 || over; });
    REQUIRE(handed.size() == 2);
    CHECK(handed[1].mono >= before_repeats.mono);  // timed from the first repeat's arrival
    CHECK(handed[1].mono - handed[0].mono < NotifyListener::kMinNotifyGap);
    // Nothing more comes: the five repeats were one.
    const auto quiet = loop.add_timer(1500ms, [&] { over = true; });
    over = false;
    loop.cancel_timer(limit);
    loop.run_until([&] { return over; });
    loop.cancel_timer(quiet);
    CHECK(handed.size() == 2);
}

namespace {

// Sends `message` over TCP (with its length, RFC 1035 4.2.2) to 127.0.0.1:port and runs the loop
// until the answer arrives or the listener closes the connection (or 5 s pass: a bound).
// Returns the answer's rcode, nullopt when the connection was closed without one.
std::optional<unsigned> send_over_tcp(EventLoop& loop, uint16_t port,
                                      const std::vector<uint8_t>& message) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    REQUIRE(inet_pton(AF_INET, "127.0.0.1", &to.sin_addr) == 1);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    std::vector<uint8_t> framed{static_cast<uint8_t>(message.size() >> 8),
                                static_cast<uint8_t>(message.size())};
    framed.insert(framed.end(), message.begin(), message.end());
    REQUIRE(::send(fd.get(), framed.data(), framed.size(), 0) ==
            static_cast<ssize_t>(framed.size()));
    std::optional<unsigned> rcode;
    bool ended = false;
    loop.watch_fd(fd.get(), true, false, [&](bool, bool) {
        uint8_t buf[512];
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n >= 6) rcode = buf[5] & 0x0f;  // after the two-octet length
        ended = true;
    });
    const auto limit = loop.add_timer(5s, [&] { ended = true; });
    loop.run_until([&] { return ended; });
    loop.cancel_timer(limit);
    loop.unwatch_fd(fd.get());
    return rcode;
}

}  // namespace

TEST_CASE("NOTIFY listener answers over TCP too (Knot sends its NOTIFYs so)", "[notify]") {
    EventLoop loop;
    std::vector<std::string> zones;
    NotifyListener listener(loop, Endpoint{"127.0.0.1", 0}, [&](const std::string& zone, Instant) {
        zones.push_back(zone);
        return true;
    });
    CHECK(send_over_tcp(loop, listener.port(), notify_for_example_com()) == 0u);  // NOERROR
    CHECK(zones == std::vector<std::string>{"example.com."});
    CHECK(listener.accepted() == 1);
    // Not a NOTIFY (a query): no answer, the connection is closed, counted as ignored.
    auto query = notify_for_example_com();
    query[2] = 0;  // opcode QUERY
    CHECK_FALSE(send_over_tcp(loop, listener.port(), query).has_value());
    CHECK(listener.ignored() == 1);
}
