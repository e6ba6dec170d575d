// Tests of the DNS wire format code against messages written out byte by byte, shaped like real
// answers of authoritative servers (offsets in the comments are from the message start).
#include "probes/dns_wire.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace dns = soawatch::dns;

namespace {

// "12 34 ab" -> {0x12, 0x34, 0xab}; spaces are ignored.
std::vector<uint8_t> hex(std::string_view text) {
    std::vector<uint8_t> out;
    int high = -1;
    for (char c : text) {
        if (c == ' ') continue;
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) FAIL("not a hex digit: " << c);
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<uint8_t>(high * 16 + v));
            high = -1;
        }
    }
    if (high >= 0) FAIL("odd number of hex digits in " << text);
    return out;
}

dns::ParseResult parse(const std::vector<uint8_t>& wire, std::size_t max_records = 4096) {
    return dns::parse_message(wire, max_records);
}

// example.com. SOA IN, the question of most messages below, at offset 12..28.
constexpr std::string_view question_example_soa =
    "07 6578616d706c65 03 636f6d 00"  // 12: example.com.
    "0006 0001";                      // 25: SOA IN

// The SOA RDATA numbers used below: serial 2024010101, refresh 7200, retry 3600,
// expire 1209600, minimum 300.
constexpr std::string_view soa_numbers = "78a3f175 00001c20 00000e10 00127500 0000012c";

std::string cat(std::initializer_list<std::string_view> parts) {
    std::string s;
    for (auto p : parts) s += p;
    return s;
}

}  // namespace

TEST_CASE("SOA answer with compressed owner, MNAME and RNAME", "[dns_wire]") {
    const auto wire = hex(cat({
        "1234 8400 0001 0001 0000 0000",  // id 0x1234, QR AA, 1 question, 1 answer
        question_example_soa,             // 12
        "c00c 0006 0001 00000e10 0027",   // 29: owner -> 12, SOA IN, TTL 3600, RDLENGTH 39
        "03 6e7331 c00c",                 // 41: ns1 + pointer to example.com.
        "0a 686f73746d6173746572 c00c",   // 47: hostmaster + pointer to example.com.
        soa_numbers,                      // 60..80
    }));
    REQUIRE(wire.size() == 80);
    const auto r = parse(wire);
    REQUIRE(r.ok());
    const auto& m = r.message;
    CHECK(m.header.id == 0x1234);
    CHECK(m.header.qr);
    CHECK(m.header.aa);
    CHECK_FALSE(m.header.tc);
    CHECK_FALSE(m.header.rd);
    CHECK(m.header.opcode == dns::opcode::QUERY);
    CHECK(m.header.rcode == dns::rcode::NOERROR);
    CHECK(m.header.qdcount == 1);
    CHECK(m.header.ancount == 1);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "example.com.");
    CHECK(m.questions[0].type == dns::rrtype::SOA);
    CHECK(m.questions[0].qclass == dns::class_IN);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.authority.empty());
    CHECK(m.additional.empty());
    CHECK_FALSE(m.edns_udp_size);
    const auto& rr = m.answers[0];
    CHECK(rr.owner == "example.com.");
    CHECK(rr.type == dns::rrtype::SOA);
    CHECK(rr.rclass == dns::class_IN);
    CHECK(rr.ttl == 3600);
    REQUIRE(rr.soa);
    CHECK(rr.soa->mname == "ns1.example.com.");
    CHECK(rr.soa->rname == "hostmaster.example.com.");
    CHECK(rr.soa->serial == 2024010101u);
    CHECK(rr.soa->refresh == 7200);
    CHECK(rr.soa->retry == 3600);
    CHECK(rr.soa->expire == 1209600);
    CHECK(rr.soa->minimum == 300);
    // Raw RDATA is kept as received, pointers and all.
    CHECK(rr.rdata == std::vector<uint8_t>(wire.begin() + 41, wire.end()));
    CHECK(rr.target.empty());
    CHECK(rr.address.empty());
}

TEST_CASE("SOA RNAME pointing into MNAME and a pointer to a pointer", "[dns_wire]") {
    const auto wire = hex(cat({
        "0001 8400 0001 0001 0000 0000",
        question_example_soa,            // 12
        "c00c 0006 0001 00000e10 001c",  // 29: RDLENGTH 28
        "03 6e7331 c00c",                // 41: ns1.example.com.
        "c02d",                          // 47: -> 45, which is itself a pointer -> 12
        soa_numbers,                     // 49..69
    }));
    const auto r = parse(wire);
    REQUIRE(r.ok());
    REQUIRE(r.message.answers[0].soa);
    CHECK(r.message.answers[0].soa->mname == "ns1.example.com.");
    CHECK(r.message.answers[0].soa->rname == "example.com.");
}

TEST_CASE("NS referral with A and AAAA glue", "[dns_wire]") {
    // www.example.com. A asked of a com server: no AA, NS in authority, glue in additional.
    const auto wire = hex(cat({
        "abcd 8000 0001 0000 0002 0002",  // QR only, 1 question, 2 authority, 2 additional
        "03 777777 07 6578616d706c65 03 636f6d 00",  // 12: www.example.com.
        "0001 0001",                                 // 29: A IN
        "c010 0002 0001 0002a300 0006",              // 33: example.com. NS IN 172800, RDLENGTH 6
        "03 6e7331 c010",                            // 45: ns1.example.com.
        "c010 0002 0001 0002a300 0011",              // 51: example.com. NS, RDLENGTH 17
        "03 6e7332 07 6578616d706c65 03 6e6574 00",  // 63: ns2.example.net.
        "c02d 0001 0001 0002a300 0004",              // 80: ns1.example.com. A
        "c0000201",                                  // 92: 192.0.2.1
        "c02d 001c 0001 0002a300 0010",              // 96: ns1.example.com. AAAA
        "20010db8000000000000000000000001"           // 108: 2001:db8::1
    }));
    REQUIRE(wire.size() == 124);
    const auto r = parse(wire);
    REQUIRE(r.ok());
    const auto& m = r.message;
    CHECK(m.header.id == 0xabcd);
    CHECK(m.header.qr);
    CHECK_FALSE(m.header.aa);
    CHECK(m.header.rcode == dns::rcode::NOERROR);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "www.example.com.");
    CHECK(m.answers.empty());
    REQUIRE(m.authority.size() == 2);
    CHECK(m.authority[0].owner == "example.com.");
    CHECK(m.authority[0].type == dns::rrtype::NS);
    CHECK(m.authority[0].ttl == 172800);
    CHECK(m.authority[0].target == "ns1.example.com.");
    CHECK(m.authority[1].owner == "example.com.");
    CHECK(m.authority[1].target == "ns2.example.net.");
    REQUIRE(m.additional.size() == 2);
    CHECK(m.additional[0].owner == "ns1.example.com.");
    CHECK(m.additional[0].type == dns::rrtype::A);
    CHECK(m.additional[0].address == "192.0.2.1");
    CHECK(m.additional[0].rdata == hex("c0000201"));
    CHECK(m.additional[1].owner == "ns1.example.com.");
    CHECK(m.additional[1].type == dns::rrtype::AAAA);
    CHECK(m.additional[1].address == "2001:db8::1");
    CHECK(m.additional[1].rdata.size() == 16);
}

TEST_CASE("REFUSED answer with only the question", "[dns_wire]") {
    const auto r = parse(hex(cat({"1234 8005 0001 0000 0000 0000", question_example_soa})));
    REQUIRE(r.ok());
    CHECK(r.message.header.rcode == dns::rcode::REFUSED);
    CHECK_FALSE(r.message.header.aa);
    CHECK(dns::rcode_name(r.message.header.rcode) == "REFUSED");
    CHECK(r.message.questions.size() == 1);
    CHECK(r.message.answers.empty());
}

TEST_CASE("NXDOMAIN with the zone's SOA in authority", "[dns_wire]") {
    const auto wire = hex(cat({
        "0777 8403 0001 0000 0001 0000",               // QR AA NXDOMAIN, 1 authority
        "04 6e6f7065 07 6578616d706c65 03 636f6d 00",  // 12: nope.example.com.
        "0006 0001",                                   // 30: SOA IN
        "c011 0006 0001 0000012c 0027",                // 34: example.com. SOA, TTL 300
        "03 6e7331 c011",                              // 46: ns1.example.com.
        "0a 686f73746d6173746572 c011",                // 52: hostmaster.example.com.
        soa_numbers,
    }));
    const auto r = parse(wire);
    REQUIRE(r.ok());
    const auto& m = r.message;
    CHECK(m.header.rcode == dns::rcode::NXDOMAIN);
    CHECK(m.questions[0].name == "nope.example.com.");
    CHECK(m.answers.empty());
    REQUIRE(m.authority.size() == 1);
    CHECK(m.authority[0].owner == "example.com.");
    CHECK(m.authority[0].ttl == 300);
    REQUIRE(m.authority[0].soa);
    CHECK(m.authority[0].soa->mname == "ns1.example.com.");
    CHECK(m.authority[0].soa->serial == 2024010101u);
}

TEST_CASE("EDNS OPT record: UDP size and extended rcode", "[dns_wire]") {
    SECTION("BADVERS: extended rcode 1, header rcode 0") {
        const auto r = parse(hex(cat({
            "1234 8400 0001 0000 0000 0001", question_example_soa,
            "00 0029 04d0 01000000 0000",  // 29: root OPT, size 1232, ext rcode 1, RDLENGTH 0
        })));
        REQUIRE(r.ok());
        CHECK(r.message.header.rcode == 16);
        CHECK(dns::rcode_name(r.message.header.rcode) == "BADVERS");
        REQUIRE(r.message.edns_udp_size);
        CHECK(*r.message.edns_udp_size == 1232);
        REQUIRE(r.message.additional.size() == 1);
        CHECK(r.message.additional[0].owner == ".");
        CHECK(r.message.additional[0].type == dns::rrtype::OPT);
        CHECK(r.message.additional[0].rclass == 1232);
        CHECK(r.message.additional[0].rdata.empty());
    }
    SECTION("both halves of the rcode: (1 << 4) | 7 = 23") {
        const auto r = parse(hex(cat({
            "1234 8407 0001 0000 0000 0001", question_example_soa,
            "00 0029 1000 01008000 0000",  // size 4096, ext rcode 1, DO bit
        })));
        REQUIRE(r.ok());
        CHECK(r.message.header.rcode == 23);
        CHECK(dns::rcode_name(23) == "RCODE23");
        CHECK(*r.message.edns_udp_size == 4096);
    }
    SECTION("an option in the OPT RDATA is kept raw") {
        const auto r = parse(hex(cat({
            "1234 8400 0001 0000 0000 0001", question_example_soa,
            "00 0029 04d0 00000000 0008 000a 0004 01020304",  // COOKIE-ish option
        })));
        REQUIRE(r.ok());
        CHECK(r.message.header.rcode == 0);
        CHECK(r.message.additional[0].rdata == hex("000a 0004 01020304"));
    }
    SECTION("the first OPT counts; an OPT outside additional is only a record") {
        const auto r = parse(hex(cat({
            "1234 8400 0001 0001 0000 0002", question_example_soa,
            "00 0029 0200 0f000000 0000",  // 29: in the answer section: ignored
            "00 0029 04d0 00000000 0000",  // 40: first in additional: used
            "00 0029 1000 01000000 0000",  // 51: second: kept, not used
        })));
        REQUIRE(r.ok());
        CHECK(r.message.header.rcode == 0);
        CHECK(*r.message.edns_udp_size == 1232);
        CHECK(r.message.answers.size() == 1);
        CHECK(r.message.additional.size() == 2);
    }
    SECTION("an OPT with a non-root owner is not EDNS") {
        const auto r = parse(hex(cat({
            "1234 8400 0001 0000 0000 0001",
            question_example_soa,
            "c00c 0029 04d0 01000000 0000",
        })));
        REQUIRE(r.ok());
        CHECK(r.message.header.rcode == 0);
        CHECK_FALSE(r.message.edns_udp_size);
    }
}

TEST_CASE("EDNS EXPIRE option (RFC 7314) in answers", "[dns_wire]") {
    const auto with_opt_rdata = [](std::string_view rdlength_and_options) {
        return parse(hex(cat({"1234 8400 0001 0000 0000 0001", question_example_soa,
                              "00 0029 04d0 00000000", rdlength_and_options})));
    };
    SECTION("the value of a 4-byte EXPIRE option, after another option") {
        const auto r = with_opt_rdata("0010 000a 0004 01020304 0009 0004 00015180");
        REQUIRE(r.ok());
        REQUIRE(r.message.edns_expire);
        CHECK(*r.message.edns_expire == 86400u);
    }
    SECTION("zero is a value: the zone expires now") {
        const auto r = with_opt_rdata("0008 0009 0004 00000000");
        REQUIRE(r.ok());
        CHECK(r.message.edns_expire == 0u);
    }
    SECTION("no option, an empty EXPIRE (an echo of the query's), a wrong length: none") {
        CHECK_FALSE(with_opt_rdata("0000").message.edns_expire);
        CHECK_FALSE(with_opt_rdata("0004 0009 0000").message.edns_expire);
        CHECK_FALSE(with_opt_rdata("0006 0009 0002 0102").message.edns_expire);
    }
    SECTION("an option running past the RDATA costs the option, not the answer") {
        const auto r = with_opt_rdata("0006 0009 0004 0102");
        REQUIRE(r.ok());
        CHECK(*r.message.edns_udp_size == 1232);
        CHECK_FALSE(r.message.edns_expire);
        CHECK_FALSE(with_opt_rdata("0003 000900").message.edns_expire);
    }
}

TEST_CASE("NSID option (RFC 5001) in answers", "[dns_wire]") {
    const auto with_opt_rdata = [](std::string_view rdlength_and_options) {
        return parse(hex(cat({"1234 8400 0001 0000 0000 0001", question_example_soa,
                              "00 0029 04d0 00000000", rdlength_and_options})));
    };
    SECTION("the octets as received, beside an EXPIRE option") {
        const auto r = with_opt_rdata("0010 0009 0004 00015180 0003 0004 6b6e6f74");
        REQUIRE(r.ok());
        REQUIRE(r.message.edns_nsid);
        CHECK(*r.message.edns_nsid == "knot");
        CHECK(r.message.edns_expire == 86400u);
    }
    SECTION("binary octets stay as they are") {
        const auto r = with_opt_rdata("0007 0003 0003 00ff0a");
        REQUIRE(r.message.edns_nsid);
        CHECK(*r.message.edns_nsid == std::string("\x00\xff\x0a", 3));
    }
    SECTION("an empty NSID (a server without an identity) is present and empty") {
        const auto r = with_opt_rdata("0004 0003 0000");
        REQUIRE(r.message.edns_nsid);
        CHECK(r.message.edns_nsid->empty());
    }
    SECTION("none without the option") {
        CHECK_FALSE(with_opt_rdata("0000").message.edns_nsid);
        CHECK_FALSE(with_opt_rdata("0008 0009 0004 00015180").message.edns_nsid);
    }
    SECTION("an option running past the RDATA is dropped, the answer kept") {
        const auto r = with_opt_rdata("0007 0003 0010 6b6e6f");
        REQUIRE(r.ok());
        CHECK(*r.message.edns_udp_size == 1232);
        CHECK_FALSE(r.message.edns_nsid);
        // One that ends cleanly before the broken one is kept.
        const auto kept = with_opt_rdata("000b 0003 0001 61 0009 0004 0102");
        REQUIRE(kept.ok());
        CHECK(kept.message.edns_nsid == "a");
        CHECK_FALSE(kept.message.edns_expire);
    }
    SECTION("a long NSID keeps its first kMaxNsidOctets octets") {
        std::string options = "0003 012c";
        for (int i = 0; i < 300; ++i) options += "78";
        const auto r = with_opt_rdata("0130 " + options);
        REQUIRE(r.ok());
        REQUIRE(r.message.edns_nsid);
        CHECK(*r.message.edns_nsid == std::string(dns::kMaxNsidOctets, 'x'));
    }
    SECTION("the first of two NSID options counts") {
        CHECK(with_opt_rdata("000a 0003 0001 61 0003 0001 62").message.edns_nsid == "a");
    }
}

TEST_CASE("TC bit and the other header flags", "[dns_wire]") {
    SECTION("TC set") {
        const auto r = parse(hex(cat({"1234 8600 0001 0000 0000 0000", question_example_soa})));
        REQUIRE(r.ok());
        CHECK(r.message.header.tc);
        CHECK(r.message.header.aa);
        CHECK(r.message.header.qr);
    }
    SECTION("every flag set, opcode 15, rcode 15") {
        const auto r = parse(hex("ffff ffbf 0000 0000 0000 0000"));
        REQUIRE(r.ok());
        const auto& h = r.message.header;
        CHECK(h.id == 0xffff);
        CHECK(h.qr);
        CHECK(h.opcode == 15);
        CHECK(h.aa);
        CHECK(h.tc);
        CHECK(h.rd);
        CHECK(h.ra);
        CHECK(h.ad);
        CHECK(h.cd);
        CHECK(h.rcode == 15);
    }
    SECTION("no flag set") {
        const auto r = parse(hex("0000 0000 0000 0000 0000 0000"));
        REQUIRE(r.ok());
        const auto& h = r.message.header;
        CHECK_FALSE((h.qr || h.aa || h.tc || h.rd || h.ra || h.ad || h.cd));
        CHECK(h.opcode == 0);
        CHECK(h.rcode == 0);
    }
}

TEST_CASE("other record shapes", "[dns_wire]") {
    SECTION("CNAME target") {
        const auto r = parse(hex(cat({
            "0001 8400 0001 0001 0000 0000",
            "03 777777 07 6578616d706c65 03 636f6d 00 0001 0001",  // 12: www.example.com. A
            "c00c 0005 0001 0000003c 0002 c010",                   // 33: CNAME example.com.
        })));
        REQUIRE(r.ok());
        CHECK(r.message.answers[0].owner == "www.example.com.");
        CHECK(r.message.answers[0].target == "example.com.");
    }
    SECTION("unknown type (TXT) keeps raw RDATA only") {
        const auto r = parse(hex(cat({
            "0001 8400 0001 0001 0000 0000", question_example_soa,
            "c00c 0010 0001 0000003c 0006 05 68656c6c6f",  // TXT "hello"
        })));
        REQUIRE(r.ok());
        const auto& rr = r.message.answers[0];
        CHECK(rr.type == 16);
        CHECK(rr.rdata == hex("05 68656c6c6f"));
        CHECK_FALSE(rr.soa);
        CHECK(rr.target.empty());
        CHECK(rr.address.empty());
    }
    SECTION("an A record of class CH is not an IPv4 address") {
        const auto r = parse(hex(cat({
            "0001 8400 0001 0001 0000 0000",
            question_example_soa,
            "c00c 0001 0003 00000000 0002 0102",
        })));
        REQUIRE(r.ok());
        CHECK(r.message.answers[0].address.empty());
        CHECK(r.message.answers[0].rdata == hex("0102"));
    }
    SECTION("root owner, empty RDATA, several questions, trailing bytes ignored") {
        const auto r = parse(hex(cat({
            "0001 8400 0002 0001 0000 0000", question_example_soa,
            "00 0002 0001",                // 29: . NS IN
            "00 00ff 0001 00000000 0000",  // 34: . type 255, RDLENGTH 0
            "deadbeef",                    // junk after the last counted record
        })));
        REQUIRE(r.ok());
        REQUIRE(r.message.questions.size() == 2);
        CHECK(r.message.questions[1].name == ".");
        CHECK(r.message.answers[0].owner == ".");
        CHECK(r.message.answers[0].rdata.empty());
    }
}

TEST_CASE("malformed header and counts", "[dns_wire]") {
    SECTION("empty and 11-byte messages") {
        auto r = parse({});
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 0);
        r = parse(hex("1234 8400 0001 0001 0000 00"));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 0);
        CHECK_FALSE(r.ok());
    }
    SECTION("a question counted but absent") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000"));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 12);
    }
    SECTION("a question cut inside its type") {
        const auto r =
            parse(hex("1234 8400 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 00"));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 25);
    }
    SECTION("a label longer than the rest of the message") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 07 657861"));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 12);
    }
    SECTION("a name without its root label") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 03 636f6d"));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 16);
    }
    SECTION("an answer counted but absent") {
        const auto r = parse(hex(cat({"1234 8400 0001 0001 0000 0000", question_example_soa})));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 29);
        CHECK(r.message.questions.size() == 1);  // what was parsed stays
    }
    SECTION("additional counted but absent") {
        const auto r = parse(hex(cat({"1234 8400 0001 0000 0000 0003", question_example_soa})));
        CHECK(r.error == dns::ParseError::too_short);
    }
    SECTION("a record cut inside its fixed part") {
        const auto r = parse(hex(
            cat({"1234 8400 0001 0001 0000 0000", question_example_soa, "c00c 0006 0001 0000"})));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 31);
    }
    SECTION("a pointer cut in half") {
        const auto r =
            parse(hex(cat({"1234 8400 0001 0001 0000 0000", question_example_soa, "c0"})));
        CHECK(r.error == dns::ParseError::too_short);
        CHECK(r.error_offset == 29);
    }
}

TEST_CASE("compression pointer attacks", "[dns_wire]") {
    SECTION("a pointer to itself") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 c00c 0006 0001"));
        CHECK(r.error == dns::ParseError::pointer_loop);
        CHECK(r.error_offset == 12);
    }
    SECTION("a pointer to the start of its own name") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 01 61 c00c 0006 0001"));
        CHECK(r.error == dns::ParseError::pointer_loop);
        CHECK(r.error_offset == 14);
    }
    SECTION("two pointers pointing at each other") {
        // The TXT RDATA at 41 holds a pointer to 43; the next owner at 43 points to 41.
        const auto r = parse(hex(cat({
            "1234 8400 0001 0002 0000 0000", question_example_soa,
            "c00c 0010 0001 00000000 0002",           // 29: TXT, RDLENGTH 2
            "c02b",                                   // 41: -> 43 (raw RDATA, not read as a name)
            "c029 0001 0001 00000000 0004 7f000001",  // 43: owner -> 41 -> 43 ...
        })));
        CHECK(r.error == dns::ParseError::pointer_loop);
        CHECK(r.error_offset == 41);
    }
    SECTION("a forward pointer") {
        const auto r = parse(hex(cat({
            "1234 8400 0001 0000 0000 0000",
            "c00e 07 6578616d706c65 03 636f6d 00 0006 0001",  // 12: -> 14, after itself
        })));
        CHECK(r.error == dns::ParseError::pointer_out_of_range);
        CHECK(r.error_offset == 12);
    }
    SECTION("a pointer past the end of the message") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 ffff 0006 0001"));
        CHECK(r.error == dns::ParseError::pointer_out_of_range);
        CHECK(r.error_offset == 12);
    }
    SECTION("a pointer into the header is fine if it reads a name there") {
        // The header's bytes 4.. are 00 01: a root label, so the name is ".".
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 c004 0006 0001"));
        REQUIRE(r.ok());
        CHECK(r.message.questions[0].name == ".");
    }
    SECTION("a chain of backward pointers: 128 hops pass, 129 fail") {
        for (const int hops : {128, 129}) {
            // Question ". SOA IN" at 12, then a TXT record whose RDATA is a chain of pointers,
            // each to the one before; the last owner points at the end of the chain.
            std::vector<uint8_t> w = hex("1234 8400 0001 0002 0000 0000 00 0006 0001");
            const std::size_t rdlength = 2 * static_cast<std::size_t>(hops - 1);
            const auto txt = hex("00 0010 0001 00000000");
            w.insert(w.end(), txt.begin(), txt.end());
            w.push_back(static_cast<uint8_t>(rdlength >> 8));
            w.push_back(static_cast<uint8_t>(rdlength & 0xff));
            std::size_t previous = 12;  // the root label of the question
            for (int i = 0; i < hops - 1; ++i) {
                const std::size_t here = w.size();
                w.push_back(static_cast<uint8_t>(0xc0 | (previous >> 8)));
                w.push_back(static_cast<uint8_t>(previous & 0xff));
                previous = here;
            }
            w.push_back(static_cast<uint8_t>(0xc0 | (previous >> 8)));  // hop number `hops`
            w.push_back(static_cast<uint8_t>(previous & 0xff));
            const auto tail = hex("0001 0001 00000000 0004 7f000001");
            w.insert(w.end(), tail.begin(), tail.end());
            const auto r = parse(w);
            if (hops == 128) {
                REQUIRE(r.ok());
                CHECK(r.message.answers[1].owner == ".");
            } else {
                CHECK(r.error == dns::ParseError::pointer_loop);
            }
        }
    }
}

TEST_CASE("bad labels and long names", "[dns_wire]") {
    SECTION("label type 0x40 (extended label)") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 41 00 0006 0001"));
        CHECK(r.error == dns::ParseError::bad_label);
        CHECK(r.error_offset == 12);
    }
    SECTION("label type 0x80 (reserved), after a normal label") {
        const auto r = parse(hex("1234 8400 0001 0000 0000 0000 01 61 80 00 0006 0001"));
        CHECK(r.error == dns::ParseError::bad_label);
        CHECK(r.error_offset == 14);
    }
    // Question name of labels of the given lengths (filled with 'a'), then SOA IN.
    auto with_labels = [](std::initializer_list<int> lengths) {
        std::vector<uint8_t> w = hex("1234 8400 0001 0000 0000 0000");
        for (int len : lengths) {
            w.push_back(static_cast<uint8_t>(len));
            w.insert(w.end(), static_cast<std::size_t>(len), 'a');
        }
        const auto tail = hex("00 0006 0001");
        w.insert(w.end(), tail.begin(), tail.end());
        return w;
    };
    SECTION("a name of 255 octets is accepted") {
        const auto r = parse(with_labels({63, 63, 63, 61}));  // 64 + 64 + 64 + 62 + 1
        REQUIRE(r.ok());
        CHECK(r.message.questions[0].name.size() == 254);  // 63+1 + 63+1 + 63+1 + 61+1
    }
    SECTION("a name of 256 octets is rejected") {
        const auto r = parse(with_labels({63, 63, 63, 62}));
        CHECK(r.error == dns::ParseError::name_too_long);
        CHECK(r.error_offset == 12 + 3 * 64);
    }
    SECTION("a name over 255 octets made of pointers") {
        // Question ". SOA IN" at 12; a TXT record whose RDATA (at 28) holds 63 x 'a' + root,
        // then three times 63 x 'b' + a pointer to the label before; a second owner points at
        // the last one: 4 x 64 + 1 = 257 octets. Each piece alone is a valid name.
        std::vector<uint8_t> w = hex("1234 8400 0001 0002 0000 0000 00 0006 0001");
        const auto txt = hex("00 0010 0001 00000000 00ff");  // RDLENGTH 65 + 3 x 66, set below
        w.insert(w.end(), txt.begin(), txt.end());
        REQUIRE(w.size() == 28);
        w.push_back(63);
        w.insert(w.end(), 63, 'a');
        w.push_back(0);
        std::size_t previous = 28;
        for (int i = 0; i < 3; ++i) {
            const std::size_t here = w.size();
            w.push_back(63);
            w.insert(w.end(), 63, 'b');
            w.push_back(static_cast<uint8_t>(0xc0 | (previous >> 8)));
            w.push_back(static_cast<uint8_t>(previous & 0xff));
            previous = here;
        }
        w[26] = static_cast<uint8_t>((w.size() - 28) >> 8);
        w[27] = static_cast<uint8_t>((w.size() - 28) & 0xff);
        const std::size_t owner_at = w.size();
        w.push_back(static_cast<uint8_t>(0xc0 | (previous >> 8)));
        w.push_back(static_cast<uint8_t>(previous & 0xff));
        const auto tail = hex("0001 0001 00000000 0004 7f000001");
        w.insert(w.end(), tail.begin(), tail.end());
        const auto r = parse(w);
        CHECK(r.error == dns::ParseError::name_too_long);
        CHECK(r.error_offset == 28);           // the fourth label, reached through three pointers
        CHECK(r.message.answers.size() == 1);  // only whole records are kept
        CHECK(owner_at > 255);
    }
}

TEST_CASE("RDATA errors", "[dns_wire]") {
    const std::string prefix = cat({"1234 8400 0001 0001 0000 0000", question_example_soa});
    SECTION("RDLENGTH past the end of the message") {
        const auto r = parse(hex(cat({prefix, "c00c 0001 0001 00000e10 00ff c0000201"})));
        CHECK(r.error == dns::ParseError::rdata_overflow);
        CHECK(r.error_offset == 39);
    }
    SECTION("RDLENGTH one past the end") {
        const auto r = parse(hex(cat({prefix, "c00c 0001 0001 00000e10 0005 c0000201"})));
        CHECK(r.error == dns::ParseError::rdata_overflow);
    }
    SECTION("SOA RDATA one byte short") {
        const auto r = parse(hex(cat({
            prefix, "c00c 0006 0001 00000e10 0026",  // RDLENGTH 38
            "03 6e7331 c00c 0a 686f73746d6173746572 c00c",
            "78a3f175 00001c20 00000e10 00127500 000001",  // MINIMUM cut to 3 bytes
        })));
        CHECK(r.error == dns::ParseError::bad_rdata);
        CHECK(r.error_offset == 60);
    }
    SECTION("SOA RDATA one byte long") {
        const auto r = parse(hex(cat({
            prefix,
            "c00c 0006 0001 00000e10 0028",  // RDLENGTH 40
            "03 6e7331 c00c 0a 686f73746d6173746572 c00c",
            soa_numbers,
            "00",
        })));
        CHECK(r.error == dns::ParseError::bad_rdata);
    }
    SECTION("SOA MNAME running past RDLENGTH") {
        const auto r = parse(hex(cat({
            prefix,
            "c00c 0006 0001 00000e10 0003",  // RDLENGTH 3 but the name is longer
            "03 6e7331 c00c 0a 686f73746d6173746572 c00c",
            soa_numbers,
        })));
        CHECK(r.error == dns::ParseError::bad_rdata);
        CHECK(r.error_offset == 41);
    }
    SECTION("SOA with RDLENGTH 0") {
        const auto r = parse(hex(cat({prefix, "c00c 0006 0001 00000e10 0000"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
    }
    SECTION("SOA MNAME with a forward pointer") {
        const auto r = parse(hex(cat({
            prefix, "c00c 0006 0001 00000e10 0027", "03 6e7331 c02f 0a 686f73746d6173746572 c00c",
            soa_numbers,  // 45: -> 47
        })));
        CHECK(r.error == dns::ParseError::pointer_out_of_range);
        CHECK(r.error_offset == 45);
    }
    SECTION("A with 5 bytes") {
        const auto r = parse(hex(cat({prefix, "c00c 0001 0001 00000e10 0005 c000020100"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
        CHECK(r.error_offset == 41);
    }
    SECTION("A with 3 bytes") {
        const auto r = parse(hex(cat({prefix, "c00c 0001 0001 00000e10 0003 c00002"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
    }
    SECTION("AAAA with 4 bytes") {
        const auto r = parse(hex(cat({prefix, "c00c 001c 0001 00000e10 0004 c0000201"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
    }
    SECTION("NS with a byte after the name") {
        const auto r = parse(hex(cat({prefix, "c00c 0002 0001 00000e10 0003 c00c 00"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
        CHECK(r.error_offset == 43);
    }
    SECTION("CNAME with empty RDATA") {
        const auto r = parse(hex(cat({prefix, "c00c 0005 0001 00000e10 0000"})));
        CHECK(r.error == dns::ParseError::bad_rdata);
    }
}

TEST_CASE("record count cap", "[dns_wire]") {
    const auto wire = hex(cat({
        "1234 8400 0001 0001 0000 0001", question_example_soa,
        "c00c 0001 0001 00000e10 0004 c0000201",  // 29
        "c00c 0001 0001 00000e10 0004 c0000202",  // 45
    }));
    CHECK(parse(wire).ok());
    CHECK(parse(wire, 3).ok());
    const auto r = parse(wire, 2);
    CHECK(r.error == dns::ParseError::too_many_records);
    CHECK(r.error_offset == 4);
    SECTION("hostile counts are refused before anything is read") {
        const auto big = parse(hex("1234 8400 ffff ffff ffff ffff"));
        CHECK(big.error == dns::ParseError::too_many_records);
        CHECK(big.message.questions.capacity() == 0);
    }
    SECTION("counts under the cap but beyond the data") {
        const auto r2 = parse(hex("1234 8400 0000 0fff 0000 0000"));
        CHECK(r2.error == dns::ParseError::too_short);
    }
}

TEST_CASE("build_query", "[dns_wire]") {
    SECTION("plain RFC 1035 query, RD clear") {
        const auto q = dns::build_query(0x4242, "example.com", dns::rrtype::SOA, false);
        CHECK(q == hex(cat({"4242 0000 0001 0000 0000 0000", question_example_soa})));
        const auto r = dns::parse_message(q);
        REQUIRE(r.ok());
        const auto& h = r.message.header;
        CHECK(h.id == 0x4242);
        CHECK_FALSE(h.qr);
        CHECK_FALSE(h.rd);
        CHECK(h.opcode == dns::opcode::QUERY);
        CHECK(h.arcount == 0);
        REQUIRE(r.message.questions.size() == 1);
        CHECK(r.message.questions[0].name == "example.com.");
        CHECK(r.message.questions[0].type == dns::rrtype::SOA);
        CHECK(r.message.questions[0].qclass == dns::class_IN);
        CHECK_FALSE(r.message.edns_udp_size);
    }
    SECTION("EDNS query with RD set") {
        const auto q = dns::build_query(7, "Example.COM.", dns::rrtype::NS, true, 1232);
        CHECK(q == hex("0007 0100 0001 0000 0000 0001"
                       "07 4578616d706c65 03 434f4d 00 0002 0001"
                       "00 0029 04d0 00000000 0000"));
        const auto r = dns::parse_message(q);
        REQUIRE(r.ok());
        CHECK(r.message.header.rd);
        CHECK(r.message.questions[0].name == "Example.COM.");  // case kept
        CHECK(r.message.questions[0].type == dns::rrtype::NS);
        REQUIRE(r.message.edns_udp_size);
        CHECK(*r.message.edns_udp_size == 1232);
        REQUIRE(r.message.additional.size() == 1);
        CHECK(r.message.additional[0].type == dns::rrtype::OPT);
        CHECK(r.message.additional[0].ttl == 0);
    }
    SECTION("EDNS query with an empty EXPIRE option (RFC 7314 2)") {
        const auto q = dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 1232, true);
        CHECK(q == hex("0009 0000 0001 0000 0000 0001"
                       "01 61 04 74657374 00 0006 0001"
                       "00 0029 04d0 00000000 0004 0009 0000"));
        REQUIRE(dns::parse_message(q).ok());
    }
    SECTION("EDNS query with EXPIRE and an empty NSID option (RFC 5001 2.1)") {
        const auto q = dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 1232, true, true);
        CHECK(q == hex("0009 0000 0001 0000 0000 0001"
                       "01 61 04 74657374 00 0006 0001"
                       "00 0029 04d0 00000000 0008 0009 0000 0003 0000"));
        REQUIRE(dns::parse_message(q).ok());
        CHECK(dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 1232, false, true) ==
              hex("0009 0000 0001 0000 0000 0001"
                  "01 61 04 74657374 00 0006 0001"
                  "00 0029 04d0 00000000 0004 0003 0000"));
    }
    SECTION("no NSID option without EDNS") {
        CHECK(dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 0, true, true) ==
              dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 0));
    }
    SECTION("no EXPIRE option without EDNS") {
        CHECK(dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 0, true) ==
              dns::build_query(9, "a.test.", dns::rrtype::SOA, false, 0));
    }
    SECTION("root") {
        CHECK(dns::build_query(1, ".", dns::rrtype::NS, false) ==
              hex("0001 0000 0001 0000 0000 0000 00 0002 0001"));
    }
    SECTION("invalid names give an empty query") {
        CHECK(dns::build_query(1, "", dns::rrtype::SOA, false).empty());
        CHECK(dns::build_query(1, "a..b", dns::rrtype::SOA, false).empty());
        CHECK(dns::build_query(1, std::string(64, 'a') + ".test", dns::rrtype::SOA, false).empty());
        CHECK(dns::build_query(1, "bad\\", dns::rrtype::SOA, false).empty());
    }
}

TEST_CASE("escaped names round-trip through encode_name and parsing", "[dns_wire]") {
    struct Case {
        std::string typed;         // as a user would write it
        std::string wire;          // its wire form
        std::string presentation;  // as the parser writes it back
    };
    const std::vector<Case> cases = {
        {"a\\.b.test.", "03 612e62 04 74657374 00", "a\\.b.test."},
        {"\\000.test.", "01 00 04 74657374 00", "\\000.test."},
        {"<script>.test.", "08 3c7363726970743e 04 74657374 00", "\\<script\\>.test."},
        {"back\\\\slash.test", "0a 6261636b5c736c617368 04 74657374 00", "back\\\\slash.test."},
        {"sp\\032ace\\255.test", "07 7370206163 65ff 04 74657374 00", "sp\\032ace\\255.test."},
        {"q\\\"\\(\\)\\;\\@\\$.test", "07 71 2228293b4024 04 74657374 00",
         "q\\\"\\(\\)\\;\\@\\$.test."},
        {"_dmarc.*.x-y.test", "06 5f646d617263 01 2a 03 782d79 04 74657374 00",
         "_dmarc.*.x-y.test."},
        {"\\065\\066c.TEST", "03 414263 04 54455354 00", "ABc.TEST."},
        {"\\x.test", "01 78 04 74657374 00", "x.test."},
    };
    for (const auto& c : cases) {
        INFO(c.typed);
        const auto encoded = dns::encode_name(c.typed);
        CHECK(encoded == hex(c.wire));
        CHECK(dns::validate_name(c.typed).empty());
        const auto q = dns::build_query(1, c.typed, dns::rrtype::SOA, false);
        const auto r = dns::parse_message(q);
        REQUIRE(r.ok());
        CHECK(r.message.questions[0].name == c.presentation);
        CHECK(dns::encode_name(c.presentation) == encoded);
        CHECK(dns::names_equal(c.typed, c.presentation));
    }
}

TEST_CASE("encode_name", "[dns_wire]") {
    CHECK(dns::encode_name("example.com.") == hex("07 6578616d706c65 03 636f6d 00"));
    CHECK(dns::encode_name("example.com") == hex("07 6578616d706c65 03 636f6d 00"));
    CHECK(dns::encode_name(".") == hex("00"));
    CHECK(dns::encode_name("").empty());
    CHECK(dns::encode_name("..").empty());
    CHECK(dns::encode_name(".com").empty());
    CHECK(dns::encode_name("com..").empty());
    CHECK(dns::encode_name("\\256.test").empty());
    CHECK(dns::encode_name("\\12.test").empty());
    CHECK(dns::encode_name("\\1").empty());
    CHECK(dns::encode_name("test\\").empty());
}

TEST_CASE("encode_name: names without escapes are copied label by label, as escaped ones",
          "[dns_wire]") {
    // The same name typed plainly and with escapes (the token-by-token path): the same octets.
    CHECK(dns::encode_name("example.com.") == dns::encode_name("ex\\097mple.\\099om."));
    CHECK(dns::encode_name("a-b_c.*.x") == dns::encode_name("a\\-b\\_c.\\*.x"));
    const std::string l63(63, 'a');
    const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    CHECK(dns::encode_name(longest).size() == 255);
    CHECK(dns::encode_name(longest + ".").size() == 255);
    CHECK(dns::encode_name(longest + "b").empty());
    CHECK(dns::encode_name(l63 + ".test").size() == 70);
    CHECK(dns::encode_name(l63 + "a.test").empty());
    CHECK(dns::encode_name("a.b..").empty());
    // A build that fails leaves nothing behind: the query is empty, not a partial name.
    CHECK(dns::build_query(1, "ok." + std::string(64, 'x'), dns::rrtype::SOA, false).empty());
}

TEST_CASE("validate_name", "[dns_wire]") {
    SECTION("valid names") {
        for (const char* ok : {".", "example.com", "example.com.", "a", "_dmarc.example.com",
                               "*.example.com", "xn--bcher-kva.example", "a\\.b.c"})
            CHECK(dns::validate_name(ok).empty());
        CHECK(dns::validate_name(std::string(63, 'a') + ".test").empty());
        // 63+1 + 63+1 + 63+1 + 61+1 + root = 255 octets
        const std::string l63(63, 'a');
        CHECK(dns::validate_name(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b')).empty());
        CHECK(dns::validate_name(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b') + ".")
                  .empty());
    }
    SECTION("the reasons") {
        CHECK(dns::validate_name("") == "empty name");
        CHECK(dns::validate_name("a..b") == "empty label at offset 2");
        CHECK(dns::validate_name(".a") == "empty label at offset 0");
        CHECK(dns::validate_name("a.b..") == "empty label at offset 4");
        CHECK(dns::validate_name(std::string(64, 'a') + ".test") ==
              "label longer than 63 octets at offset 63");
        const std::string l63(63, 'a');
        CHECK(dns::validate_name(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b')) ==
              "name longer than 255 octets in wire form");
        CHECK(dns::validate_name(std::string(1000, 'a') + "." + std::string(1000, 'b')) ==
              "label longer than 63 octets at offset 63");
        std::string many;
        for (int i = 0; i < 200; ++i) many += "a.";
        CHECK(dns::validate_name(many) == "name longer than 255 octets in wire form");
        CHECK(dns::validate_name("a\\256") == "bad escape at offset 1 (use \\DDD or \\X)");
        CHECK(dns::validate_name("a\\") == "bad escape at offset 1 (use \\DDD or \\X)");
        CHECK(dns::validate_name("\\12x") == "bad escape at offset 0 (use \\DDD or \\X)");
    }
}

TEST_CASE("canonical_name and names_equal", "[dns_wire]") {
    SECTION("canonical_name") {
        CHECK(dns::canonical_name("Example.COM") == "example.com.");
        CHECK(dns::canonical_name("example.com.") == "example.com.");
        CHECK(dns::canonical_name("example.com..") == "example.com.");
        CHECK(dns::canonical_name("") == ".");
        CHECK(dns::canonical_name(".") == ".");
        CHECK(dns::canonical_name("\\065bc.Test") == "abc.test.");
        CHECK(dns::canonical_name("A\\.B.") == "a\\.b.");
        CHECK(dns::canonical_name("a\\..") == "a\\..");  // the escaped dot is part of the label
        CHECK(dns::canonical_name("a\\\\.") == "a\\\\.");
        CHECK(dns::canonical_name("<x>.test") == "\\<x\\>.test.");
        CHECK(dns::canonical_name("\\196\\200.test") == "\\196\\200.test.");  // not ASCII
        CHECK(dns::canonical_name("\\/") == "\\/.");
        CHECK(dns::canonical_name("\\047") == "\\/.");
        // Names without an escape (the fast path) keep every label byte, inner dots included.
        CHECK(dns::canonical_name("NS1.*.Ex_Ample-1.TEST..") == "ns1.*.ex_ample-1.test.");
        CHECK(dns::canonical_name("a..b") == "a..b.");
        CHECK(dns::canonical_name(".a") == ".a.");
    }
    SECTION("make_canonical gives canonical_name's result, in place") {
        for (const char* name : {"NS1.Example.COM.", ".", "", "Example.COM", "example.com..",
                                 "\\065bc.Test.", "A\\.B.", "<x>.test.", "\\196\\200.test."}) {
            std::string in_place = name;
            dns::make_canonical(in_place);
            CHECK(in_place == dns::canonical_name(name));
        }
    }
    SECTION("names_equal") {
        CHECK(dns::names_equal("example.com", "EXAMPLE.COM."));
        CHECK(dns::names_equal("Example.Com.", "example.com"));
        CHECK(dns::names_equal(".", ""));
        CHECK_FALSE(dns::names_equal("a.example.com", "example.com"));
        CHECK_FALSE(dns::names_equal("example.com", "example.co"));
        CHECK(dns::names_equal("\\065.test", "a.TEST."));
        CHECK(dns::names_equal("\\<script\\>.test.", "<SCRIPT>.test"));
        CHECK_FALSE(dns::names_equal("a\\.b.test", "a.b.test"));
        CHECK_FALSE(dns::names_equal("\\196.test", "\\228.test"));  // no case folding > 0x7e
        CHECK_FALSE(dns::names_equal("a-b", "a_b"));
    }
}

TEST_CASE("build_notify_response", "[dns_wire]") {
    // A NOTIFY for example.com. with the new SOA in the answer section (RFC 1996 3.7).
    const auto request_wire = hex(cat({
        "5555 2400 0001 0001 0000 0000",  // opcode NOTIFY, AA
        question_example_soa,
        "c00c 0006 0001 00000e10 0027",
        "03 6e7331 c00c 0a 686f73746d6173746572 c00c",
        soa_numbers,
    }));
    const auto request = dns::parse_message(request_wire);
    REQUIRE(request.ok());
    CHECK(request.message.header.opcode == dns::opcode::NOTIFY);
    CHECK_FALSE(request.message.header.qr);

    SECTION("NOERROR echoes ID and question, QR and AA set, nothing else") {
        const auto response = dns::build_notify_response(request.message, dns::rcode::NOERROR);
        CHECK(response == hex(cat({"5555 a400 0001 0000 0000 0000", question_example_soa})));
        const auto r = dns::parse_message(response);
        REQUIRE(r.ok());
        CHECK(r.message.header.id == 0x5555);
        CHECK(r.message.header.qr);
        CHECK(r.message.header.aa);
        CHECK(r.message.header.opcode == dns::opcode::NOTIFY);
        CHECK(r.message.header.rcode == dns::rcode::NOERROR);
        REQUIRE(r.message.questions.size() == 1);
        CHECK(r.message.questions[0].name == "example.com.");
        CHECK(r.message.questions[0].type == dns::rrtype::SOA);
        CHECK(r.message.answers.empty());
    }
    SECTION("NOTAUTH for a zone we do not watch") {
        const auto response = dns::build_notify_response(request.message, dns::rcode::NOTAUTH);
        CHECK(response == hex(cat({"5555 a409 0001 0000 0000 0000", question_example_soa})));
    }
    SECTION("an escaped and mixed-case question is echoed byte for byte") {
        dns::Message m;
        m.header.id = 9;
        m.questions.push_back({"\\<X\\>\\000.Test.", dns::rrtype::SOA, dns::class_IN});
        CHECK(dns::build_notify_response(m, 0) ==
              hex("0009 a400 0001 0000 0000 0000 04 3c583e00 04 54657374 00 0006 0001"));
    }
    SECTION("cannot be echoed") {
        dns::Message none = request.message;
        none.questions.clear();
        CHECK(dns::build_notify_response(none, 0).empty());
        dns::Message two = request.message;
        two.questions.push_back(two.questions[0]);
        CHECK(dns::build_notify_response(two, 0).empty());
        dns::Message bad = request.message;
        bad.questions[0].name = "a..b";
        CHECK(dns::build_notify_response(bad, 0).empty());
        CHECK(dns::build_notify_response(request.message, dns::rcode::BADVERS).empty());
    }
}

TEST_CASE("rcode_name and parse_error_name", "[dns_wire]") {
    const std::vector<std::string> names = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                            "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                            "NXRRSET", "NOTAUTH", "NOTZONE"};
    for (unsigned i = 0; i < names.size(); ++i) CHECK(dns::rcode_name(i) == names[i]);
    CHECK(dns::rcode_name(11) == "RCODE11");
    CHECK(dns::rcode_name(15) == "RCODE15");
    CHECK(dns::rcode_name(16) == "BADVERS");
    CHECK(dns::rcode_name(17) == "RCODE17");
    CHECK(dns::rcode_name(4095) == "RCODE4095");

    CHECK(dns::parse_error_name(dns::ParseError::none) == "none");
    CHECK(dns::parse_error_name(dns::ParseError::too_short) == "too_short");
    CHECK(dns::parse_error_name(dns::ParseError::bad_label) == "bad_label");
    CHECK(dns::parse_error_name(dns::ParseError::pointer_loop) == "pointer_loop");
    CHECK(dns::parse_error_name(dns::ParseError::pointer_out_of_range) == "pointer_out_of_range");
    CHECK(dns::parse_error_name(dns::ParseError::name_too_long) == "name_too_long");
    CHECK(dns::parse_error_name(dns::ParseError::rdata_overflow) == "rdata_overflow");
    CHECK(dns::parse_error_name(dns::ParseError::bad_rdata) == "bad_rdata");
    CHECK(dns::parse_error_name(dns::ParseError::too_many_records) == "too_many_records");
}

TEST_CASE("fuzz seeds parse as their names say", "[dns_wire]") {
    // fuzz/make_seeds.py writes seed-NAME.bin; seed-err_* must be refused, the others parsed.
    const std::filesystem::path dir =
        std::filesystem::path(SOAWATCH_SOURCE_DIR) / "fuzz" / "corpus" / "dns_parse";
    int seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string file = entry.path().filename().string();
        if (file.rfind("seed-", 0) != 0) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> wire((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
        const auto r = dns::parse_message(wire);
        INFO(file << ": " << dns::parse_error_name(r.error) << " at " << r.error_offset);
        CHECK(r.ok() == (file.rfind("seed-err_", 0) != 0));
        ++seeds;
    }
    CHECK(seeds >= 30);
}
