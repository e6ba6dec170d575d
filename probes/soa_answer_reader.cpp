#include "probes/soa_answer_reader.hpp"

#include <algorithm>
#include <optional>

#include "probes/dns_wire.hpp"
#include "probes/rrsig.hpp"

namespace soawatch {

namespace {

using dns::kHeaderSize;

using dns::read_u16;
using dns::read_u32;

enum class Section { answer, authority, additional };

// What the walk found, kept as offsets and numbers until the answer is known to be usable.
struct Findings {
    std::optional<dns::SoaRdata> soa;  // the zone's first SOA in the answer section
    uint32_t soa_ttl = 0;
    std::optional<RrsigTimes> rrsig;
    bool opt_seen = false;
    dns::EdnsOptions edns;
};

class Walk {
  public:
    Walk(std::span<const uint8_t> wire, std::span<const uint8_t> zone_wire)
        : wire_(wire), zone_(zone_wire) {}

    // The checks of classify_soa_response before the SOA, in its order; false at the first that
    // does not pass as a usable answer would.
    bool header_and_question() {
        if (wire_.size() < kHeaderSize || zone_.empty()) return false;
        const uint8_t flags = wire_[2];
        const bool qr = (flags & 0x80) != 0;
        const unsigned opcode = (flags >> 3) & 0x0fu;
        const bool aa = (flags & 0x04) != 0;
        const bool tc = (flags & 0x02) != 0;
        // The rcode's upper bits are in the OPT record: checked there (RFC 6891 6.1.3).
        if (!qr || opcode != dns::opcode::QUERY || tc || !aa ||
            (wire_[3] & 0x0fu) != dns::rcode::NOERROR)
            return false;
        if (read_u16(wire_, 4) != 1) return false;
        const std::size_t total =
            std::size_t{1} + read_u16(wire_, 6) + read_u16(wire_, 8) + read_u16(wire_, 10);
        if (total > kMaxSoaAnswerRecords) return false;
        // Servers mostly echo the question as it was asked: the same octets are the same name,
        // and as valid as the zone's own (no need to walk it).
        std::size_t qname_end = kHeaderSize + zone_.size();
        if (wire_.size() < qname_end ||
            !std::equal(zone_.begin(), zone_.end(), wire_.begin() + kHeaderSize)) {
            const auto qname = dns::compare_name(wire_, kHeaderSize, wire_.size(), false, zone_);
            if (!qname.ok() || !qname.equal) return false;
            qname_end = qname.end;
        }
        if (wire_.size() - qname_end < 4) return false;
        if (read_u16(wire_, qname_end) != dns::rrtype::SOA ||
            read_u16(wire_, qname_end + 2) != dns::class_IN)
            return false;
        pos_ = qname_end + 4;
        return true;
    }

    bool records(Section section, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i)
            if (!record(section)) return false;
        return true;
    }

    Findings& findings() { return found_; }

  private:
    bool record(Section section) {
        // Only the answer section's owners are compared with the zone: elsewhere no owner
        // changes the observation, but every name is still checked as parse_message does.
        const auto owner = section == Section::answer
                               ? dns::compare_owner(wire_, pos_, zone_, true)
                               : dns::skip_name(wire_, pos_, wire_.size(), false);
        if (!owner.ok() || wire_.size() - owner.end < 10) return false;
        const std::size_t at = owner.end;
        const uint16_t type = read_u16(wire_, at);
        const uint16_t rclass = read_u16(wire_, at + 2);
        const uint32_t ttl = read_u32(wire_, at + 4);
        const std::size_t rdlength = read_u16(wire_, at + 8);
        const std::size_t start = at + 10;
        if (wire_.size() - start < rdlength) return false;
        const std::size_t end = start + rdlength;
        const bool of_zone = section == Section::answer && owner.equal && rclass == dns::class_IN;
        // RDATA of the types parse_message decodes must have the shape it checks.
        switch (type) {
            case dns::rrtype::SOA: {  // RFC 1035 3.3.13
                // The zone's first SOA is decoded as it is checked; any other only checked.
                const bool first = of_zone && !found_.soa;
                dns::SoaRdata soa;
                const auto mname = first ? dns::decode_name(wire_, start, end, true, soa.mname)
                                         : dns::skip_name(wire_, start, end, true);
                if (!mname.ok()) return false;
                const auto rname = first ? dns::decode_name(wire_, mname.end, end, true, soa.rname)
                                         : dns::skip_name(wire_, mname.end, end, true);
                if (!rname.ok() || end - rname.end != 20) return false;
                if (!of_zone) break;
                const std::size_t timers = rname.end;
                if (!first) {
                    // Two SOA records that disagree: malformed.
                    if (read_u32(wire_, timers) != found_.soa->serial) return false;
                    break;
                }
                dns::read_soa_timers(wire_, timers, soa);
                found_.soa = std::move(soa);
                found_.soa_ttl = ttl;
                break;
            }
            case dns::rrtype::RRSIG: {  // RFC 4034 3.1: 18 octets of fields, the signer, ...
                if (!dns::rdata_ok(wire_, type, rclass, start, end)) return false;
                // RFC 4035 3.1.1: with DO set, a signed zone's server adds the RRSIG(SOA).
                if (!of_zone || read_u16(wire_, start) != dns::rrtype::SOA) break;
                const RrsigTimes sig{read_u32(wire_, start + 12), read_u32(wire_, start + 8),
                                     read_u16(wire_, start + 16), wire_[start + 2]};
                // soa_signature's choice: the one that expires last (rrsig.hpp).
                if (!found_.rrsig || expires_later(sig.expiration, found_.rrsig->expiration))
                    found_.rrsig = sig;
                break;
            }
            case dns::rrtype::OPT:  // RFC 6891 6.1.2: the first OPT of the additional section
                if (section != Section::additional || found_.opt_seen || !owner.root) break;
                found_.opt_seen = true;
                // RFC 6891 6.1.3: TTL's first octet is the rcode's upper 8 bits: not NOERROR.
                if ((ttl >> 24) != 0) return false;
                found_.edns = dns::read_edns_options(wire_.subspan(start, rdlength));
                break;
            default:  // NS, CNAME, PTR, A, AAAA and the types parse_message does not decode
                if (!dns::rdata_ok(wire_, type, rclass, start, end)) return false;
                break;
        }
        pos_ = end;
        return true;
    }

    std::span<const uint8_t> wire_;
    std::span<const uint8_t> zone_;
    std::size_t pos_ = 0;
    Findings found_;
};

}  // namespace

bool read_usable_soa_answer(std::span<const uint8_t> wire, std::span<const uint8_t> zone_wire,
                            SoaObservation& obs) {
    Walk walk(wire, zone_wire);
    if (!walk.header_and_question() || !walk.records(Section::answer, read_u16(wire, 6)) ||
        !walk.records(Section::authority, read_u16(wire, 8)) ||
        !walk.records(Section::additional, read_u16(wire, 10)))
        return false;
    Findings& found = walk.findings();
    if (!found.soa) return false;

    obs.answered = true;
    obs.rcode = dns::rcode::NOERROR;
    obs.authoritative = true;
    // RFC 5001 2.3: whichever instance answered, whatever it answered.
    if (found.edns.nsid) {
        const auto octets = *found.edns.nsid;
        obs.nsid = SharedNsid::of(
            std::string_view(reinterpret_cast<const char*>(octets.data()), octets.size()));
    }
    obs.soa = std::move(found.soa);
    obs.soa_ttl = found.soa_ttl;
    // RFC 7314 2: the seconds left before this server would expire the zone.
    obs.expire_remaining = found.edns.expire;
    obs.rrsig = found.rrsig;
    return true;
}

}  // namespace soawatch
