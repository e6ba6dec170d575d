// The whole-transfer reader: AXFR over several messages to the closing SOA, IXFR answers (up to
// date, differences, AXFR-style), the fixed-order checks, and TSIG on every signed message of a
// multi-message answer (RFC 8945 5.3.1), against an answer signer written here from the RFC.
#include "probes/zone_transfer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/transfer_answer.hpp"

namespace dns = soawatch::dns;
namespace tsig = soawatch::tsig;
using soawatch::TransferStyle;
using soawatch::ZoneTransferReader;
using Status = ZoneTransferReader::Status;

namespace {

constexpr uint16_t kId = 0x4242;
constexpr uint64_t kNow = 1'800'000'000;

void u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}
void u32(std::vector<uint8_t>& out, uint32_t v) {
    u16(out, static_cast<uint16_t>(v >> 16));
    u16(out, static_cast<uint16_t>(v));
}
void name(std::vector<uint8_t>& out, const std::string& n) {
    const auto wire = dns::encode_name(n);
    out.insert(out.end(), wire.begin(), wire.end());
}

struct Rr {
    std::string owner;
    uint16_t type;
    std::vector<uint8_t> rdata;
};

Rr soa(uint32_t serial) {
    std::vector<uint8_t> rdata;
    name(rdata, "invalid.");
    name(rdata, "invalid.");
    for (uint32_t v : {serial, 3600u, 600u, 2147483646u, 0u}) u32(rdata, v);
    return {"cat.test.", dns::rrtype::SOA, rdata};
}
Rr ptr(const std::string& owner, const std::string& target) {
    std::vector<uint8_t> rdata;
    name(rdata, target);
    return {owner, dns::rrtype::PTR, rdata};
}

// A response to the transfer question with `answers`, unsigned.
std::vector<uint8_t> message(const std::vector<Rr>& answers, uint16_t qtype = soawatch::kRrTypeAxfr,
                             uint8_t rcode = 0, uint16_t id = kId, bool question = true) {
    std::vector<uint8_t> out;
    u16(out, id);
    out.push_back(0x84);  // QR, AA
    out.push_back(rcode);
    u16(out, question ? 1 : 0);
    u16(out, static_cast<uint16_t>(answers.size()));
    u16(out, 0);
    u16(out, 0);
    if (question) {
        name(out, "cat.test.");
        u16(out, qtype);
        u16(out, dns::class_IN);
    }
    for (const auto& rr : answers) {
        name(out, rr.owner);
        u16(out, rr.type);
        u16(out, dns::class_IN);
        u32(out, 0);
        u16(out, static_cast<uint16_t>(rr.rdata.size()));
        out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
    }
    return out;
}

const tsig::Key& key() {
    static const tsig::Key k{"catalog-key.", tsig::Algorithm::hmac_sha256,
                             *tsig::decode_base64("kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=")};
    return k;
}

std::vector<uint8_t> hmac(const std::vector<uint8_t>& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key().secret.data(), static_cast<int>(key().secret.size()), data.data(),
         data.size(), out, &length);
    return {out, out + length};
}

// RFC 8945 as a server applies it to the messages of one answer: the first MAC covers the
// request MAC, the message and every TSIG variable (4.3.3); each later one the previous MAC,
// the unsigned messages since, the message and the timers only (4.3.1, 5.3.1).
class AnswerSigner {
  public:
    explicit AnswerSigner(std::vector<uint8_t> request_mac) : prior_(std::move(request_mac)) {}

    std::vector<uint8_t> sign(std::vector<uint8_t> msg) {
        std::vector<uint8_t> digest;
        u16(digest, static_cast<uint16_t>(prior_.size()));
        digest.insert(digest.end(), prior_.begin(), prior_.end());
        digest.insert(digest.end(), pending_.begin(), pending_.end());
        digest.insert(digest.end(), msg.begin(), msg.end());
        if (first_) {
            name(digest, key().name);
            u16(digest, 255);
            u32(digest, 0);
            name(digest, "hmac-sha256.");
        }
        u16(digest, 0);
        u32(digest, static_cast<uint32_t>(kNow));
        u16(digest, 300);
        if (first_) {
            u16(digest, 0);  // error
            u16(digest, 0);  // other len
        }
        prior_ = hmac(digest);
        pending_.clear();
        first_ = false;
        // Append the TSIG record.
        msg[11] = static_cast<uint8_t>(msg[11] + 1);
        name(msg, key().name);
        u16(msg, tsig::kRrType);
        u16(msg, 255);
        u32(msg, 0);
        std::vector<uint8_t> rdata;
        name(rdata, "hmac-sha256.");
        u16(rdata, 0);
        u32(rdata, static_cast<uint32_t>(kNow));
        u16(rdata, 300);
        u16(rdata, static_cast<uint16_t>(prior_.size()));
        rdata.insert(rdata.end(), prior_.begin(), prior_.end());
        u16(rdata, kId);
        u16(rdata, 0);
        u16(rdata, 0);
        u16(msg, static_cast<uint16_t>(rdata.size()));
        msg.insert(msg.end(), rdata.begin(), rdata.end());
        return msg;
    }
    // A message the server leaves unsigned: covered by the next signed one.
    std::vector<uint8_t> pass(std::vector<uint8_t> msg) {
        pending_.insert(pending_.end(), msg.begin(), msg.end());
        return msg;
    }

  private:
    std::vector<uint8_t> prior_;
    std::vector<uint8_t> pending_;
    bool first_ = true;
};

const std::vector<uint8_t> kRequestMac(32, 0xab);

}  // namespace

TEST_CASE("unit: zone transfer reads an AXFR over several messages to the closing SOA",
          "[zone_transfer]") {
    ZoneTransferReader reader("Cat.Test", kId, std::nullopt, std::nullopt, {});
    CHECK(reader.feed(message({soa(5), ptr("a.zones.cat.test.", "one.test.")}), kNow) ==
          Status::more);
    CHECK(reader.feed(message({ptr("b.zones.cat.test.", "two.test.")}, soawatch::kRrTypeAxfr, 0,
                              kId, false),
                      kNow) == Status::more);
    CHECK(reader.feed(message({soa(5)}), kNow) == Status::done);
    CHECK(reader.style() == TransferStyle::full);
    CHECK(reader.serial() == 5);
    REQUIRE(reader.records().size() == 3);  // the first SOA and the two PTRs
    CHECK(reader.records()[2].target == "two.test.");
    CHECK(reader.messages() == 3);
    SECTION("nothing may follow") {
        CHECK(reader.feed(message({soa(5)}), kNow) == Status::failed);
    }
}

TEST_CASE("unit: zone transfer fails in a fixed order, with the reason", "[zone_transfer]") {
    struct Case {
        const char* what;
        std::vector<uint8_t> wire;
        const char* reason;
    };
    auto not_response = message({soa(5), soa(5)});
    not_response[2] = 0;
    const std::vector<Case> cases{
        {"garbage", {1, 2, 3}, "unparsable"},
        {"another ID", message({soa(5), soa(5)}, soawatch::kRrTypeAxfr, 0, 7), "another ID"},
        {"not a response", not_response, "not a response"},
        {"REFUSED", message({}, soawatch::kRrTypeAxfr, 5), "REFUSED"},
        {"no question", message({soa(5), soa(5)}, soawatch::kRrTypeAxfr, 0, kId, false),
         "does not repeat the question"},
        {"another qtype", message({soa(5), soa(5)}, soawatch::kRrTypeIxfr), "another question"},
        {"no SOA first", message({ptr("a.zones.cat.test.", "x.")}), "first record is not"},
        {"closing SOA of another serial", message({soa(5), soa(6)}), "closing SOA"},
        {"records after the closing SOA", message({soa(5), soa(5), ptr("a.cat.test.", "x.")}),
         "after the closing SOA"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ZoneTransferReader reader("cat.test.", kId, std::nullopt, std::nullopt, {});
        CHECK(reader.feed(c.wire, kNow) == Status::failed);
        CHECK_THAT(reader.error(), Catch::Contains(c.reason));
    }
    ZoneTransferReader refused("cat.test.", kId, std::nullopt, std::nullopt, {});
    refused.feed(message({}, soawatch::kRrTypeAxfr, 5), kNow);
    CHECK(refused.refused());
}

TEST_CASE("unit: zone transfer tells the three IXFR answers apart (RFC 1995 4)",
          "[zone_transfer]") {
    const uint16_t ixfr = soawatch::kRrTypeIxfr;
    SECTION("one SOA: up to date") {
        ZoneTransferReader reader("cat.test.", kId, 5u, std::nullopt, {});
        CHECK(reader.feed(message({soa(5)}, ixfr), kNow) == Status::done);
        CHECK(reader.style() == TransferStyle::up_to_date);
    }
    SECTION("differences, two sequences") {
        ZoneTransferReader reader("cat.test.", kId, 5u, std::nullopt, {});
        CHECK(reader.feed(message({soa(7), soa(5), ptr("a.zones.cat.test.", "one.test."), soa(6),
                                   ptr("c.zones.cat.test.", "three.test.")},
                                  ixfr),
                          kNow) == Status::more);
        CHECK(reader.feed(message({soa(6), soa(7), ptr("d.zones.cat.test.", "four.test."), soa(7)},
                                  ixfr, 0, kId, false),
                          kNow) == Status::done);
        CHECK(reader.style() == TransferStyle::incremental);
        REQUIRE(reader.changes().size() == 2);
        CHECK(reader.changes()[0].from == 5);
        CHECK(reader.changes()[0].to == 6);
        CHECK(reader.changes()[0].removed.size() == 1);
        CHECK(reader.changes()[0].added.size() == 1);
        CHECK(reader.changes()[1].from == 6);
        CHECK(reader.changes()[1].to == 7);
        CHECK(reader.changes()[1].removed.empty());
        CHECK(reader.changes()[1].added[0].target == "four.test.");
    }
    SECTION("AXFR-style: the whole zone") {
        ZoneTransferReader reader("cat.test.", kId, 5u, std::nullopt, {});
        CHECK(reader.feed(message({soa(7), ptr("a.zones.cat.test.", "one.test."), soa(7)}, ixfr),
                          kNow) == Status::done);
        CHECK(reader.style() == TransferStyle::full);
        CHECK(reader.records().size() == 2);
    }
}

TEST_CASE("unit: zone transfer verifies the TSIG of every signed message (RFC 8945 5.3.1)",
          "[zone_transfer]") {
    const auto first = message({soa(5), ptr("a.zones.cat.test.", "one.test.")});
    const auto middle =
        message({ptr("b.zones.cat.test.", "two.test.")}, soawatch::kRrTypeAxfr, 0, kId, false);
    const auto last = message({soa(5)}, soawatch::kRrTypeAxfr, 0, kId, false);
    const auto reader = [] {
        return ZoneTransferReader("cat.test.", kId, std::nullopt, key(), kRequestMac);
    };

    SECTION("every message signed") {
        AnswerSigner signer(kRequestMac);
        auto r = reader();
        CHECK(r.feed(signer.sign(first), kNow) == Status::more);
        CHECK(r.feed(signer.sign(middle), kNow) == Status::more);
        CHECK(r.feed(signer.sign(last), kNow) == Status::done);
        CHECK(r.records().size() == 3);
    }
    SECTION("an unsigned message between two signed ones is covered by the next MAC") {
        AnswerSigner signer(kRequestMac);
        auto r = reader();
        CHECK(r.feed(signer.sign(first), kNow) == Status::more);
        CHECK(r.feed(signer.pass(middle), kNow) == Status::more);
        CHECK(r.feed(signer.sign(last), kNow) == Status::done);
    }
    SECTION("an unsigned message altered on the way fails the next MAC") {
        AnswerSigner signer(kRequestMac);
        auto r = reader();
        r.feed(signer.sign(first), kNow);
        auto altered = signer.pass(middle);
        altered[altered.size() - 3] ^= 1;  // inside the PTR's target
        r.feed(altered, kNow);
        CHECK(r.feed(signer.sign(last), kNow) == Status::failed);
        CHECK_THAT(r.error(), Catch::Contains("bad_mac"));
    }
    SECTION("a signed message whose MAC chain is broken fails") {
        AnswerSigner signer(kRequestMac);
        AnswerSigner other(std::vector<uint8_t>(32, 0xcd));
        auto r = reader();
        r.feed(signer.sign(first), kNow);
        CHECK(r.feed(other.sign(middle), kNow) == Status::failed);
    }
    SECTION("an unsigned last message fails") {
        AnswerSigner signer(kRequestMac);
        auto r = reader();
        r.feed(signer.sign(first), kNow);
        CHECK(r.feed(signer.pass(last), kNow) == Status::failed);
        CHECK_THAT(r.error(), Catch::Contains("not signed"));
    }
    SECTION("an unsigned first message fails") {
        auto r = reader();
        CHECK(r.feed(first, kNow) == Status::failed);
        CHECK_THAT(r.error(), Catch::Contains("missing"));
    }
}
