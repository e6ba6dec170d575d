// Discovery against a scripted resolver on loopback: TCP for truncated answers, the last good
// answer (and saying so) while the resolver fails.
#include "probes/discovery.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string_view>

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

namespace {

// The type of a query's question (the two octets after its name), or 0 when it has none.
uint16_t question_type(const std::vector<uint8_t>& wire) {
    std::size_t pos = 12;
    while (pos < wire.size() && wire[pos] != 0) pos += 1 + wire[pos];
    if (pos + 2 >= wire.size()) return 0;
    return static_cast<uint16_t>(wire[pos + 1] << 8 | wire[pos + 2]);
}

std::vector<uint8_t> wire_name(std::string_view dotted) {
    std::vector<uint8_t> out;
    std::size_t start = 0;
    while (start < dotted.size()) {
        const auto end = std::min(dotted.find('.', start), dotted.size());
        out.push_back(static_cast<uint8_t>(end - start));
        out.insert(out.end(), dotted.begin() + static_cast<long>(start),
                   dotted.begin() + static_cast<long>(end));
        start = end + 1;
    }
    out.push_back(0);
    return out;
}

}  // namespace

TEST_CASE("discovery: address lookups go ahead of the NS lookups waiting for a slot",
          "[discovery]") {
    // One lookup in flight at a time; three zones, each served by ns1.test and ns2.test. When
    // the first zone's NS answer names them, the other zones' NS lookups are already waiting:
    // the addresses go first, so the first zone's probes need not wait for every NS lookup.
    std::mutex mutex;
    std::vector<uint16_t> types;  // in the order the resolver got them
    FakeDnsServer resolver([&](const FakeQuery& q) {
        const uint16_t type = question_type(q.wire);
        {
            std::lock_guard<std::mutex> lock(mutex);
            types.push_back(type);
        }
        auto b = AnswerBuilder(q.wire);
        if (type == dns::rrtype::NS) {
            b.record(dns::rrtype::NS, wire_name("ns1.test"));
            b.record(dns::rrtype::NS, wire_name("ns2.test"));
        } else if (type == dns::rrtype::A) {
            b.record(dns::rrtype::A, a_record(1));
        }
        return b.build();
    });
    EventLoop loop;
    auto options = options_for(resolver.port());
    options.max_inflight = 1;
    options.min_ttl = 60s;  // each name's addresses are asked once
    options.max_ttl = 60s;
    Discovery discovery(loop, options);
    std::vector<std::string> found;
    for (const char* zone : {"z1.test", "z2.test", "z3.test"})
        discovery.discover(zone, 32, true, false, [&](const DiscoveryResult& r) {
            CHECK(r.error.empty());
            CHECK(r.nameservers.size() == 2);
            found.push_back(r.zone);
        });
    // Two NS lookups wait behind the one in flight: what the scheduler's back-pressure reads.
    CHECK(discovery.queued() == 2);
    loop.run_until([&] { return found.size() == 3; });
    CHECK(discovery.queued() == 0);
    CHECK(found == std::vector<std::string>{"z1.test.", "z2.test.", "z3.test."});
    std::lock_guard<std::mutex> lock(mutex);
    CHECK(types == std::vector<uint16_t>{dns::rrtype::NS, dns::rrtype::A, dns::rrtype::A,
                                         dns::rrtype::NS, dns::rrtype::NS});
}

TEST_CASE(
    "discovery: an NS name's addresses serve every zone while cached, and are asked again "
    "once they expire",
    "[discovery]") {
    std::atomic<int> address_queries{0};
    FakeDnsServer resolver([&](const FakeQuery& q) {
        auto b = AnswerBuilder(q.wire);
        if (question_type(q.wire) == dns::rrtype::NS) {
            b.record(dns::rrtype::NS, wire_name("ns1.test"));
        } else {
            ++address_queries;
            b.record(dns::rrtype::A, a_record(9));
        }
        return b.build();
    });
    EventLoop loop;
    auto options = options_for(resolver.port());
    options.min_ttl = 60s;
    options.max_ttl = 60s;
    Discovery cached(loop, options);
    for (const char* zone : {"z1.test", "z2.test", "z3.test"}) {
        const auto r = run<DiscoveryResult>(
            loop, [&](auto done) { cached.discover(zone, 32, true, false, done); });
        REQUIRE(r.nameservers.size() == 1);
        CHECK(r.nameservers[0].name == "ns1.test.");
        CHECK(r.nameservers[0].addresses == std::vector<std::string>{"127.0.0.9"});
    }
    CHECK(address_queries == 1);
    // The same name resolved directly (a configured nameserver name) shares that answer.
    const auto ns = run<DiscoveredNameserver>(
        loop, [&](auto done) { cached.resolve("NS1.test", true, false, done); });
    CHECK(ns.addresses == std::vector<std::string>{"127.0.0.9"});
    CHECK(address_queries == 1);

    address_queries = 0;
    Discovery uncached(loop, options_for(resolver.port()));  // every answer expires at once
    for (const char* zone : {"z1.test", "z2.test"})
        run<DiscoveryResult>(loop,
                             [&](auto done) { uncached.discover(zone, 32, true, false, done); });
    CHECK(address_queries == 2);
}
