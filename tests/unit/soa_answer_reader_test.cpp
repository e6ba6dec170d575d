// The quick reading of usable SOA answers (probes/soa_answer_reader.hpp) against the full one:
// the same observation for every answer it takes, and every other answer left to the full
// reading, whose error kinds and details stay as they were. The soa_response fuzz target checks
// the same on arbitrary bytes; these are the shapes real servers send, and the near misses.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/soa_answer.hpp"
#include "probes/soa_answer_reader.hpp"
#include "tests/support/wire_bytes.hpp"

using namespace soawatch;

namespace {

using test::append;
using test::Bytes;
using test::u16;
using test::u32;

Bytes record(const Bytes& owner, uint16_t type, const Bytes& rdata, uint32_t ttl = 3600,
             uint16_t rclass = dns::class_IN) {
    Bytes r = owner;
    u16(r, type);
    u16(r, rclass);
    u32(r, ttl);
    u16(r, static_cast<uint16_t>(rdata.size()));
    append(r, rdata);
    return r;
}
Bytes name(const std::string& text) {
    return dns::encode_name(text);
}
const Bytes kToQuestion = {0xc0, 0x0c};  // a pointer to the question's name

Bytes soa_rdata(uint32_t serial) {
    Bytes r = name("ns1.example.test.");
    append(r, kToQuestion);  // hostmaster + pointer: "hostmaster.example.test."
    r.insert(r.end() - 2, {10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r'});
    for (uint32_t v : {serial, 3600u, 600u, 1209600u, 300u}) u32(r, v);
    return r;
}

Bytes rrsig_rdata(uint32_t expiration, uint16_t key_tag) {
    Bytes r;
    u16(r, dns::rrtype::SOA);
    r.push_back(13);
    r.push_back(2);
    u32(r, 3600);
    u32(r, expiration);
    u32(r, expiration - 86400);
    u16(r, key_tag);
    append(r, name("example.test."));
    r.insert(r.end(), 64, 0x5a);
    return r;
}

Bytes opt(const Bytes& options, uint8_t extended_rcode = 0) {
    Bytes r{0};  // root owner
    u16(r, dns::rrtype::OPT);
    u16(r, 1232);
    r.push_back(extended_rcode);
    r.insert(r.end(), {0, 0, 0});
    u16(r, static_cast<uint16_t>(options.size()));
    append(r, options);
    return r;
}
Bytes option(uint16_t code, const Bytes& data) {
    Bytes r;
    u16(r, code);
    u16(r, static_cast<uint16_t>(data.size()));
    append(r, data);
    return r;
}

// A NOERROR answer with QR and AA (flags as given) to "Example.TEST. SOA", the question's name
// in the case a server may echo back (RFC 4343).
Bytes message(const std::vector<Bytes>& answer, const std::vector<Bytes>& authority = {},
              const std::vector<Bytes>& additional = {}, uint16_t flags = 0x8400) {
    Bytes m;
    u16(m, 0x1234);
    u16(m, flags);
    u16(m, 1);
    u16(m, static_cast<uint16_t>(answer.size()));
    u16(m, static_cast<uint16_t>(authority.size()));
    u16(m, static_cast<uint16_t>(additional.size()));
    append(m, name("Example.TEST."));
    u16(m, dns::rrtype::SOA);
    u16(m, dns::class_IN);
    for (const auto* section : {&answer, &authority, &additional})
        for (const auto& rr : *section) append(m, rr);
    return m;
}

// Both readings of `wire` for example.test.: whether the quick one took it, and the two
// observations, which must agree field by field.
bool quick_and_full_agree(const Bytes& wire) {
    const Bytes zone = name("example.test.");
    SoaObservation quick;
    const bool taken = read_usable_soa_answer(wire, zone, quick);
    SoaObservation via_classify;
    const bool retry =
        classify_soa_response(wire, "example.test.", zone, Transport::udp, via_classify);
    SoaObservation full;
    CHECK(retry == classify_soa_response(wire, "example.test.", {}, Transport::udp, full));
    CHECK(via_classify.error == full.error);
    CHECK(via_classify.detail == full.detail);
    CHECK(via_classify.answered == full.answered);
    CHECK(via_classify.rcode == full.rcode);
    CHECK(via_classify.authoritative == full.authoritative);
    CHECK(via_classify.soa == full.soa);
    CHECK(via_classify.soa_ttl == full.soa_ttl);
    CHECK(via_classify.expire_remaining == full.expire_remaining);
    CHECK(via_classify.nsid.view() == full.nsid.view());
    CHECK(via_classify.rrsig == full.rrsig);
    if (taken) {
        CHECK(full.usable());
        CHECK(quick.soa == full.soa);
        CHECK(quick.rrsig == full.rrsig);
    }
    return taken;
}

}  // namespace

TEST_CASE("soa answer reader: usable answers read quickly, as the full reading reads them",
          "[soa_answer_reader]") {
    const Bytes soa = record(kToQuestion, dns::rrtype::SOA, soa_rdata(7));
    // Knot's and BIND's shape: the SOA, the OPT with EXPIRE and NSID.
    Bytes options = option(dns::ednsopt::EXPIRE, {0, 0, 0x0e, 0x10});
    append(options, option(dns::ednsopt::NSID, {'n', 's', '1'}));
    CHECK(quick_and_full_agree(message({soa}, {}, {opt(options)})));
    // Owners in any case, uncompressed (RFC 4343).
    CHECK(quick_and_full_agree(
        message({record(name("EXAMPLE.test."), dns::rrtype::SOA, soa_rdata(7))})));
    // NS in authority, glue, and records of other owners beside the SOA.
    CHECK(quick_and_full_agree(
        message({soa, record(name("www.example.test."), dns::rrtype::A, {192, 0, 2, 1})},
                {record(kToQuestion, dns::rrtype::NS, name("ns1.example.test."))},
                {record(name("ns1.example.test."), dns::rrtype::A, {192, 0, 2, 53}), opt({})})));
    // Two signatures during a rollover: the one that expires last.
    CHECK(quick_and_full_agree(
        message({soa, record(kToQuestion, dns::rrtype::RRSIG, rrsig_rdata(5000, 1)),
                 record(kToQuestion, dns::rrtype::RRSIG, rrsig_rdata(9000, 2)),
                 record(kToQuestion, dns::rrtype::RRSIG, rrsig_rdata(7000, 3))})));
    // The same SOA twice (same serial) is still one.
    CHECK(quick_and_full_agree(message({soa, soa})));
    // A broken option list costs the options, not the answer.
    CHECK(quick_and_full_agree(message({soa}, {}, {opt({0, 9, 0, 8, 1})})));
}

TEST_CASE("soa answer reader: every other answer is left to the full reading",
          "[soa_answer_reader]") {
    const Bytes soa = record(kToQuestion, dns::rrtype::SOA, soa_rdata(7));
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {}, 0x8000)));    // AA not set
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {}, 0x8405)));    // REFUSED
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {}, 0x8600)));    // TC
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {}, 0x0400)));    // QR not set
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {}, 0xa400)));    // opcode 4
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {opt({}, 1)})));  // BADVERS
    CHECK_FALSE(quick_and_full_agree(message({})));                       // no SOA
    CHECK_FALSE(quick_and_full_agree(message({}, {soa})));                // only in authority
    CHECK_FALSE(quick_and_full_agree(                                     // another zone's SOA
        message({record(name("other.test."), dns::rrtype::SOA, soa_rdata(7))})));
    CHECK_FALSE(quick_and_full_agree(  // class CH
        message({record(kToQuestion, dns::rrtype::SOA, soa_rdata(7), 3600, 3)})));
    CHECK_FALSE(quick_and_full_agree(  // two serials
        message({soa, record(kToQuestion, dns::rrtype::SOA, soa_rdata(8))})));
    CHECK_FALSE(quick_and_full_agree(  // CNAME at the apex
        message({record(kToQuestion, dns::rrtype::CNAME, name("elsewhere.test."))})));
    // Broken records anywhere, even after the SOA: malformed, as parse_message has it.
    CHECK_FALSE(quick_and_full_agree(
        message({soa}, {record(kToQuestion, dns::rrtype::NS, {3, 'n', 's'})})));
    CHECK_FALSE(quick_and_full_agree(
        message({soa}, {}, {record(name("ns1.example.test."), dns::rrtype::A, {192, 0, 2})})));
    CHECK_FALSE(
        quick_and_full_agree(message({soa, record(kToQuestion, dns::rrtype::RRSIG, {0, 6, 13})})));
    CHECK_FALSE(quick_and_full_agree(message({soa}, {}, {record({0xc0, 0xff}, 1, {})})));
    Bytes cut = message({soa});
    cut.pop_back();
    CHECK_FALSE(quick_and_full_agree(cut));
    Bytes forward = message({record({0xc0, 0x40}, dns::rrtype::SOA, soa_rdata(7))});
    CHECK_FALSE(quick_and_full_agree(forward));
}

TEST_CASE("names read in place: skip, compare, decode", "[dns_wire]") {
    const Bytes wire = message({record(kToQuestion, dns::rrtype::SOA, soa_rdata(7))});
    const Bytes zone = name("example.test.");
    const auto question = dns::compare_name(wire, 12, wire.size(), false, zone);
    REQUIRE(question.ok());
    CHECK(question.equal);  // "Example.TEST." against "example.test." (RFC 4343)
    CHECK(question.end == 12 + zone.size());
    CHECK_FALSE(question.root);
    const std::size_t owner = question.end + 4;
    const auto pointed = dns::compare_name(wire, owner, wire.size(), false, zone);
    CHECK(pointed.equal);
    CHECK(pointed.end == owner + 2);
    CHECK_FALSE(dns::compare_name(wire, owner, wire.size(), false, name("test.")).equal);
    CHECK_FALSE(dns::compare_name(wire, owner, wire.size(), false, name("a.example.test.")).equal);
    CHECK_FALSE(dns::compare_name(wire, owner, wire.size(), false, {}).equal);
    const std::size_t mname = owner + 2 + 10;
    std::string text;
    CHECK(dns::decode_name(wire, mname, wire.size(), true, text).ok());
    CHECK(text == "ns1.example.test.");
    const auto skipped = dns::skip_name(wire, mname, wire.size(), true);
    CHECK(skipped.end == mname + name("ns1.example.test.").size());
    CHECK(dns::decode_name(wire, skipped.end, wire.size(), true, text).ok());
    CHECK(text == "hostmaster.Example.TEST.");
    const Bytes root{0};
    CHECK(dns::skip_name(root, 0, 1, false).root);
    // The errors are parse_message's: a name cut by its bound, a forward pointer.
    CHECK(dns::skip_name(wire, mname, mname + 3, true).error == dns::ParseError::bad_rdata);
    CHECK(dns::skip_name(wire, mname, mname + 3, false).error == dns::ParseError::too_short);
    const Bytes forward{0xc0, 0x05, 0, 0, 0, 0};
    CHECK(dns::skip_name(forward, 0, forward.size(), false).error ==
          dns::ParseError::pointer_out_of_range);
}
