// Discovery against a scripted resolver on loopback: TCP for truncated answers, the last good
// answer (and saying so) while the resolver fails.
#include "probes/discovery.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <optional>

#include "probes/dns_wire.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;
using test::AnswerBuilder;
using test::FakeDnsServer;
using test::FakeQuery;

namespace {

DiscoveryOptions options_for(uint16_t port) {
    DiscoveryOptions options;
    options.resolvers = {{"127.0.0.1", port}};
    options.timeout = 200ms;
    options.tries = 1;
    options.min_ttl = 0s;  // every lookup goes to the resolver
    options.max_ttl = 0s;
    return options;
}

std::vector<uint8_t> a_record(uint8_t last) {
    return {127, 0, 0, last};
}

template <typename Result, typename Start>
Result run(EventLoop& loop, Start start) {
    std::optional<Result> result;
    start([&](Result r) { result = std::move(r); });
    loop.run_until([&] { return result.has_value(); });
    return *result;
}

}  // namespace

TEST_CASE("discovery: a truncated answer is asked again over TCP (RFC 7766)", "[discovery]") {
    FakeDnsServer resolver([](const FakeQuery& q) {
        if (!q.tcp) return AnswerBuilder(q.wire).tc().build();  // no records: only TCP has them
        auto b = AnswerBuilder(q.wire);
        for (uint8_t i = 1; i <= 3; ++i) b.record(dns::rrtype::A, a_record(i));
        return b.build();
    });
    EventLoop loop;
    Discovery discovery(loop, options_for(resolver.port()));
    auto ns = run<DiscoveredNameserver>(
        loop, [&](auto done) { discovery.resolve("ns.example.test", true, false, done); });
    CHECK(ns.addresses == std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3"});
    CHECK(ns.error.empty());
    CHECK(resolver.udp_queries() == 1);
    CHECK(resolver.tcp_queries() == 1);
}

TEST_CASE("discovery: the last good answer while the resolver fails, and every lookup says so",
          "[discovery]") {
    std::atomic<bool> down{false};
    FakeDnsServer resolver([&down](const FakeQuery& q) {
        if (down) return std::vector<uint8_t>{};  // silence: a timeout
        return AnswerBuilder(q.wire).record(dns::rrtype::A, a_record(7)).build();
    });
    EventLoop loop;
    Discovery discovery(loop, options_for(resolver.port()));
    auto resolve = [&] {
        return run<DiscoveredNameserver>(
            loop, [&](auto done) { discovery.resolve("ns.example.test", true, false, done); });
    };
    auto fresh = resolve();
    CHECK(fresh.addresses == std::vector<std::string>{"127.0.0.7"});
    CHECK(fresh.stale.empty());

    down = true;
    auto stale = resolve();  // the lookup that fails
    CHECK(stale.addresses == std::vector<std::string>{"127.0.0.7"});
    CHECK(stale.stale.find("resolver") != std::string::npos);
    const auto queries = resolver.udp_queries();
    auto again = resolve();  // served from the cache entry the failure left: still stale
    CHECK(resolver.udp_queries() == queries);
    CHECK(again.addresses == std::vector<std::string>{"127.0.0.7"});
    CHECK_FALSE(again.stale.empty());
    CHECK(discovery.lookup_errors() >= 1);
}

TEST_CASE("discovery: why a name has no address, as a kind and a detail", "[discovery]") {
    // nx.test does not exist, empty.test has no addresses, broken.test gets SERVFAIL.
    FakeDnsServer resolver([](const FakeQuery& q) {
        const std::string wire(q.wire.begin(), q.wire.end());
        if (wire.find("\x02nx") != std::string::npos)
            return AnswerBuilder(q.wire).rcode(dns::rcode::NXDOMAIN).build();
        if (wire.find("\x06"
                      "broken") != std::string::npos)
            return AnswerBuilder(q.wire).rcode(dns::rcode::SERVFAIL).build();
        return AnswerBuilder(q.wire).build();  // NOERROR, no records
    });
    EventLoop loop;
    Discovery discovery(loop, options_for(resolver.port()));
    const auto resolve = [&](const char* name) {
        return run<DiscoveredNameserver>(
            loop, [&](auto done) { discovery.resolve(name, true, true, done); });
    };
    const auto nx = resolve("nx.test");
    CHECK(nx.error_kind == AddressError::nxdomain);
    CHECK(nx.error.find("does not exist (NXDOMAIN)") != std::string::npos);
    const auto empty = resolve("empty.test");
    CHECK(empty.error_kind == AddressError::no_address);
    CHECK(empty.error == "no A or AAAA records");
    const auto broken = resolve("broken.test");
    CHECK(broken.error_kind == AddressError::resolver);
    CHECK(broken.error.find("SERVFAIL") != std::string::npos);
    CHECK(address_error_name(AddressError::no_address) == "no_address");
}
