// Decoding a datagram on the NOTIFY port and the answer to it (RFC 1996 3.7, 4.7).
#include "probes/notify_request.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using soawatch::answer_notify;
using soawatch::decode_notify;
namespace dns = soawatch::dns;

namespace {

// Header (ID 0xbeef, the given flags and QDCOUNT) and `qd` questions for example.com.
std::vector<uint8_t> notify(uint16_t flags, uint16_t type = 6, uint16_t qclass = 1, int qd = 1) {
    std::vector<uint8_t> m = {0xbe,
                              0xef,
                              static_cast<uint8_t>(flags >> 8),
                              static_cast<uint8_t>(flags),
                              0,
                              static_cast<uint8_t>(qd),
                              0,
                              0,
                              0,
                              0,
                              0,
                              0};
    for (int i = 0; i < qd; ++i) {
        const auto name = dns::encode_name("Example.COM");
        m.insert(m.end(), name.begin(), name.end());
        m.insert(m.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
                           static_cast<uint8_t>(qclass >> 8), static_cast<uint8_t>(qclass)});
    }
    return m;
}

constexpr uint16_t kNotify = 0x2400;  // opcode NOTIFY, AA

}  // namespace

TEST_CASE("notify: a NOTIFY for an SOA names its zone, canonical", "[notify]") {
    const auto request = decode_notify(notify(kNotify));
    CHECK(request.zone == "example.com.");
    CHECK(request.ignored.empty());
    for (const bool watched : {true, false}) {
        const auto answer = answer_notify(request, watched);
        const auto parsed = dns::parse_message(answer);
        REQUIRE(parsed.ok());
        const auto& h = parsed.message.header;
        CHECK(h.id == 0xbeef);
        CHECK(h.qr);
        CHECK(h.opcode == dns::opcode::NOTIFY);
        CHECK(h.rcode == (watched ? dns::rcode::NOERROR : dns::rcode::NOTAUTH));
        REQUIRE(parsed.message.questions.size() == 1);
        CHECK(parsed.message.questions[0].name == "Example.COM.");
    }
}

TEST_CASE("notify: anything else is ignored with a reason and never answered", "[notify]") {
    struct Case {
        std::vector<uint8_t> datagram;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {{}, "malformed: too_short"},
        {notify(0xa400), "a response, not a request"},
        {notify(0x0000), "opcode 0, not NOTIFY"},
        {notify(kNotify, 6, 1, 2), "2 questions, not one"},
        {notify(kNotify, 6, 1, 0), "0 questions, not one"},
        {notify(kNotify, 1), "not a NOTIFY for an SOA of class IN"},
        {notify(kNotify, 6, 3), "not a NOTIFY for an SOA of class IN"},
    };
    for (const auto& c : cases) {
        const auto request = decode_notify(c.datagram);
        CHECK(request.zone.empty());
        CHECK(request.ignored == c.reason);
        CHECK(answer_notify(request, true).empty());
    }
}
