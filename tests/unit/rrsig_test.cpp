// DNSSEC in the SOA probe: the DO bit in the query (RFC 3225), RRSIG RDATA (RFC 4034 3.1) read
// defensively, which RRSIG(SOA) counts, and its 32-bit times around now (RFC 4034 3.1.5).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/rrsig.hpp"
#include "probes/soa_answer.hpp"
#include "probes/soa_probe.hpp"
#include "tests/support/wire_bytes.hpp"

using namespace soawatch;

namespace {

using test::append;
using test::Bytes;
using test::u16;
using test::u32;

// RRSIG RDATA: type covered, algorithm 13, labels 2, TTL 3600, times, key tag, signer, 64 octets.
Bytes rrsig_rdata(uint32_t expiration, uint32_t inception, uint16_t key_tag = 1,
                  uint16_t covered = dns::rrtype::SOA) {
    Bytes r;
    u16(r, covered);
    r.push_back(13);
    r.push_back(2);
    u32(r, 3600);
    u32(r, expiration);
    u32(r, inception);
    u16(r, key_tag);
    append(r, dns::encode_name("example.test."));
    r.insert(r.end(), 64, 0x5a);
    return r;
}

Bytes record(const std::string& owner, uint16_t type, const Bytes& rdata) {
    Bytes r = dns::encode_name(owner);
    u16(r, type);
    u16(r, dns::class_IN);
    u32(r, 3600);
    u16(r, static_cast<uint16_t>(rdata.size()));
    append(r, rdata);
    return r;
}

Bytes soa_rdata(uint32_t serial) {
    Bytes r = dns::encode_name("ns1.example.test.");
    append(r, dns::encode_name("hostmaster.example.test."));
    for (uint32_t v : {serial, 3600u, 600u, 1209600u, 300u}) u32(r, v);
    return r;
}

// An authoritative NOERROR answer to "example.test. SOA" with these answer records.
Bytes answer(const std::vector<Bytes>& records) {
    Bytes m;
    u16(m, 0x1234);
    u16(m, 0x8400);  // QR, AA
    u16(m, 1);
    u16(m, static_cast<uint16_t>(records.size()));
    u16(m, 0);
    u16(m, 0);
    append(m, dns::encode_name("example.test."));
    u16(m, dns::rrtype::SOA);
    u16(m, dns::class_IN);
    for (const auto& r : records) append(m, r);
    return m;
}

}  // namespace

TEST_CASE("rrsig: DO is the OPT record's top flag bit, and there is no DO without EDNS",
          "[rrsig]") {
    const Bytes with_do =
        dns::build_query(7, "example.test.", dns::rrtype::SOA, false, 1232, true, true, true);
    const Bytes without_do =
        dns::build_query(7, "example.test.", dns::rrtype::SOA, false, 1232, true, true, false);
    REQUIRE(with_do.size() == without_do.size());  // DO costs no byte in the query
    const auto parsed = dns::parse_message(with_do);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.message.additional.size() == 1);
    CHECK(parsed.message.additional[0].ttl == 0x00008000u);  // RFC 3225 3: the DO bit
    CHECK(dns::parse_message(without_do).message.additional[0].ttl == 0u);
    // RFC 3225 3: DO lives in the OPT record; without EDNS the query has none.
    const Bytes plain =
        dns::build_query(7, "example.test.", dns::rrtype::SOA, false, 0, true, true, true);
    CHECK(dns::parse_message(plain).message.additional.empty());
    CHECK_FALSE(make_soa_query("example.test.", 0, true)->dnssec_ok);
    CHECK(make_soa_query("example.test.", 1232, true)->dnssec_ok);
}

TEST_CASE("rrsig: the RDATA fields are read; a short or cut RRSIG is bad_rdata", "[rrsig]") {
    const auto parsed = dns::parse_message(
        answer({record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(2000, 1000, 4242))}));
    REQUIRE(parsed.ok());
    const auto& sig = parsed.message.answers[0].rrsig;
    REQUIRE(sig);
    CHECK(sig->type_covered == dns::rrtype::SOA);
    CHECK(sig->algorithm == 13);
    CHECK(sig->labels == 2);
    CHECK(sig->original_ttl == 3600);
    CHECK(sig->expiration == 2000);
    CHECK(sig->inception == 1000);
    CHECK(sig->key_tag == 4242);
    CHECK(sig->signer == "example.test.");

    Bytes short_rdata = rrsig_rdata(2000, 1000);
    short_rdata.resize(17);  // one octet short of the fixed fields
    CHECK(dns::parse_message(answer({record("example.test.", dns::rrtype::RRSIG, short_rdata)}))
              .error == dns::ParseError::bad_rdata);
    Bytes cut_signer = rrsig_rdata(2000, 1000);
    cut_signer.resize(18 + 4);  // the signer's name runs past the RDATA
    CHECK(dns::parse_message(answer({record("example.test.", dns::rrtype::RRSIG, cut_signer)}))
              .error == dns::ParseError::bad_rdata);
}

TEST_CASE("rrsig: the RRSIG(SOA) of the zone that expires last counts", "[rrsig]") {
    const auto parsed = dns::parse_message(answer({
        record("example.test.", dns::rrtype::SOA, soa_rdata(5)),
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(3000, 1000, 1)),
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(4000, 1500, 2)),
        // Not over the SOA, or not of the zone: ignored whatever their times.
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(9000, 1, 3, dns::rrtype::NS)),
        record("other.test.", dns::rrtype::RRSIG, rrsig_rdata(9000, 1, 4)),
    }));
    REQUIRE(parsed.ok());
    const auto sig = soa_signature(parsed.message, "EXAMPLE.test");
    REQUIRE(sig);
    CHECK(*sig == RrsigTimes{1500, 4000, 2, 13});
    // RFC 1982 order across the wrap: 0x10 is later than 0xffffff00.
    const auto wrapped = dns::parse_message(answer({
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(0xffffff00u, 1, 1)),
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(0x10, 1, 2)),
    }));
    CHECK(soa_signature(wrapped.message, "example.test.")->key_tag == 2);
    CHECK_FALSE(soa_signature(dns::parse_message(answer({})).message, "example.test."));
}

TEST_CASE("rrsig: 32-bit times are the moment closest to now (RFC 4034 3.1.5)", "[rrsig]") {
    constexpr int64_t now = 1'800'000'000;
    CHECK(rrsig_time(1'800'000'000u, now) == now);
    CHECK(rrsig_time(1'800'259'200u, now) == now + 259200);
    CHECK(rrsig_time(1'799'000'000u, now) == now - 1'000'000);
    // After 2106 the values wrap: 0x100 shortly after 2^32 is in the future, not in 1970.
    constexpr int64_t after_wrap = (int64_t{1} << 32) - 100;
    CHECK(rrsig_time(0x100u, after_wrap) == (int64_t{1} << 32) + 0x100);
    CHECK(rrsig_time(0xffffff00u, (int64_t{1} << 32) + 10) == 0xffffff00);
}

TEST_CASE("rrsig: a usable SOA answer keeps its RRSIG(SOA); an error answer keeps none",
          "[rrsig]") {
    const Bytes signed_answer = answer({
        record("example.test.", dns::rrtype::SOA, soa_rdata(5)),
        record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(4000, 1500, 2)),
    });
    SoaObservation obs;
    CHECK_FALSE(classify_soa_response(signed_answer, "example.test.", Transport::udp, obs));
    REQUIRE(obs.usable());
    REQUIRE(obs.rrsig);
    CHECK(obs.rrsig->expiration == 4000);
    // The same observation reused for an unsigned answer forgets the signature.
    CHECK_FALSE(
        classify_soa_response(answer({record("example.test.", dns::rrtype::SOA, soa_rdata(5))}),
                              "example.test.", Transport::udp, obs));
    CHECK(obs.usable());
    CHECK_FALSE(obs.rrsig);
    // An RRSIG without an SOA is no usable answer: nothing is kept.
    CHECK_FALSE(classify_soa_response(
        answer({record("example.test.", dns::rrtype::RRSIG, rrsig_rdata(4000, 1500))}),
        "example.test.", Transport::udp, obs));
    CHECK(obs.error == ProbeError::no_soa);
    CHECK_FALSE(obs.rrsig);
}
