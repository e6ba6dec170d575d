#include "probes/soa_answer.hpp"

#include "probes/dns_wire.hpp"
#include "probes/rrsig.hpp"
#include "probes/soa_answer_reader.hpp"

namespace soawatch {

namespace {

std::string describe_referral(const dns::Message& msg) {
    for (const auto& rr : msg.authority)
        if (rr.type == dns::rrtype::NS) return "referral to " + rr.target;
    return {};
}

// A UDP answer of at least 512 bytes (RFC 1035 4.2.1's limit) that ends before its counts and
// lengths say was cut on its way: by a middlebox, or by c-ares, which reads at most 4096 bytes
// of a datagram when a server ignores the EDNS size we advertise (RFC 6891 6.2.5). It is
// truncated, TC bit or not, and TCP is the remedy (RFC 7766 section 5). A short answer that
// ends early is simply malformed.
bool cut_in_transit(std::span<const uint8_t> wire, dns::ParseError error) {
    return wire.size() >= 512 &&
           (error == dns::ParseError::too_short || error == dns::ParseError::rdata_overflow);
}

bool fail(SoaObservation& obs, ProbeError error, std::string detail) {
    obs.error = error;
    obs.detail = std::move(detail);
    return false;
}

}  // namespace

bool classify_soa_response(std::span<const uint8_t> wire, const std::string& zone,
                           Transport transport, SoaObservation& obs) {
    return classify_soa_response(wire, zone, dns::encode_name(zone), transport, obs);
}

bool classify_soa_response(std::span<const uint8_t> wire, const std::string& zone,
                           std::span<const uint8_t> zone_wire, Transport transport,
                           SoaObservation& obs) {
    // Everything below is about this answer only: nothing of an earlier try may survive.
    obs.transport = transport;
    obs.error = ProbeError::none;
    obs.detail.clear();
    obs.answered = false;
    obs.rcode = 0;
    obs.authoritative = false;
    obs.soa.reset();
    obs.soa_ttl = 0;
    obs.expire_remaining.reset();
    obs.rrsig.reset();
    obs.nsid = {};

    // Nearly every answer is a usable one: read once, decoding only what is kept. Anything else
    // is read in full below, which tells what is wrong with it.
    if (read_usable_soa_answer(wire, zone_wire, obs)) return false;

    auto parsed = dns::parse_message(wire, kMaxSoaAnswerRecords);
    if (!parsed.ok() && transport == Transport::udp && cut_in_transit(wire, parsed.error))
        return true;
    if (!parsed.ok()) {
        return fail(obs, ProbeError::malformed,
                    "unparsable answer: " + std::string(dns::parse_error_name(parsed.error)) +
                        " at offset " + std::to_string(parsed.error_offset));
    }
    const auto& msg = parsed.message;
    const auto& h = msg.header;
    obs.answered = true;
    obs.rcode = h.rcode;
    obs.authoritative = h.aa;
    // RFC 5001 2.3: whichever instance answered, whatever it answered.
    if (msg.edns_nsid) obs.nsid = SharedNsid::of(*msg.edns_nsid);

    // Fixed order, first failure wins (like dnsdist's health checks).
    if (!h.qr) return fail(obs, ProbeError::malformed, "QR bit not set");
    if (h.opcode != dns::opcode::QUERY)
        return fail(obs, ProbeError::malformed, "unexpected opcode " + std::to_string(h.opcode));
    if (msg.questions.size() != 1 || !dns::names_equal(msg.questions[0].name, zone) ||
        msg.questions[0].type != dns::rrtype::SOA || msg.questions[0].qclass != dns::class_IN)
        return fail(obs, ProbeError::malformed, "answer is for a different question");
    if (h.tc) {
        if (transport == Transport::udp) return true;  // RFC 7766 section 5: ask over TCP
        return fail(obs, ProbeError::truncated, "TC set over TCP");
    }
    switch (h.rcode) {
        case dns::rcode::NOERROR:
            break;
        case dns::rcode::REFUSED:
            return fail(obs, ProbeError::refused, "rcode REFUSED");
        case dns::rcode::SERVFAIL:
            return fail(obs, ProbeError::servfail, "rcode SERVFAIL");
        case dns::rcode::NXDOMAIN:
            return fail(obs, ProbeError::nxdomain, "rcode NXDOMAIN");
        default:
            return fail(obs, ProbeError::bad_rcode, "rcode " + dns::rcode_name(h.rcode));
    }
    if (!h.aa) {
        std::string referral = describe_referral(msg);
        return fail(obs, ProbeError::not_authoritative,
                    referral.empty() ? "AA bit not set" : "AA bit not set, " + referral);
    }
    // The zone's SOA (RFC 1035 3.3.13): class IN, owned by the zone name, in the answer section.
    const dns::ResourceRecord* soa = nullptr;
    bool cname = false;
    for (const auto& rr : msg.answers) {
        if (rr.type == dns::rrtype::CNAME && dns::names_equal(rr.owner, zone)) cname = true;
        if (rr.type != dns::rrtype::SOA || rr.rclass != dns::class_IN || !rr.soa ||
            !dns::names_equal(rr.owner, zone))
            continue;
        if (soa && soa->soa->serial != rr.soa->serial) {
            return fail(obs, ProbeError::malformed,
                        "two SOA records with different serials (" +
                            std::to_string(soa->soa->serial) + ", " +
                            std::to_string(rr.soa->serial) + ")");
        }
        if (!soa) soa = &rr;
    }
    if (!soa) {
        bool soa_in_authority = false;
        for (const auto& rr : msg.authority)
            if (rr.type == dns::rrtype::SOA) soa_in_authority = true;
        return fail(obs, ProbeError::no_soa,
                    cname              ? "CNAME at the zone name instead of an SOA"
                    : soa_in_authority ? "SOA only in the authority section (not a zone apex)"
                                       : "no SOA record in the answer");
    }
    obs.soa = *soa->soa;
    obs.soa_ttl = soa->ttl;
    // RFC 7314 2: a secondary answers the seconds left before it expires the zone, a primary
    // the SOA expire value. Only a usable answer counts: the value is about the zone served.
    obs.expire_remaining = msg.edns_expire;
    // RFC 4035 3.1.1: with DO set, a signed zone's server adds the RRSIG(SOA) beside the SOA.
    // Read whether or not DO was asked: a server that signs anyway is reported as it answered.
    obs.rrsig = soa_signature(msg, zone);
    return false;
}

}  // namespace soawatch
