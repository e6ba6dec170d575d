#include "probes/delegation_answer.hpp"

#include <algorithm>

#include "probes/dns_wire.hpp"

namespace soawatch {

namespace {

// A referral with its glue holds a few dozen records; more only costs parsing time.
constexpr std::size_t kMaxRecords = 1024;
// NS names kept from one answer (a hostile server may send thousands).
constexpr std::size_t kMaxNames = 64;

template <class T>
void sort_unique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The checks both answers share, in the fixed order: parse, QR, question, TC, rcode. Returns the
// parsed message when the answer got that far; sets `error` (or `retry_tcp`) otherwise.
struct Checked {
    dns::ParseResult parsed;
    std::string error;
    bool retry_tcp = false;
};

Checked check_common(std::span<const uint8_t> wire, const std::string& qname, uint16_t qtype,
                     Transport transport) {
    Checked c;
    c.parsed = dns::parse_message(wire, kMaxRecords);
    if (!c.parsed.ok()) {
        c.error = "unparsable answer: " + std::string(dns::parse_error_name(c.parsed.error));
        return c;
    }
    const auto& msg = c.parsed.message;
    if (!msg.header.qr) {
        c.error = "not a response (QR clear)";
        return c;
    }
    if (msg.questions.size() != 1 || !dns::names_equal(msg.questions[0].name, qname) ||
        msg.questions[0].type != qtype) {
        c.error = "the answer is for another question";
        return c;
    }
    if (msg.header.tc) {
        if (transport == Transport::udp) {
            c.retry_tcp = true;
        } else {
            c.error = "truncated over TCP";
        }
        return c;
    }
    if (msg.header.rcode != dns::rcode::NOERROR)
        c.error = "rcode " + dns::rcode_name(msg.header.rcode);
    return c;
}

}  // namespace

bool classify_ns_answer(std::span<const uint8_t> wire, const std::string& zone, Transport transport,
                        NsObservation& obs) {
    obs.error.clear();
    obs.referral = false;
    obs.names = {};
    obs.glue.clear();
    Checked c = check_common(wire, zone, dns::rrtype::NS, transport);
    if (c.retry_tcp) return true;
    if (!c.error.empty()) {
        obs.error = std::move(c.error);
        return false;
    }
    const auto& msg = c.parsed.message;
    std::vector<std::string> names;
    const auto collect = [&](const std::vector<dns::ResourceRecord>& section) {
        for (const auto& rr : section)
            if (rr.type == dns::rrtype::NS && rr.rclass == dns::class_IN &&
                dns::names_equal(rr.owner, zone) && names.size() < kMaxNames)
                names.push_back(dns::canonical_name(rr.target));
    };
    if (msg.header.aa) {
        // RFC 1034 4.3.2 step 3a: the server is authoritative for the zone; its answer section
        // holds the zone's own NS RRset.
        collect(msg.answers);
        if (names.empty()) obs.error = "authoritative answer without the zone's NS RRset";
    } else {
        // RFC 1034 4.3.2 step 3b: a referral names the servers of the zone in the authority
        // section, with their addresses as glue in the additional section (4.2.1).
        collect(msg.authority);
        if (names.empty()) {
            obs.error = msg.answers.empty() ? "neither authoritative nor a referral to the zone"
                                            : "not authoritative (AA clear)";
        }
        obs.referral = !names.empty();
    }
    sort_unique(names);
    obs.names = std::move(names);
    if (!obs.referral) return false;
    for (const auto& rr : msg.additional) {
        if ((rr.type != dns::rrtype::A && rr.type != dns::rrtype::AAAA) || rr.address.empty())
            continue;
        std::string owner = dns::canonical_name(rr.owner);
        if (std::binary_search(obs.names.begin(), obs.names.end(), owner))
            obs.glue.emplace_back(std::move(owner), rr.address);
    }
    sort_unique(obs.glue);
    return false;
}

bool classify_address_answer(std::span<const uint8_t> wire, const std::string& name, uint16_t type,
                             Transport transport, AddressObservation& obs) {
    obs.error.clear();
    obs.addresses.clear();
    Checked c = check_common(wire, name, type, transport);
    if (c.retry_tcp) return true;
    if (!c.error.empty()) {
        obs.error = std::move(c.error);
        return false;
    }
    const auto& msg = c.parsed.message;
    if (!msg.header.aa) {
        obs.error = "not authoritative (AA clear)";
        return false;
    }
    for (const auto& rr : msg.answers) {
        if (!dns::names_equal(rr.owner, name)) continue;
        if (rr.type == dns::rrtype::CNAME) {
            obs.error = "the name is an alias (CNAME to " + rr.target + ", RFC 2181 10.3)";
            obs.addresses.clear();
            return false;
        }
        if (rr.type == type && !rr.address.empty() && obs.addresses.size() < kMaxNames)
            obs.addresses.push_back(rr.address);
    }
    sort_unique(obs.addresses);
    return false;
}

}  // namespace soawatch
