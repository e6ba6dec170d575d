// The first message of a transfer answer, classified (probes/transfer_answer.*): how each lab
// server refuses (measured: BIND and NSD REFUSED, Knot NOTAUTH), an open AXFR, a signed IXFR.
#include "probes/transfer_answer.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"

using soawatch::TransferObservation;
using soawatch::TransferResult;
namespace dns = soawatch::dns;
namespace tsig = soawatch::tsig;

namespace {

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

// An answer to the AXFR request `request`: its header with QR, the rcode, and (when soa) the
// zone's SOA as the first answer record.
std::vector<uint8_t> answer_to(std::vector<uint8_t> request, uint8_t rcode, bool soa,
                               const char* owner = "example.test") {
    request[2] = 0x84;  // QR, AA
    request[3] = rcode;
    if (!soa) return request;
    request[7] = 1;  // ANCOUNT
    const auto name = dns::encode_name(owner);
    request.insert(request.end(), name.begin(), name.end());
    put_u16(request, dns::rrtype::SOA);
    put_u16(request, dns::class_IN);
    request.insert(request.end(), {0, 0, 1, 0x2c});
    put_u16(request, 22);
    request.insert(request.end(), {0, 0});  // MNAME, RNAME: root
    request.insert(request.end(), {0x78, 0xc4, 0x25, 0x34});
    request.insert(request.end(), 16, 0);
    return request;
}

}  // namespace

TEST_CASE("unit: transfer answer to an unsigned AXFR: refused, open or an error kind",
          "[transfer]") {
    const auto request = soawatch::build_axfr_request(0x1234, "example.test.");
    REQUIRE(!request.empty());
    TransferObservation obs;
    soawatch::classify_axfr_answer(answer_to(request, dns::rcode::REFUSED, false), "example.test.",
                                   0x1234, obs);
    CHECK(obs.result == TransferResult::refused);
    CHECK(obs.detail == "rcode REFUSED");
    soawatch::classify_axfr_answer(answer_to(request, dns::rcode::NOTAUTH, false), "example.test.",
                                   0x1234, obs);
    CHECK(obs.result == TransferResult::refused);  // Knot's way (RFC 5936 2.2.1)
    CHECK(obs.detail == "rcode NOTAUTH");
    soawatch::classify_axfr_answer(answer_to(request, dns::rcode::SERVFAIL, false), "example.test.",
                                   0x1234, obs);
    CHECK(obs.result == TransferResult::bad_rcode);
    soawatch::classify_axfr_answer(answer_to(request, 0, true), "example.test.", 0x1234, obs);
    CHECK(obs.result == TransferResult::open);
    CHECK(obs.serial == 2026120500u);
    CHECK(obs.rcode == 0u);
    soawatch::classify_axfr_answer(answer_to(request, 0, true, "other.test"), "example.test.",
                                   0x1234, obs);
    CHECK(obs.result == TransferResult::no_soa);
    CHECK_FALSE(obs.serial.has_value());
    soawatch::classify_axfr_answer(answer_to(request, 0, true), "example.test.", 0x4321, obs);
    CHECK(obs.result == TransferResult::malformed);
    CHECK(obs.detail == "answer with another ID");
    soawatch::classify_axfr_answer(request, "example.test.", 0x1234, obs);
    CHECK(obs.result == TransferResult::malformed);
    CHECK(obs.detail == "QR bit not set");
    soawatch::classify_axfr_answer(std::vector<uint8_t>{1, 2, 3}, "example.test.", 0x1234, obs);
    CHECK(obs.result == TransferResult::malformed);
    CHECK(soawatch::transfer_result_name(TransferResult::unsigned_answer) == "unsigned");
    CHECK(soawatch::transfer_result_name(TransferResult::malformed) == "malformed");
}

TEST_CASE("unit: transfer IXFR request carries the serial in an SOA (RFC 1995 3)", "[transfer]") {
    const auto request = soawatch::build_ixfr_request(7, "Example.Test", 2026120500);
    const auto parsed = dns::parse_message(request);
    REQUIRE(parsed.ok());
    REQUIRE(parsed.message.questions.size() == 1);
    CHECK(parsed.message.questions[0].type == soawatch::kRrTypeIxfr);
    CHECK_FALSE(parsed.message.header.rd);
    REQUIRE(parsed.message.authority.size() == 1);
    REQUIRE(parsed.message.authority[0].soa);
    CHECK(parsed.message.authority[0].soa->serial == 2026120500u);
    CHECK(soawatch::build_ixfr_request(7, "bad..name", 1).empty());
}

TEST_CASE("unit: transfer answer to a signed IXFR: TSIG errors win over the rcode", "[transfer]") {
    const tsig::Key key{"lab-xfr.", tsig::Algorithm::hmac_sha256,
                        *tsig::decode_base64("kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=")};
    const auto request = soawatch::build_ixfr_request(0x1234, "example.test.", 1);
    const auto signed_request = tsig::sign_request(request, key, 1'800'000'000);
    TransferObservation obs;
    // An unsigned REFUSED (an address ACL before the key is looked at).
    auto ixfr_refused = dns::build_query(0x1234, "example.test.", soawatch::kRrTypeIxfr, false);
    ixfr_refused[2] = 0x84;
    ixfr_refused[3] = dns::rcode::REFUSED;
    soawatch::classify_signed_ixfr_answer(ixfr_refused, "example.test.", 0x1234, key,
                                          signed_request.mac, 1'800'000'000, obs);
    CHECK(obs.result == TransferResult::refused);
    // NOERROR without a TSIG: not proof of anything.
    auto ixfr_unsigned = ixfr_refused;
    ixfr_unsigned[3] = 0;
    soawatch::classify_signed_ixfr_answer(ixfr_unsigned, "example.test.", 0x1234, key,
                                          signed_request.mac, 1'800'000'000, obs);
    CHECK(obs.result == TransferResult::unsigned_answer);
    CHECK(obs.detail == "the answer is not signed");

    // BIND's signed answer of tests/unit/tsig_test.cpp: served and verified.
    const std::string answer_hex =
        "f74c84000001000100000002076578616d706c6504746573740000fb0001c00c"
        "000600010000012c0033077072696d617279036c61620474657374000a686f73"
        "746d6173746572c03278c4253400000e1000000258001275000000012c000029"
        "04d000000000001c000a00185bf5aaeededa654a010000006b1454c13502089c"
        "ff12fa7f076c61622d7866720000fa00ff00000000003d0b686d61632d736861"
        "3235360000006b1454c1012c0020785ffc2d13d44d257646b879b5cc4e11a678"
        "dc355cd091064276b1e10e0b7646f74c00000000";
    std::vector<uint8_t> answer;
    for (std::size_t i = 0; i < answer_hex.size(); i += 2)
        answer.push_back(static_cast<uint8_t>(std::stoul(answer_hex.substr(i, 2), nullptr, 16)));
    std::vector<uint8_t> mac;
    const std::string mac_hex = "8d2fca916d5e075ee4b0e2cbf7fe5c31e2d40256acf2e2f3a29f5548aad1a43f";
    for (std::size_t i = 0; i < mac_hex.size(); i += 2)
        mac.push_back(static_cast<uint8_t>(std::stoul(mac_hex.substr(i, 2), nullptr, 16)));
    soawatch::classify_signed_ixfr_answer(answer, "example.test.", 0xf74c, key, mac, 0x6b1454c1,
                                          obs);
    CHECK(obs.result == TransferResult::ok);
    CHECK(obs.serial == 2026120500u);
    soawatch::classify_signed_ixfr_answer(answer, "example.test.", 0xf74c, key, mac,
                                          0x6b1454c1 + 1000, obs);
    CHECK(obs.result == TransferResult::badtime);
    mac[3] ^= 1;
    soawatch::classify_signed_ixfr_answer(answer, "example.test.", 0xf74c, key, mac, 0x6b1454c1,
                                          obs);
    CHECK(obs.result == TransferResult::badsig);
    CHECK(obs.detail == "answer: the answer's MAC does not verify with the key");
}

TEST_CASE("unit: transfer answers captured from the lab's servers", "[transfer]") {
    // fuzz/corpus/transfer_answer: first messages as BIND, NSD and Knot sent them (ID 0x1234).
    const auto read = [](const std::string& name) {
        std::ifstream in(std::string(SOAWATCH_SOURCE_DIR) + "/fuzz/corpus/transfer_answer/" + name,
                         std::ios::binary);
        return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
    };
    TransferObservation obs;
    for (const char* refused : {"seed-bind-axfr-refused.bin", "seed-nsd-axfr-refused.bin",
                                "seed-knot-axfr-refused.bin"}) {
        soawatch::classify_axfr_answer(read(refused), "example.test.", 0x1234, obs);
        CHECK(obs.result == TransferResult::refused);
    }
    // Knot serves an open AXFR without the AA bit: open all the same.
    for (const char* open : {"seed-nsd-axfr-open.bin", "seed-knot-axfr-open.bin"}) {
        soawatch::classify_axfr_answer(read(open), "example.test.", 0x1234, obs);
        CHECK(obs.result == TransferResult::open);
        CHECK(obs.serial == 2026120500u);
    }
}
