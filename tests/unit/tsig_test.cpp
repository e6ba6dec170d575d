// TSIG (RFC 8945): signing a request and verifying an answer. The known answers were captured on
// loopback from real software: the request is what `dig -y hmac-sha256:lab-xfr:SECRET
// example.test IXFR=2026120500` (BIND 9.18's dig) sent, the answer is what BIND 9.18 (the lab's
// primary) signed in reply; dig verified it.
#include "probes/tsig.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"

namespace tsig = soawatch::tsig;
namespace dns = soawatch::dns;

namespace {

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

tsig::Key lab_key() {
    return {"lab-xfr.", tsig::Algorithm::hmac_sha256,
            *tsig::decode_base64("kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=")};
}

constexpr uint64_t kTimeSigned = 0x6b1454c1;  // 2026-12-05 18:15:29 UTC, from the capture

// dig's IXFR request as sent, before its TSIG record (ARCOUNT 1: the OPT record).
const std::string kRequestBody =
    "f74c00000001000000010001076578616d706c6504746573740000fb0001c00c"
    "00060001000000000016000078c4253400000000000000000000000000000000"
    "00002904d000000000000c000a00085bf5aaeededa654a";
// ... and its TSIG record as dig wrote it.
const std::string kRequestTsig =
    "076c61622d7866720000fa00ff00000000003d0b686d61632d7368613235360000006b1454c1012c0020"
    "8d2fca916d5e075ee4b0e2cbf7fe5c31e2d40256acf2e2f3a29f5548aad1a43ff74c00000000";
const std::string kRequestMac = "8d2fca916d5e075ee4b0e2cbf7fe5c31e2d40256acf2e2f3a29f5548aad1a43f";
// BIND's answer: the single SOA of an up-to-date IXFR (RFC 1995 4), OPT, TSIG.
const std::string kAnswer =
    "f74c84000001000100000002076578616d706c6504746573740000fb0001c00c"
    "000600010000012c0033077072696d617279036c61620474657374000a686f73"
    "746d6173746572c03278c4253400000e1000000258001275000000012c000029"
    "04d000000000001c000a00185bf5aaeededa654a010000006b1454c13502089c"
    "ff12fa7f076c61622d7866720000fa00ff00000000003d0b686d61632d736861"
    "3235360000006b1454c1012c0020785ffc2d13d44d257646b879b5cc4e11a678"
    "dc355cd091064276b1e10e0b7646f74c00000000";

// The TSIG record of `wire` with its MAC replaced (same length) or its error set, for the rules.
std::vector<uint8_t> with_byte(std::vector<uint8_t> wire, std::size_t from_end, uint8_t value) {
    wire[wire.size() - from_end] = value;
    return wire;
}

}  // namespace

TEST_CASE("unit: tsig signs a request exactly as BIND's dig does (known answer)", "[tsig]") {
    const auto body = from_hex(kRequestBody);
    const auto signed_message = tsig::sign_request(body, lab_key(), kTimeSigned);
    CHECK(signed_message.mac == from_hex(kRequestMac));
    auto expected = body;
    expected[11] = 2;  // ARCOUNT: OPT and TSIG
    const auto record = from_hex(kRequestTsig);
    expected.insert(expected.end(), record.begin(), record.end());
    CHECK(signed_message.wire == expected);
}

TEST_CASE("unit: tsig verifies an answer BIND signed over the request MAC", "[tsig]") {
    const auto answer = from_hex(kAnswer);
    const auto check = tsig::verify_answer(answer, lab_key(), from_hex(kRequestMac), kTimeSigned);
    CHECK(check.status == tsig::AnswerTsig::ok);
    CHECK(check.detail.empty());
    CHECK(check.time_signed == kTimeSigned);

    SECTION("the MAC covers the request MAC (RFC 8945 4.3.1): another request's fails") {
        auto other = from_hex(kRequestMac);
        other[0] ^= 1;
        CHECK(tsig::verify_answer(answer, lab_key(), other, kTimeSigned).status ==
              tsig::AnswerTsig::bad_mac);
    }
    SECTION("another secret fails") {
        auto key = lab_key();
        key.secret[5] ^= 0x40;
        CHECK(tsig::verify_answer(answer, key, from_hex(kRequestMac), kTimeSigned).status ==
              tsig::AnswerTsig::bad_mac);
    }
    SECTION("a changed answer fails") {
        auto changed = answer;
        changed[76] ^= 1;  // the last octet of the SOA serial
        CHECK(tsig::verify_answer(changed, lab_key(), from_hex(kRequestMac), kTimeSigned).status ==
              tsig::AnswerTsig::bad_mac);
    }
    SECTION("time signed within the fudge either way (RFC 8945 5.2.3), not beyond") {
        const auto mac = from_hex(kRequestMac);
        CHECK(tsig::verify_answer(answer, lab_key(), mac, kTimeSigned + 300).status ==
              tsig::AnswerTsig::ok);
        CHECK(tsig::verify_answer(answer, lab_key(), mac, kTimeSigned - 300).status ==
              tsig::AnswerTsig::ok);
        const auto late = tsig::verify_answer(answer, lab_key(), mac, kTimeSigned + 301);
        CHECK(late.status == tsig::AnswerTsig::bad_time);
        CHECK(late.detail == "signed 301 s away from our clock (fudge 300 s)");
        CHECK(tsig::verify_answer(answer, lab_key(), mac, kTimeSigned - 301).status ==
              tsig::AnswerTsig::bad_time);
    }
    SECTION("signed with another key name or algorithm") {
        auto key = lab_key();
        key.name = "other-key.";
        CHECK(tsig::verify_answer(answer, key, from_hex(kRequestMac), kTimeSigned).status ==
              tsig::AnswerTsig::other_key);
        key = lab_key();
        key.algorithm = tsig::Algorithm::hmac_sha512;
        CHECK(tsig::verify_answer(answer, key, from_hex(kRequestMac), kTimeSigned).status ==
              tsig::AnswerTsig::other_key);
    }
    SECTION("key names compare case-insensitively (RFC 4343)") {
        auto key = lab_key();
        key.name = "LAB-Xfr.";
        CHECK(tsig::verify_answer(answer, key, from_hex(kRequestMac), kTimeSigned).status ==
              tsig::AnswerTsig::ok);
    }
}

TEST_CASE("unit: tsig round trip with hmac-sha512 and a verifier of our own", "[tsig]") {
    tsig::Key key{"xfr.example.", tsig::Algorithm::hmac_sha512,
                  *tsig::decode_base64("c29hd2F0Y2gta25vd24tYW5zd2VyLXRlc3Qta2V5IQ==")};
    const auto query = dns::build_query(0x4242, "example.test", 251, false);
    const auto request = tsig::sign_request(query, key, 1'800'000'000);
    REQUIRE(request.mac.size() == 64);
    const auto parsed = dns::parse_message(request.wire);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.message.additional.size() == 1);
    CHECK(parsed.message.additional[0].type == tsig::kRrType);
    CHECK(parsed.message.additional[0].owner == "xfr.example.");
}

TEST_CASE("unit: tsig reports the server's errors, which come unsigned (RFC 8945 5.3.2)",
          "[tsig]") {
    // BIND's NOTAUTH answer to a request with an unknown key: TSIG error BADKEY, MAC size 0.
    auto body =
        from_hex("f74c84090001000000000001076578616d706c6504746573740000fb0001");  // NOTAUTH, AR 1
    const auto tsig_record = [&](uint16_t error, uint16_t mac_size) {
        auto r = from_hex("076c61622d7866720000fa00ff00000000");  // owner, type, class, TTL
        const auto algorithm = dns::encode_name("hmac-sha256.");
        std::vector<uint8_t> rdata(algorithm.begin(), algorithm.end());
        const auto tail = from_hex("00006b1454c1012c");  // time, fudge
        rdata.insert(rdata.end(), tail.begin(), tail.end());
        rdata.push_back(static_cast<uint8_t>(mac_size >> 8));
        rdata.push_back(static_cast<uint8_t>(mac_size));
        rdata.insert(rdata.end(), mac_size, 0xab);
        rdata.insert(rdata.end(), {0xf7, 0x4c, static_cast<uint8_t>(error >> 8),
                                   static_cast<uint8_t>(error), 0, 0});
        r.push_back(static_cast<uint8_t>(rdata.size() >> 8));
        r.push_back(static_cast<uint8_t>(rdata.size()));
        r.insert(r.end(), rdata.begin(), rdata.end());
        return r;
    };
    auto answer = [&](uint16_t error, uint16_t mac_size) {
        auto wire = body;
        const auto r = tsig_record(error, mac_size);
        wire.insert(wire.end(), r.begin(), r.end());
        return wire;
    };
    const auto mac = from_hex(kRequestMac);
    auto check = tsig::verify_answer(answer(tsig::error::BADKEY, 0), lab_key(), mac, kTimeSigned);
    CHECK(check.status == tsig::AnswerTsig::server_error);
    CHECK(check.error == tsig::error::BADKEY);
    CHECK(check.detail == "the server answers TSIG BADKEY");
    check = tsig::verify_answer(answer(tsig::error::BADSIG, 0), lab_key(), mac, kTimeSigned);
    CHECK(check.status == tsig::AnswerTsig::server_error);
    CHECK(check.error == tsig::error::BADSIG);
    // BADTIME comes signed: a MAC that does not verify is reported as such first.
    check = tsig::verify_answer(answer(tsig::error::BADTIME, 32), lab_key(), mac, kTimeSigned);
    CHECK(check.status == tsig::AnswerTsig::bad_mac);
    // A NOERROR TSIG with a truncated MAC is not accepted (RFC 8945 5.2.2.1 leaves it to policy).
    check = tsig::verify_answer(answer(tsig::error::NOERROR, 16), lab_key(), mac, kTimeSigned);
    CHECK(check.status == tsig::AnswerTsig::bad_mac);
    CHECK(check.detail == "MAC of 16 octets (expected 32)");

    SECTION("no TSIG, or TSIG not last, or a broken RDATA") {
        auto unsigned_answer = body;
        unsigned_answer[11] = 0;
        CHECK(tsig::verify_answer(unsigned_answer, lab_key(), mac, kTimeSigned).status ==
              tsig::AnswerTsig::missing);
        auto broken = answer(tsig::error::BADKEY, 0);
        broken = with_byte(broken, 2, 0x01);  // other len 256: runs past RDATA
        CHECK(tsig::verify_answer(broken, lab_key(), mac, kTimeSigned).status ==
              tsig::AnswerTsig::malformed);
        auto two = answer(tsig::error::BADKEY, 0);
        const auto again = tsig_record(tsig::error::BADKEY, 0);
        two.insert(two.end(), again.begin(), again.end());
        two[11] = 2;
        CHECK(tsig::verify_answer(two, lab_key(), mac, kTimeSigned).status ==
              tsig::AnswerTsig::malformed);
    }
}

TEST_CASE("unit: tsig algorithm names and base64 secrets", "[tsig]") {
    CHECK(tsig::parse_algorithm("hmac-sha256") == tsig::Algorithm::hmac_sha256);
    CHECK(tsig::parse_algorithm("HMAC-SHA512.") == tsig::Algorithm::hmac_sha512);
    CHECK_FALSE(tsig::parse_algorithm("hmac-md5").has_value());
    CHECK_FALSE(tsig::parse_algorithm("hmac-sha1").has_value());
    CHECK(tsig::decode_base64("YWJj") == std::vector<uint8_t>{'a', 'b', 'c'});
    CHECK(tsig::decode_base64("YWI=") == std::vector<uint8_t>{'a', 'b'});
    CHECK(tsig::decode_base64("YQ==") == std::vector<uint8_t>{'a'});
    CHECK_FALSE(tsig::decode_base64("").has_value());
    CHECK_FALSE(tsig::decode_base64("YQ=").has_value());
    CHECK_FALSE(tsig::decode_base64("Y=Q=").has_value());
    CHECK_FALSE(tsig::decode_base64("YW J").has_value());
    CHECK(tsig::error_name(tsig::error::BADTIME) == "BADTIME");
    CHECK(tsig::error_name(99) == "TSIG error 99");
}
