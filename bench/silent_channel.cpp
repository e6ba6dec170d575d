// How long a DnsChannel takes to time out a burst of queries to a silent server: 2 in flight
// while the server may still answer, every query at once after 8 timeouts in a row. The unit
// test (tests/unit/scale_test.cpp) asserts that behaviour; the time it takes is measured here,
// where a loaded machine makes a number slower rather than a test fail.
//
//     build-dev/bench/silent_channel [ROUNDS]
//
// Prints one line per round and the median; with 100 ms timeouts the expected time is about
// 8 timeouts 2 by 2 (4 x 100 ms) plus one more round for the rest: ~0.5 s, bound 1.2 s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "probes/dns_channel.hpp"
#include "probes/dns_wire.hpp"
#include "probes/event_loop.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;

namespace {

double one_round() {
    test::FakeDnsServer server([](const test::FakeQuery&) { return std::vector<uint8_t>{}; });
    EventLoop loop;
    ChannelOptions options;
    options.servers.push_back({"127.0.0.1", server.port()});
    options.timeout = 100ms;
    options.max_inflight = 2;
    options.max_inflight_silent = 64;
    std::string error;
    auto channel = DnsChannel::create(loop, options, &error);
    if (!channel) {
        std::fprintf(stderr, "silent_channel: %s\n", error.c_str());
        std::exit(1);
    }
    const auto query = dns::build_query(0, "example.test.", dns::rrtype::SOA, false, 1232);
    int timeouts = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 48; ++i)
        channel->send(query,
                      [&](const DnsReply& reply) { timeouts += reply.status == ARES_ETIMEOUT; });
    loop.run_until([&] { return timeouts == 48; });
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::vector<double> seconds;
    for (int i = 0; i < rounds; ++i) {
        seconds.push_back(one_round());
        std::printf("round %d: 48 timeouts in %.3f s\n", i + 1, seconds.back());
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    std::printf("median %.3f s (bound 1.200 s): %s\n", median, median < 1.2 ? "ok" : "SLOW");
    return median < 1.2 ? 0 : 1;
}
