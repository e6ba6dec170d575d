// A resolver's answer to a discovery lookup: the quick reading of plain answers and the full
// reading through parse_message give the same values, TTL and errors.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/lookup_answer.hpp"
#include "tests/support/wire_bytes.hpp"

using soawatch::LookupAnswer;
using soawatch::read_lookup_answer;
namespace test = soawatch::test;
namespace dns = soawatch::dns;
namespace rrtype = soawatch::dns::rrtype;

namespace {

using test::append;
using test::Bytes;
using test::u16;
using test::u32;

const Bytes kToQuestion = {0xc0, 0x0c};  // a pointer to the question's name

// A response to (qname, qtype): records appended section by section, in order.
class Response {
  public:
    Response(const std::string& qname, uint16_t qtype, unsigned flags = 0x8180) {
        u16(wire_, 0x1234);
        u16(wire_, static_cast<uint16_t>(flags));  // QR, RD, RA; rcode in the low bits
        u16(wire_, 1);
        for (int i = 0; i < 3; ++i) u16(wire_, 0);
        append(wire_, dns::encode_name(qname));
        u16(wire_, qtype);
        u16(wire_, dns::class_IN);
    }
    // section: 0 answer, 1 authority, 2 additional
    Response& rr(int section, const Bytes& owner, uint16_t type, const Bytes& rdata,
                 uint32_t ttl = 300, uint16_t rclass = dns::class_IN) {
        append(wire_, owner);
        u16(wire_, type);
        u16(wire_, rclass);
        u32(wire_, ttl);
        u16(wire_, static_cast<uint16_t>(rdata.size()));
        append(wire_, rdata);
        const std::size_t at = 6 + 2 * static_cast<std::size_t>(section);
        const unsigned count = (wire_[at] << 8 | wire_[at + 1]) + 1u;
        wire_[at] = static_cast<uint8_t>(count >> 8);
        wire_[at + 1] = static_cast<uint8_t>(count);
        return *this;
    }
    const Bytes& wire() const { return wire_; }

  private:
    Bytes wire_;
};

Bytes name(const std::string& text) {
    return dns::encode_name(text);
}

// Both readings, which must agree; the quick one's result.
LookupAnswer read_both(const Bytes& wire, const std::string& qname, uint16_t type) {
    const Bytes qname_wire = dns::encode_name(qname);
    LookupAnswer quick = read_lookup_answer(wire, qname, qname_wire, type);
    const LookupAnswer full = read_lookup_answer(wire, qname, {}, type);
    CHECK(quick.outcome == full.outcome);
    CHECK(quick.values == full.values);
    CHECK(quick.min_ttl == full.min_ttl);
    CHECK(quick.error == full.error);
    return quick;
}

}  // namespace

TEST_CASE("lookup answer: an NS set, canonical, each name once, the lowest TTL", "[lookup]") {
    Response r("example.com.", rrtype::NS);
    r.rr(0, kToQuestion, rrtype::NS, name("NS2.Example.NET."), 3600)
        .rr(0, kToQuestion, rrtype::NS, name("ns1.example.net."), 1800)
        .rr(0, name("EXAMPLE.com."), rrtype::NS, name("ns2.example.net."), 7200)  // 0x20 case
        .rr(0, name("other.com."), rrtype::NS, name("ns9.example.net."), 60)      // not the name
        .rr(2, name("ns1.example.net."), rrtype::A, {192, 0, 2, 1})
        .rr(2, {0}, rrtype::OPT, {}, 0, 1232);
    const LookupAnswer a = read_both(r.wire(), "example.com.", rrtype::NS);
    CHECK(a.outcome == LookupAnswer::Outcome::values);
    CHECK(a.values == std::vector<std::string>{"ns2.example.net.", "ns1.example.net."});
    CHECK(a.min_ttl == 1800);
    CHECK(a.error.empty());
}

TEST_CASE("lookup answer: addresses, and records of another class do not count", "[lookup]") {
    Response r("ns1.example.net.", rrtype::A);
    r.rr(0, kToQuestion, rrtype::A, {192, 0, 2, 1}, 600)
        .rr(0, kToQuestion, rrtype::A, {192, 0, 2, 1}, 500)
        .rr(0, kToQuestion, rrtype::A, {10, 0, 0, 1}, 5, 3 /* CH */);
    const LookupAnswer a = read_both(r.wire(), "ns1.example.net.", rrtype::A);
    CHECK(a.values == std::vector<std::string>{"192.0.2.1"});
    CHECK(a.min_ttl == 500);

    Response v6("ns1.example.net.", rrtype::AAAA);
    Bytes addr(16, 0);
    addr[0] = 0x20;
    addr[1] = 0x01;
    addr[2] = 0x0d;
    addr[3] = 0xb8;
    addr[15] = 1;
    v6.rr(0, kToQuestion, rrtype::AAAA, addr);
    CHECK(read_both(v6.wire(), "ns1.example.net.", rrtype::AAAA).values ==
          std::vector<std::string>{"2001:db8::1"});
}

TEST_CASE("lookup answer: a CNAME chain is followed, its TTLs counted", "[lookup]") {
    Response r("ns1.example.net.", rrtype::A);
    r.rr(0, kToQuestion, rrtype::CNAME, name("host.example.org."), 100)
        .rr(0, name("host.example.org."), rrtype::A, {192, 0, 2, 7}, 900);
    const LookupAnswer a = read_both(r.wire(), "ns1.example.net.", rrtype::A);
    CHECK(a.values == std::vector<std::string>{"192.0.2.7"});
    CHECK(a.min_ttl == 100);
}

TEST_CASE("lookup answer: NODATA, NXDOMAIN, error rcodes, TC and broken answers", "[lookup]") {
    const std::string q = "example.com.";
    {
        Response r(q, rrtype::NS);
        r.rr(1, kToQuestion, rrtype::SOA, [] {
            Bytes soa = name("ns1.example.com.");
            const Bytes rname = name("hostmaster.example.com.");
            append(soa, rname);
            for (int i = 0; i < 5; ++i) u32(soa, 1);
            return soa;
        }());
        const LookupAnswer a = read_both(r.wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::values);
        CHECK(a.values.empty());
        CHECK(a.min_ttl == UINT32_MAX);
    }
    {
        const LookupAnswer a = read_both(Response(q, rrtype::NS, 0x8183).wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::nxdomain);
        CHECK(a.error == "example.com. does not exist (NXDOMAIN)");
    }
    {
        const LookupAnswer a = read_both(Response(q, rrtype::NS, 0x8182).wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::failed);
        CHECK(a.error == "resolver answered SERVFAIL for example.com.");
    }
    {
        // RFC 6891 6.1.3: the OPT record's TTL carries the rcode's upper bits (BADVERS: 16).
        Response r(q, rrtype::NS);
        r.rr(0, kToQuestion, rrtype::NS, name("ns1.example.net."))
            .rr(2, {0}, rrtype::OPT, {}, 1u << 24, 1232);
        const LookupAnswer a = read_both(r.wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::failed);
        CHECK(a.error == "resolver answered BADVERS for example.com.");
    }
    {
        Response r(q, rrtype::NS, 0x8380);  // TC
        r.rr(0, kToQuestion, rrtype::NS, name("ns1.example.net."));
        const LookupAnswer a = read_both(r.wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::failed);
        CHECK(a.error == "resolver sent a truncated answer over TCP");
    }
    {
        // Good answer, broken glue: the whole message is malformed, as parse_message says.
        Response r(q, rrtype::NS);
        r.rr(0, kToQuestion, rrtype::NS, name("ns1.example.net."))
            .rr(2, name("ns1.example.net."), rrtype::A, {192, 0, 2});
        const LookupAnswer a = read_both(r.wire(), q, rrtype::NS);
        CHECK(a.outcome == LookupAnswer::Outcome::failed);
        CHECK(a.error == "resolver sent a malformed answer (bad_rdata)");
    }
    {
        Bytes cut = Response(q, rrtype::NS).rr(0, kToQuestion, rrtype::NS, name("a.b.")).wire();
        cut.resize(cut.size() - 3);
        CHECK(read_both(cut, q, rrtype::NS).error ==
              "resolver sent a malformed answer (rdata_overflow)");
    }
}
