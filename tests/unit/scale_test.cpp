// What keeps the agent cheap at 100,000 zones without changing what it reports: the scheduler's
// slots (flat load), error counters allocated at the first failure, shared nameserver lists.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "agent/scheduler.hpp"
#include "agent/zone_check.hpp"
#include "agent/zone_status.hpp"
#include "probes/dns_channel.hpp"
#include "probes/dns_wire.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<DnsChannel> channel_to(EventLoop& loop, uint16_t port, std::size_t cap,
                                       std::size_t silent_cap) {
    ChannelOptions options;
    options.servers.push_back({"127.0.0.1", port});
    options.timeout = 100ms;
    options.max_inflight = cap;
    options.max_inflight_silent = silent_cap;
    std::string error;
    auto channel = DnsChannel::create(loop, options, &error);
    REQUIRE(channel);
    return channel;
}

}  // namespace

TEST_CASE("channel: every query gets its own random ID", "[scale]") {
    std::mutex mutex;
    std::set<uint16_t> ids;
    test::FakeDnsServer server([&](const test::FakeQuery& q) {
        std::lock_guard lock(mutex);
        ids.insert(static_cast<uint16_t>(q.wire[0] << 8 | q.wire[1]));
        return test::AnswerBuilder(q.wire).aa().soa(1).build();
    });
    EventLoop loop;
    auto channel = channel_to(loop, server.port(), 128, 128);
    const auto query = dns::build_query(0, "example.test.", dns::rrtype::SOA, false, 1232);
    int answered = 0;
    for (int i = 0; i < 64; ++i)
        channel->send(query,
                      [&](const DnsReply& reply) { answered += reply.status == ARES_SUCCESS; });
    loop.run_until([&] { return answered == 64; });
    std::lock_guard lock(mutex);
    CHECK(ids.size() >= 60);  // 64 draws from 65,536: a collision or two at most
}

TEST_CASE("channel: a silent server gets more queries in flight, not a queue", "[scale]") {
    test::FakeDnsServer server([](const test::FakeQuery&) { return std::vector<uint8_t>{}; });
    EventLoop loop;
    // 2 in flight while the server answers; 64 once 8 queries in a row timed out.
    auto channel = channel_to(loop, server.port(), 2, 64);
    const auto query = dns::build_query(0, "example.test.", dns::rrtype::SOA, false, 1232);
    int timeouts = 0;
    std::size_t most_in_flight = 0;
    for (int i = 0; i < 48; ++i)
        channel->send(query, [&](const DnsReply& reply) {
            timeouts += reply.status == ARES_ETIMEOUT;
            most_in_flight = std::max(most_in_flight, channel->inflight());
        });
    CHECK(channel->inflight() == 2);  // the server has not been silent yet
    loop.run_until([&] { return timeouts == 48; });
    // 2 at a time until 8 in a row timed out; then the rest at once, not 2 by 2. (How long
    // that takes is measured by bench/silent_channel, not asserted here.)
    CHECK(most_in_flight >= 32);
    CHECK(channel->queued() == 0);
    CHECK(server.udp_queries() == 48);
}

TEST_CASE("scheduler: a zone's slot is stable, at least half an interval away", "[scale]") {
    const std::chrono::milliseconds interval = 60s;
    const int64_t t0 = 1'800'000'000'000;  // ms since the epoch
    for (int64_t now = t0; now < t0 + int64_t{3} * 60'000; now += 7'919) {
        const auto delay = next_slot_delay("example.com.", interval, now);
        CHECK(delay >= interval / 2);
        CHECK(delay <= interval + interval / 2);
        // The same offset in every period: the due time is on the zone's grid.
        CHECK((now + delay.count()) % 60'000 ==
              (t0 + next_slot_delay("example.com.", interval, t0).count()) % 60'000);
    }
    // Checked at its slot, a zone is next due one interval later.
    const int64_t due = t0 + next_slot_delay("example.com.", interval, t0).count();
    CHECK(next_slot_delay("example.com.", interval, due) == interval);
}

TEST_CASE("scheduler: slots spread zones over the interval", "[scale]") {
    const std::chrono::milliseconds interval = 60s;
    std::set<int64_t> seconds;  // the second of the interval each zone lands in
    for (int i = 0; i < 1000; ++i) {
        const auto delay = next_slot_delay("z" + std::to_string(i) + ".test.", interval, 0);
        seconds.insert(delay.count() / 1000 % 60);
    }
    CHECK(seconds.size() == 60);  // every second of the minute has checks
}

TEST_CASE("zone status: error counters cost nothing until the first failure", "[scale]") {
    ErrorCounts counts;
    const ErrorCounts& read = counts;
    CHECK(read[static_cast<std::size_t>(ProbeError::timeout)] == 0);
    ++counts[static_cast<std::size_t>(ProbeError::timeout)];
    ++counts[static_cast<std::size_t>(ProbeError::timeout)];
    ErrorCounts copy = counts;  // a new status starts from the previous one's counters
    ++copy[static_cast<std::size_t>(ProbeError::refused)];
    CHECK(read[static_cast<std::size_t>(ProbeError::timeout)] == 2);
    CHECK(read[static_cast<std::size_t>(ProbeError::refused)] == 0);
    CHECK(copy[static_cast<std::size_t>(ProbeError::timeout)] == 2);
    CHECK(copy[static_cast<std::size_t>(ProbeError::refused)] == 1);
    copy = ErrorCounts{};
    CHECK(std::as_const(copy)[static_cast<std::size_t>(ProbeError::timeout)] == 0);
}

TEST_CASE("zone status: a shared SOA reads like an optional and copies on write", "[scale]") {
    const dns::SoaRdata soa{"ns1.example.", "hostmaster.example.", 7, 3600, 900, 1209600, 300};
    SharedSoa a = soa;
    SharedSoa b = std::optional<dns::SoaRdata>(soa);
    b.share_with(a);  // equal: b now holds a's copy
    b->serial = 8;    // writing unshares first
    CHECK(std::as_const(a)->serial == 7);
    CHECK(std::as_const(b)->serial == 8);
    a.share_with(b);  // different: nothing shared
    CHECK(std::as_const(a)->serial == 7);
    const std::optional<dns::SoaRdata> copy = a;
    CHECK(copy == soa);
    SharedSoa none = std::nullopt;
    CHECK_FALSE(none.has_value());
    CHECK_FALSE(static_cast<std::optional<dns::SoaRdata>>(none).has_value());
}

TEST_CASE("zone check: zones with the same nameservers share one list", "[scale]") {
    GlobalConfig global;
    global.probe.port = 5300;
    ZoneConfig a, b, c;
    a.name = "a.test.";
    a.nameservers = {"192.0.2.1:5300", "192.0.2.2:5300", "ns.example."};
    b.name = "b.test.";
    b.nameservers = {"192.0.2.1:5300", "192.0.2.2:5300"};
    c.name = "c.test.";
    c.nameservers = {"192.0.2.1:5300", "192.0.2.3:53"};
    NameserverLists lists;
    const auto sa = make_check_spec(global, a, &lists);
    const auto sb = make_check_spec(global, b, &lists);
    const auto sc = make_check_spec(global, c, &lists);
    CHECK(sa.nameserver_addresses == sb.nameserver_addresses);  // the same object
    CHECK(sa.nameserver_addresses != sc.nameserver_addresses);
    REQUIRE(sc.nameserver_addresses->size() == 2);
    CHECK((*sc.nameserver_addresses)[1] == ProbeTarget{"", "192.0.2.3", 53});
    CHECK(sa.nameserver_names == std::vector<std::string>{"ns.example."});
    CHECK(sb.nameserver_names.empty());
    CHECK_FALSE(sb.discovers());

    // Another zone with a's entries: read once, the same list and names.
    ZoneConfig a2 = a;
    a2.name = "a2.test.";
    const auto sa2 = make_check_spec(global, a2, &lists);
    CHECK(sa2.nameserver_addresses == sa.nameserver_addresses);
    CHECK(sa2.nameserver_names == sa.nameserver_names);
    // The same entries under another default port are other addresses.
    GlobalConfig other_port = global;
    other_port.probe.port = 53;
    ZoneConfig d;
    d.name = "d.test.";
    d.nameservers = {"192.0.2.1", "192.0.2.2"};
    const auto sd53 = make_check_spec(other_port, d, &lists);
    const auto sd5300 = make_check_spec(global, d, &lists);
    REQUIRE(sd53.nameserver_addresses);
    REQUIRE(sd5300.nameserver_addresses);
    CHECK((*sd53.nameserver_addresses)[0] == ProbeTarget{"", "192.0.2.1", 53});
    CHECK(sd5300.nameserver_addresses == sb.nameserver_addresses);  // 192.0.2.1-2:5300 again

    ZoneConfig discovered;
    discovered.name = "D.Test";
    const auto sd = make_check_spec(global, discovered, &lists);
    CHECK(sd.discovers());
    CHECK(sd.zone == "d.test.");
}
