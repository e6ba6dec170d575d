// libFuzzer target for the DNS message parser, everything that reads network input in
// probes/dns_wire.cpp. Besides "no crash, no out-of-bounds read" (ASan, UBSan) it checks the
// promises the header makes, aborting when one is broken:
//   - every name the parser writes encodes back (encode_name) to at most 255 octets;
//   - canonical_name is idempotent and names_equal agrees with it;
//   - a parsed message with one question yields a NOTIFY answer that parses back to it;
//   - read as text, the input is a name: validate_name and encode_name agree, and a valid
//     name survives build_query -> parse_message.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"
#include "probes/nsid.hpp"

namespace dns = soawatch::dns;

namespace {

// A name as the parser writes it must be a valid name in its own syntax.
void check_parsed_name(const std::string& name) {
    FUZZ_CHECK(!name.empty() && name.back() == '.');
    const auto wire = dns::encode_name(name);
    FUZZ_CHECK(!wire.empty() && wire.size() <= 255);
    const std::string canonical = dns::canonical_name(name);
    FUZZ_CHECK(dns::canonical_name(canonical) == canonical);
    FUZZ_CHECK(dns::names_equal(name, canonical));
}

std::size_t touch_record(const dns::ResourceRecord& rr) {
    check_parsed_name(rr.owner);
    std::size_t sum = rr.type + rr.rclass + rr.ttl + rr.address.size();
    if (!rr.target.empty()) check_parsed_name(rr.target);
    if (rr.soa) {
        check_parsed_name(rr.soa->mname);
        check_parsed_name(rr.soa->rname);
        sum += rr.soa->serial + rr.soa->minimum;
    }
    for (uint8_t b : rr.rdata) sum += b;
    for (char c : rr.address) sum += static_cast<unsigned char>(c);
    return sum;
}

void check_message(std::span<const uint8_t> wire) {
    const auto result = dns::parse_message(wire);
    if (!result.ok()) {
        FUZZ_CHECK(result.error_offset <= wire.size());
        FUZZ_CHECK(!dns::parse_error_name(result.error).empty());
        return;
    }
    const auto& m = result.message;
    FUZZ_CHECK(m.questions.size() == m.header.qdcount);
    FUZZ_CHECK(m.answers.size() == m.header.ancount);
    FUZZ_CHECK(m.authority.size() == m.header.nscount);
    FUZZ_CHECK(m.additional.size() == m.header.arcount);
    FUZZ_CHECK(!dns::rcode_name(m.header.rcode).empty());
    // An NSID is kept bounded (RFC 5001 sets no limit; dns_wire.hpp does), and only from an OPT.
    FUZZ_CHECK(!m.edns_nsid || (m.edns_udp_size && m.edns_nsid->size() <= dns::kMaxNsidOctets));
    if (m.edns_nsid)
        FUZZ_CHECK(soawatch::nsid_display(*m.edns_nsid).size() <= 2 * dns::kMaxNsidOctets);
    volatile std::size_t sum = 0;
    for (const auto& q : m.questions) {
        check_parsed_name(q.name);
        sum = sum + q.type + q.qclass;
    }
    for (const auto* section : {&m.answers, &m.authority, &m.additional})
        for (const auto& rr : *section) sum = sum + touch_record(rr);

    if (m.questions.size() == 1) {
        const auto reply = dns::build_notify_response(m, dns::rcode::NOTAUTH);
        FUZZ_CHECK(!reply.empty());
        const auto back = dns::parse_message(reply);
        FUZZ_CHECK(back.ok());
        FUZZ_CHECK(back.message.header.id == m.header.id);
        FUZZ_CHECK(back.message.questions.size() == 1);
        FUZZ_CHECK(back.message.questions[0].name == m.questions[0].name);
        FUZZ_CHECK(back.message.questions[0].type == m.questions[0].type);
        FUZZ_CHECK(back.message.questions[0].qclass == m.questions[0].qclass);
    }
}

void check_text_name(std::string_view text) {
    const std::string reason = dns::validate_name(text);
    const auto wire = dns::encode_name(text);
    FUZZ_CHECK(reason.empty() == !wire.empty());
    const std::string canonical = dns::canonical_name(text);
    FUZZ_CHECK(!canonical.empty() && canonical.back() == '.');
    FUZZ_CHECK(dns::canonical_name(canonical) == canonical);
    FUZZ_CHECK(dns::names_equal(text, canonical));
    if (wire.empty()) return;
    FUZZ_CHECK(wire.size() <= 255);
    // The canonical form is the same name with ASCII letters lowered. Length octets are at
    // most 63, below 'A', so lowering the whole wire form lowers just the label bytes.
    auto lowered = wire;
    for (auto& b : lowered)
        if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b - 'A' + 'a');
    FUZZ_CHECK(dns::encode_name(canonical) == lowered);
    const auto query = dns::build_query(0x1234, text, dns::rrtype::SOA, false, 1232);
    const auto parsed = dns::parse_message(query);
    FUZZ_CHECK(parsed.ok() && parsed.message.questions.size() == 1);
    FUZZ_CHECK(dns::encode_name(parsed.message.questions[0].name) == wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check_message(std::span<const uint8_t>(data, size));
    // Names from config are short; cap the text to keep the fuzzer fast on large inputs.
    if (size <= 1024) check_text_name(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
