#include "probes/lookup_answer.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "probes/dns_wire.hpp"

namespace soawatch {

namespace {

using dns::kHeaderSize;
constexpr std::size_t kMaxCnameHops = 16;
using dns::read_u16;
using dns::read_u32;

// The values of an answer, each once. A hostile answer may hold thousands of records: no
// quadratic work on it (a set only when there are enough to matter; the usual handful compares
// directly).
class DistinctValues {
  public:
    explicit DistinctValues(std::size_t records) : few_(records <= 16) {}
    // False for no value (an A or AAAA record of another class than IN): its TTL does not count.
    bool add(std::string value, std::vector<std::string>& into) {
        if (value.empty()) return false;
        const bool repeated = few_ ? std::find(into.begin(), into.end(), value) != into.end()
                                   : !seen_.insert(value).second;
        if (!repeated) into.push_back(std::move(value));
        return true;
    }

  private:
    bool few_;
    std::unordered_set<std::string> seen_;
};

LookupAnswer full_reading(std::span<const uint8_t> wire, const std::string& name, uint16_t type) {
    LookupAnswer answer;
    const auto parsed = dns::parse_message(wire);
    if (!parsed.ok() || parsed.message.header.tc) {
        answer.error = parsed.ok() ? "resolver sent a truncated answer over TCP"
                                   : "resolver sent a malformed answer (" +
                                         std::string(dns::parse_error_name(parsed.error)) + ")";
        return answer;
    }
    const auto& msg = parsed.message;
    if (msg.header.rcode == dns::rcode::NXDOMAIN) {
        answer.outcome = LookupAnswer::Outcome::nxdomain;
        answer.error = name + " does not exist (NXDOMAIN)";
        return answer;
    }
    if (msg.header.rcode != dns::rcode::NOERROR) {
        answer.error = "resolver answered " + dns::rcode_name(msg.header.rcode) + " for " + name;
        return answer;
    }
    answer.outcome = LookupAnswer::Outcome::values;
    // Follow a CNAME chain inside the answer, as far as a resolver would (each hop scans the
    // answer: a longer chain is broken or hostile).
    std::string owner = name;
    for (std::size_t hop = 0; hop < kMaxCnameHops; ++hop) {
        bool followed = false;
        for (const auto& rr : msg.answers) {
            if (rr.type == dns::rrtype::CNAME && type != dns::rrtype::CNAME &&
                dns::names_equal(rr.owner, owner)) {
                owner = dns::canonical_name(rr.target);
                answer.min_ttl = std::min(answer.min_ttl, rr.ttl);
                followed = true;
                break;
            }
        }
        if (!followed) break;
    }
    DistinctValues distinct(msg.answers.size());
    for (const auto& rr : msg.answers) {
        if (rr.type != type || !dns::names_equal(rr.owner, owner)) continue;
        if (distinct.add(type == dns::rrtype::NS ? dns::canonical_name(rr.target) : rr.address,
                         answer.values))
            answer.min_ttl = std::min(answer.min_ttl, rr.ttl);
    }
    return answer;
}

// The one walk over a plain answer; none when the answer is not plain (the full reading
// decides then).
class QuickReading {
  public:
    QuickReading(std::span<const uint8_t> wire, std::span<const uint8_t> name_wire, uint16_t type)
        : wire_(wire), name_(name_wire), type_(type) {}

    std::optional<LookupAnswer> read() {
        if (wire_.size() < kHeaderSize || name_.empty()) return std::nullopt;
        // TC, or an rcode other than NOERROR (its upper bits are in the OPT record: below).
        if ((wire_[2] & 0x02) != 0 || (wire_[3] & 0x0f) != dns::rcode::NOERROR) return std::nullopt;
        const std::size_t questions = read_u16(wire_, 4);
        const std::size_t answers = read_u16(wire_, 6);
        const std::size_t authority = read_u16(wire_, 8);
        const std::size_t additional = read_u16(wire_, 10);
        if (questions + answers + authority + additional > dns::kMaxMessageRecords)
            return std::nullopt;
        pos_ = kHeaderSize;
        for (std::size_t i = 0; i < questions; ++i)
            if (!question(i == 0)) return std::nullopt;
        LookupAnswer answer;
        answer.outcome = LookupAnswer::Outcome::values;
        answer.values.reserve(std::min<std::size_t>(answers, 16));
        DistinctValues distinct(answers);
        for (std::size_t i = 0; i < answers; ++i)
            if (!answer_record(answer, distinct)) return std::nullopt;
        for (std::size_t i = 0; i < authority; ++i)
            if (!other_record(false)) return std::nullopt;
        for (std::size_t i = 0; i < additional; ++i)
            if (!other_record(true)) return std::nullopt;
        return answer;
    }

  private:
    struct Fields {
        dns::NameInMessage owner;
        uint16_t type = 0;
        uint16_t rclass = 0;
        uint32_t ttl = 0;
        std::size_t start = 0;  // of the RDATA
        std::size_t end = 0;
    };

    bool question(bool first) {
        // Resolvers echo the question: when it is the name asked, octet for octet, a pointer to
        // it (0xc00c) in an owner is that name, checked once here.
        if (first && wire_.size() - pos_ >= name_.size() &&
            std::equal(name_.begin(), name_.end(), wire_.subspan(pos_).begin()))
            question_is_name_ = true;
        const auto qname = dns::skip_name(wire_, pos_, wire_.size(), false);
        if (!qname.ok() || wire_.size() - qname.end < 4) return false;
        pos_ = qname.end + 4;
        return true;
    }

    // The record at pos_, checked as parse_message checks it (its RDATA by the caller: the
    // values are checked as they are decoded); pos_ moves past it.
    std::optional<Fields> record(bool in_answer) {
        Fields f;
        f.owner = in_answer ? dns::compare_owner(wire_, pos_, name_, question_is_name_)
                            : dns::skip_name(wire_, pos_, wire_.size(), false);
        if (!f.owner.ok() || wire_.size() - f.owner.end < 10) return std::nullopt;
        const std::size_t at = f.owner.end;
        f.type = read_u16(wire_, at);
        f.rclass = read_u16(wire_, at + 2);
        f.ttl = read_u32(wire_, at + 4);
        const std::size_t rdlength = read_u16(wire_, at + 8);
        f.start = at + 10;
        if (wire_.size() - f.start < rdlength) return std::nullopt;
        f.end = f.start + rdlength;
        pos_ = f.end;
        return f;
    }

    bool rdata_ok(const Fields& f) const {
        return dns::rdata_ok(wire_, f.type, f.rclass, f.start, f.end);
    }

    bool answer_record(LookupAnswer& answer, DistinctValues& distinct) {
        const auto f = record(true);
        if (!f) return false;
        if (!f->owner.equal || f->type != type_) {
            // A CNAME at the name: the chain is the full reading's to follow.
            if (f->owner.equal && f->type == dns::rrtype::CNAME) return false;
            return rdata_ok(*f);
        }
        std::string value;
        if (type_ == dns::rrtype::NS) {
            // The target decoded is checked as rdata_ok would: one name, filling the RDATA.
            const auto target = dns::decode_name(wire_, f->start, f->end, true, value);
            if (!target.ok() || target.end != f->end) return false;
            dns::make_canonical(value);  // an NS target as discovery keeps it
        } else if (!rdata_ok(*f)) {
            return false;
        } else if (f->rclass == dns::class_IN) {  // A, AAAA: rdata_ok checked the length
            char text[INET6_ADDRSTRLEN];
            if (inet_ntop(type_ == dns::rrtype::A ? AF_INET : AF_INET6, &wire_[f->start], text,
                          sizeof text) == nullptr)
                return false;
            value = text;
        }
        if (distinct.add(std::move(value), answer.values))
            answer.min_ttl = std::min(answer.min_ttl, f->ttl);
        return true;
    }

    bool other_record(bool additional) {
        const auto f = record(false);
        if (!f || !rdata_ok(*f)) return false;
        // RFC 6891 6.1.3: the first OPT record's TTL holds the rcode's upper 8 bits: not NOERROR
        // unless they are zero.
        if (additional && f->type == dns::rrtype::OPT && f->owner.root && !opt_seen_) {
            opt_seen_ = true;
            if ((f->ttl >> 24) != 0) return false;
        }
        return true;
    }

    std::span<const uint8_t> wire_;
    std::span<const uint8_t> name_;
    uint16_t type_;
    std::size_t pos_ = 0;
    bool question_is_name_ = false;
    bool opt_seen_ = false;
};

}  // namespace

LookupAnswer read_lookup_answer(std::span<const uint8_t> wire, const std::string& name,
                                std::span<const uint8_t> name_wire, uint16_t type) {
    if (type == dns::rrtype::NS || type == dns::rrtype::A || type == dns::rrtype::AAAA)
        if (auto quick = QuickReading(wire, name_wire, type).read()) return std::move(*quick);
    return full_reading(wire, name, type);
}

}  // namespace soawatch
