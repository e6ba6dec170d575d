// The SOA probe against a scripted server on loopback: every error kind from real sockets.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include "probes/soa_probe.hpp"
#include "tests/support/fake_dns_server.hpp"

using namespace soawatch;
using namespace std::chrono_literals;
using test::AnswerBuilder;
using test::FakeDnsServer;
using test::FakeQuery;

namespace {

SoaObservation probe_once(uint16_t port, SoaProbeOptions options = {},
                          const std::string& address = "127.0.0.1") {
    EventLoop loop;
    SoaProber prober(loop);
    std::optional<SoaObservation> result;
    prober.probe("example.test", {"ns1.example.test.", address, port}, options,
                 [&](SoaObservation obs) { result = std::move(obs); });
    loop.run_until([&] { return result.has_value(); });
    return *result;
}

SoaProbeOptions fast() {
    SoaProbeOptions o;
    o.timeout = 200ms;
    o.retries = 1;
    return o;
}

}  // namespace

TEST_CASE("probe: authoritative SOA over UDP", "[probe]") {
    FakeDnsServer server([](const FakeQuery& q) {
        // RD must be clear: an authoritative server answers from its own data.
        CHECK((q.wire[2] & 0x01) == 0);
        return AnswerBuilder(q.wire).aa().soa(2026112401).build();
    });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::none);
    REQUIRE(obs.soa);
    CHECK(obs.soa->serial == 2026112401u);
    CHECK(obs.soa->expire == 1209600u);
    CHECK(obs.soa->mname == "example.test.");
    CHECK(obs.authoritative);
    CHECK(obs.transport == Transport::udp);
    CHECK(obs.tries == 1);
    CHECK(obs.zone == "example.test.");
    CHECK(obs.rtt.count() > 0);
    // Stamped when the answer was read: after the query left, both clocks agreeing.
    const auto after = Instant::now();
    CHECK(obs.at.mono <= after.mono);
    CHECK(after.mono - obs.at.mono < 1s);
    CHECK(std::chrono::abs(obs.at.wall - Clock::now()) < 2s);
}

TEST_CASE("instant: the wall clock from the monotonic one", "[probe]") {
    const auto mono = MonoClock::now();
    const auto wall = Clock::now();
    const Instant now = Instant::at(mono);
    CHECK(std::chrono::abs(now.wall - wall) < 50ms);
    // Another moment keeps its distance on both clocks, earlier or later, near or far (a far
    // one reads the offset again).
    for (const std::chrono::milliseconds shift : {-5000ms, -150ms, 1ms, 150ms, 3600000ms}) {
        const Instant other = Instant::at(mono + shift);
        CHECK(std::chrono::abs((other.wall - now.wall) - shift) < 50ms);
    }
    CHECK(Instant::at(mono).mono == mono);
}

TEST_CASE("probe: truncated UDP answer is retried over TCP (RFC 7766)", "[probe]") {
    FakeDnsServer server([](const FakeQuery& q) {
        if (!q.tcp) return AnswerBuilder(q.wire).aa().tc().build();
        return AnswerBuilder(q.wire).aa().soa(7).build();
    });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::none);
    CHECK(obs.transport == Transport::tcp);
    CHECK(obs.fell_back_to_tcp);
    CHECK(obs.soa->serial == 7u);
    CHECK(server.udp_queries() == 1);
    CHECK(server.tcp_queries() == 1);
}

TEST_CASE("probe: TC over TCP too is 'truncated'", "[probe]") {
    FakeDnsServer server(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().tc().build(); });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::truncated);
    CHECK_FALSE(obs.soa);
}

TEST_CASE("probe: error rcodes", "[probe]") {
    struct Case {
        uint8_t rcode;
        ProbeError error;
        const char* detail;
    };
    for (auto c : {Case{5, ProbeError::refused, "rcode REFUSED"},
                   Case{2, ProbeError::servfail, "rcode SERVFAIL"},
                   Case{3, ProbeError::nxdomain, "rcode NXDOMAIN"},
                   Case{1, ProbeError::bad_rcode, "rcode FORMERR"},
                   Case{4, ProbeError::bad_rcode, "rcode NOTIMP"}}) {
        FakeDnsServer server(
            [&](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().rcode(c.rcode).build(); });
        auto obs = probe_once(server.port());
        CHECK(obs.error == c.error);
        CHECK(obs.detail == c.detail);
        CHECK(obs.answered);
        CHECK(obs.rcode == c.rcode);
    }
}

TEST_CASE("probe: FORMERR to EDNS is asked again without it; queries stay whole (RFC 6891 7)",
          "[probe]") {
    // Every query the server sees must parse, with the zone's question intact.
    const auto whole = [](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        return parsed.ok() && parsed.message.questions.size() == 1 &&
               parsed.message.questions[0].name == "example.test.";
    };
    SECTION("an old server: FORMERR with EDNS, the answer without") {
        std::vector<bool> edns, ok;
        FakeDnsServer server([&](const FakeQuery& q) {
            const bool has_opt = (q.wire[10] << 8 | q.wire[11]) > 0;  // ARCOUNT
            edns.push_back(has_opt);
            ok.push_back(whole(q));
            if (has_opt) return AnswerBuilder(q.wire).rcode(1).build();  // FORMERR, no OPT
            return AnswerBuilder(q.wire).aa().soa(3).build();
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::none);
        REQUIRE(obs.soa);
        CHECK(obs.soa->serial == 3u);
        CHECK(edns == std::vector<bool>{true, false});
        CHECK(ok == std::vector<bool>{true, true});
    }
    SECTION("without EDNS, a FORMERR is the answer, and the query was not cut") {
        std::vector<bool> ok;
        FakeDnsServer server([&](const FakeQuery& q) {
            ok.push_back(whole(q));
            return AnswerBuilder(q.wire).rcode(1).build();
        });
        SoaProbeOptions plain;
        plain.edns_udp_size = 0;
        auto obs = probe_once(server.port(), plain);
        CHECK(obs.error == ProbeError::bad_rcode);
        CHECK(ok == std::vector<bool>{true});
    }
}

TEST_CASE("probe: NOERROR without AA is not authoritative (lame)", "[probe]") {
    FakeDnsServer server([](const FakeQuery& q) { return AnswerBuilder(q.wire).soa(3).build(); });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::not_authoritative);
    CHECK_FALSE(obs.authoritative);
}

TEST_CASE("probe: SOA only in the authority section is no_soa", "[probe]") {
    FakeDnsServer server(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().soa(3, 1).build(); });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::no_soa);
    CHECK(obs.detail == "SOA only in the authority section (not a zone apex)");
}

TEST_CASE("probe: CNAME at the apex is no_soa", "[probe]") {
    FakeDnsServer server(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().cname_to_question().build(); });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::no_soa);
    CHECK(obs.detail == "CNAME at the zone name instead of an SOA");
}

TEST_CASE("probe: two SOA records with different serials are malformed", "[probe]") {
    FakeDnsServer server(
        [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().soa(3).soa(4).build(); });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::malformed);
    CHECK(obs.detail == "two SOA records with different serials (3, 4)");
}

TEST_CASE("probe: hostile answers are malformed, never a crash", "[probe]") {
    SECTION("truncated RDATA") {
        FakeDnsServer server([](const FakeQuery& q) {
            auto wire = AnswerBuilder(q.wire).aa().soa(3).build();
            wire.resize(wire.size() - 7);
            return wire;
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::malformed);
    }
    SECTION("compression pointer loop in the answer") {
        FakeDnsServer server([](const FakeQuery& q) {
            auto b = AnswerBuilder(q.wire).aa();
            auto size = static_cast<uint16_t>(q.wire.size());
            (void)size;
            // Owner name: a pointer to itself.
            std::vector<uint8_t> rr;
            auto base = b.build().size();
            rr.push_back(static_cast<uint8_t>(0xc0 | (base >> 8)));
            rr.push_back(static_cast<uint8_t>(base & 0xff));
            rr.insert(rr.end(), {0, 6, 0, 1, 0, 0, 1, 44, 0, 0});
            return b.raw(rr).set_ancount(1).build();
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::malformed);
    }
    SECTION("records announced but missing") {
        FakeDnsServer server(
            [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().set_ancount(3).build(); });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::malformed);
        // A short answer is broken, not cut in transit: no TCP retry.
        CHECK(server.tcp_queries() == 0);
    }
    SECTION("QR bit unset") {
        FakeDnsServer server(
            [](const FakeQuery& q) { return AnswerBuilder(q.wire).aa().qr(false).soa(1).build(); });
        auto obs = probe_once(server.port(), fast());
        // c-ares 1.18 matches ID and question only, and hands the message over.
        CHECK(obs.error == ProbeError::malformed);
        CHECK(obs.detail == "QR bit not set");
    }
}

TEST_CASE("probe: a UDP answer cut before its end is asked again over TCP", "[probe]") {
    // A server that ignores the EDNS size: 5000 bytes over UDP, of which c-ares reads 4096.
    FakeDnsServer server([](const FakeQuery& q) {
        auto b = AnswerBuilder(q.wire).aa().soa(9);
        if (!q.tcp)
            for (int i = 0; i < 20; ++i) b.record(16, std::vector<uint8_t>(250, 'x'), 2);
        return b.build();
    });
    auto obs = probe_once(server.port());
    CHECK(obs.error == ProbeError::none);
    CHECK(obs.transport == Transport::tcp);
    CHECK(obs.fell_back_to_tcp);
    REQUIRE(obs.soa);
    CHECK(obs.soa->serial == 9u);
}

TEST_CASE("probe: answers with a wrong ID or question are ignored: timeout", "[probe]") {
    SECTION("wrong ID") {
        FakeDnsServer server([](const FakeQuery& q) {
            auto wire = AnswerBuilder(q.wire).aa().soa(1).build();
            wire[0] ^= 0xff;
            return wire;
        });
        auto obs = probe_once(server.port(), fast());
        CHECK(obs.error == ProbeError::timeout);
    }
    SECTION("wrong question") {
        FakeDnsServer server([](const FakeQuery& q) {
            auto wire = AnswerBuilder(q.wire).aa().soa(1).build();
            wire[13] ^= 0x20 ^ 0x01;  // first letter of the name changed
            return wire;
        });
        auto obs = probe_once(server.port(), fast());
        CHECK(obs.error == ProbeError::timeout);
    }
}

TEST_CASE("probe: silence is a timeout after every try", "[probe]") {
    FakeDnsServer server([](const FakeQuery&) { return std::vector<uint8_t>{}; });
    auto start = std::chrono::steady_clock::now();
    auto obs = probe_once(server.port(), fast());
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(obs.error == ProbeError::timeout);
    CHECK(obs.detail == "no answer after 2 tries");
    CHECK(obs.tries == 2);
    CHECK(server.udp_queries() == 2);
    CHECK(elapsed >= 400ms);
    CHECK_FALSE(obs.answered);
}

TEST_CASE("probe: a closed port is connection_refused, not a timeout", "[probe]") {
    // Bind a port, then free it: nothing listens there, ICMP port unreachable comes back.
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    auto obs = probe_once(ntohs(addr.sin_port), fast());
    CHECK(obs.error == ProbeError::connection_refused);
}

TEST_CASE("probe: an address no socket can reach is a network error", "[probe]") {
    // A link-local IPv6 address without a scope: connect() fails locally, nothing is sent.
    auto obs = probe_once(53, fast(), "fe80::1");
    CHECK(obs.error == ProbeError::network_error);
}

TEST_CASE("probe: an invalid zone name fails without a query", "[probe]") {
    EventLoop loop;
    SoaProber prober(loop);
    std::optional<SoaObservation> result;
    prober.probe("a..b", {"", "127.0.0.1", 53}, {}, [&](const SoaObservation& o) { result = o; });
    REQUIRE(result);
    CHECK(result->error == ProbeError::malformed);
    CHECK(prober.queries_sent() == 0);
}

TEST_CASE("probe: the query asks for EDNS EXPIRE and the answer's value is kept (RFC 7314)",
          "[probe]") {
    // The empty EXPIRE option first inside the query's OPT record (NSID follows: see below).
    const auto asks_expire = [](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        if (!parsed.ok() || parsed.message.additional.size() != 1) return false;
        const auto& rdata = parsed.message.additional[0].rdata;
        return rdata.size() >= 4 && std::vector<uint8_t>(rdata.begin(), rdata.begin() + 4) ==
                                        std::vector<uint8_t>{0, 9, 0, 0};
    };
    const auto answer = [](const FakeQuery& q, bool with_expire) {
        auto wire = AnswerBuilder(q.wire).aa().soa(5).build();
        // OPT: root, size 1232, RDLENGTH 8: EXPIRE, length 4, 3600 seconds left.
        const std::vector<uint8_t> opt = {0, 0, 41, 4, 208, 0, 0, 0,  0, 0,
                                          8, 0, 9,  0, 4,   0, 0, 14, 16};
        const std::vector<uint8_t> bare = {0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0};
        const auto& rr = with_expire ? opt : bare;
        wire.insert(wire.end(), rr.begin(), rr.end());
        wire[11] = 1;  // ARCOUNT
        return wire;
    };
    SECTION("a server that answers it") {
        bool asked = false;
        FakeDnsServer server([&](const FakeQuery& q) {
            asked = asks_expire(q);
            return answer(q, true);
        });
        auto obs = probe_once(server.port());
        CHECK(asked);
        CHECK(obs.error == ProbeError::none);
        CHECK(obs.expire_asked);
        CHECK(obs.expire_remaining == 3600u);
    }
    SECTION("a server that ignores it (NSD, PowerDNS)") {
        FakeDnsServer server([&](const FakeQuery& q) { return answer(q, false); });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::none);
        CHECK(obs.expire_asked);
        CHECK_FALSE(obs.expire_remaining);
    }
    SECTION("EDNS off: no OPT, so no option and nothing asked") {
        bool has_opt = true;
        FakeDnsServer server([&](const FakeQuery& q) {
            has_opt = (q.wire[10] << 8 | q.wire[11]) > 0;
            return AnswerBuilder(q.wire).aa().soa(5).build();
        });
        SoaProbeOptions plain;
        plain.edns_udp_size = 0;
        auto obs = probe_once(server.port(), plain);
        CHECK_FALSE(has_opt);
        CHECK_FALSE(obs.expire_asked);
        CHECK_FALSE(obs.expire_remaining);
    }
    SECTION("an error answer carries no value") {
        FakeDnsServer server([&](const FakeQuery& q) {
            auto wire = answer(q, true);
            wire[3] = static_cast<uint8_t>((wire[3] & 0xf0) | 2);  // SERVFAIL
            return wire;
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::servfail);
        CHECK_FALSE(obs.expire_remaining);
    }
}

TEST_CASE("probe: the query asks for NSID and the instance that answered is kept (RFC 5001)",
          "[probe]") {
    // The query's OPT record: EXPIRE and NSID, both empty.
    const auto asks_nsid = [](const FakeQuery& q) {
        const auto parsed = dns::parse_message(q.wire);
        return parsed.ok() && parsed.message.additional.size() == 1 &&
               parsed.message.additional[0].rdata == std::vector<uint8_t>{0, 9, 0, 0, 0, 3, 0, 0};
    };
    SECTION("a server that answers its identity") {
        bool asked = false;
        FakeDnsServer server([&](const FakeQuery& q) {
            asked = asks_nsid(q);
            return AnswerBuilder(q.wire)
                .aa()
                .soa(5)
                .opt(AnswerBuilder::nsid_option("ns1-fra"))
                .build();
        });
        auto obs = probe_once(server.port());
        CHECK(asked);
        CHECK(obs.error == ProbeError::none);
        CHECK(obs.nsid == "ns1-fra");
    }
    SECTION("an error answer still names the instance that gave it") {
        FakeDnsServer server([&](const FakeQuery& q) {
            return AnswerBuilder(q.wire)
                .rcode(5)
                .opt(AnswerBuilder::nsid_option("\x01\x02"))
                .build();
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::refused);
        CHECK(obs.nsid == std::string("\x01\x02"));
    }
    SECTION("a broken option list drops the NSID, the SOA is kept") {
        FakeDnsServer server([&](const FakeQuery& q) {
            return AnswerBuilder(q.wire).aa().soa(5).opt({0, 3, 0, 9, 'a', 'b'}).build();
        });
        auto obs = probe_once(server.port());
        CHECK(obs.error == ProbeError::none);
        CHECK(obs.soa->serial == 5u);
        CHECK_FALSE(obs.nsid);
    }
    SECTION("a server that ignores it, and EDNS off: none") {
        bool has_opt = true;
        FakeDnsServer server([&](const FakeQuery& q) {
            has_opt = (q.wire[10] << 8 | q.wire[11]) > 0;
            return AnswerBuilder(q.wire).aa().soa(5).opt().build();
        });
        CHECK_FALSE(probe_once(server.port()).nsid);
        CHECK(has_opt);
        SoaProbeOptions plain;
        plain.edns_udp_size = 0;
        CHECK_FALSE(probe_once(server.port(), plain).nsid);
        CHECK_FALSE(has_opt);
    }
}

TEST_CASE("probe: the fake server and the probe on IPv4 and IPv6, UDP and TCP", "[probe]") {
    // Like c-ares' own test servers: every case on both families and both transports.
    for (const char* address : {"127.0.0.1", "::1"}) {
        for (const bool tcp : {false, true}) {
            std::optional<FakeDnsServer> server;
            try {
                server.emplace(
                    [tcp](const FakeQuery& q) {
                        // TC over UDP sends the probe to TCP (RFC 7766 section 5).
                        if (tcp && !q.tcp) return AnswerBuilder(q.wire).aa().tc().build();
                        return AnswerBuilder(q.wire).aa().soa(tcp ? 6 : 4).build();
                    },
                    address);
            } catch (const std::runtime_error& e) {
                WARN("SKIPPED " << address << ": " << e.what());
                continue;
            }
            INFO(address << (tcp ? " tcp" : " udp"));
            const auto obs = probe_once(server->port(), fast(), address);
            CHECK(obs.error == ProbeError::none);
            REQUIRE(obs.soa);
            CHECK(obs.soa->serial == (tcp ? 6u : 4u));
            CHECK(obs.transport == (tcp ? Transport::tcp : Transport::udp));
            CHECK(obs.fell_back_to_tcp == tcp);
            CHECK(server->udp_queries() == 1);
            CHECK(server->tcp_queries() == (tcp ? 1 : 0));
        }
    }
}

// c-ares 1.18 keeps one UDP socket per server while its channel has a query in flight, and with
// ARES_FLAG_STAYOPEN for ever: every probe of an address then left from one source port, and
// anycast routing (a hash of the 5-tuple) sent them all to one instance. Without the flag for
// UDP the socket closes when the address is idle; lanes are channels with sockets of their own.
TEST_CASE("probe: an idle address is asked from a fresh source port, each lane from its own",
          "[probe][anycast]") {
    std::mutex mutex;
    std::vector<uint16_t> ports;
    FakeDnsServer server([&](const FakeQuery& q) {
        const std::lock_guard lock(mutex);
        ports.push_back(q.source_port);
        return AnswerBuilder(q.wire).aa().soa(7).build();
    });
    EventLoop loop;
    SoaProber prober(loop);
    const ProbeTarget target{"ns1.example.test.", "127.0.0.1", server.port()};
    for (int i = 0; i < 3; ++i) {
        std::optional<SoaObservation> result;
        prober.probe("example.test", target, fast(), [&](const SoaObservation& o) { result = o; });
        loop.run_until([&] { return result.has_value(); });
        CHECK(result->usable());
    }
    std::vector<SoaObservation> lanes;
    const auto query = make_soa_query("example.test", fast().edns_udp_size);
    for (unsigned lane = 0; lane < 3; ++lane)
        prober.probe(
            query, target, fast(), [&](SoaObservation o) { lanes.push_back(std::move(o)); }, lane);
    loop.run_until([&] { return lanes.size() == 3; });
    const std::lock_guard lock(mutex);
    REQUIRE(ports.size() == 6);
    // One after the other: new sockets (the kernel may hand out a port twice, rarely: not all
    // three the same, as with one socket for life).
    CHECK(std::set<uint16_t>(ports.begin(), ports.begin() + 3).size() >= 2);
    // At the same time on three lanes: three sockets open together, three ports.
    CHECK(std::set<uint16_t>(ports.begin() + 3, ports.end()).size() == 3);
}

TEST_CASE("probe: an attempt reused after a failed probe starts from a fresh observation",
          "[probe]") {
    // The prober keeps finished attempts for the next probes: nothing of a failed probe (its
    // error, detail, tries, NSID) may show in the next one's observation. silent.test is never
    // answered; other.test is, without an NSID.
    FakeDnsServer server([](const FakeQuery& q) {
        const std::string wire(q.wire.begin(), q.wire.end());
        if (wire.find("silent") != std::string::npos) return std::vector<uint8_t>{};
        return AnswerBuilder(q.wire).aa().soa(8).build();
    });
    EventLoop loop;
    SoaProber prober(loop);
    std::vector<SoaObservation> results;
    auto probe = [&](const std::string& zone) {
        prober.probe(zone, {"ns1.example.test.", "127.0.0.1", server.port()}, fast(),
                     [&](SoaObservation obs) { results.push_back(std::move(obs)); });
    };
    probe("a..b");  // invalid: fails at once
    probe("silent.test");
    loop.run_until([&] { return results.size() == 2; });
    probe("other.test");
    loop.run_until([&] { return results.size() == 3; });

    REQUIRE(results.size() == 3);
    CHECK(results[0].error == ProbeError::malformed);
    CHECK(results[1].error == ProbeError::timeout);
    CHECK(results[1].tries == 2);
    const SoaObservation& fresh = results[2];
    INFO(fresh.detail);
    CHECK(fresh.error == ProbeError::none);
    CHECK(fresh.detail.empty());
    CHECK(fresh.tries == 1);
    CHECK(fresh.answered);
    CHECK(fresh.transport == Transport::udp);
    CHECK(fresh.zone == "other.test.");
    REQUIRE(fresh.soa);
    CHECK(fresh.soa->serial == 8u);
}
