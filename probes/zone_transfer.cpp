#include "probes/zone_transfer.hpp"

#include "probes/transfer_answer.hpp"

namespace soawatch {

namespace {

// A message of a transfer is at most 65535 octets, so it cannot hold more records than this.
constexpr std::size_t kMaxRecordsPerMessage = 65535 / 11;

}  // namespace

ZoneTransferReader::ZoneTransferReader(const std::string& zone, uint16_t id,
                                       std::optional<uint32_t> ixfr_serial,
                                       std::optional<tsig::Key> key,
                                       std::vector<uint8_t> request_mac)
    : zone_(dns::canonical_name(zone)),
      id_(id),
      ixfr_serial_(ixfr_serial),
      key_(std::move(key)),
      last_mac_(std::move(request_mac)) {}

ZoneTransferReader::Status ZoneTransferReader::fail(std::string why) {
    status_ = Status::failed;
    error_ = std::move(why);
    return status_;
}

ZoneTransferReader::Status ZoneTransferReader::feed(std::span<const uint8_t> wire, uint64_t now) {
    if (status_ != Status::more) return fail("a message after the end of the transfer");
    const bool first = messages_++ == 0;
    const std::string where = "message " + std::to_string(messages_);
    // Fixed order, first failure wins: parse, ID, QR, opcode, rcode, question, TSIG, records.
    const auto parsed = dns::parse_message(wire, kMaxRecordsPerMessage);
    if (!parsed.ok())
        return fail(where + " unparsable: " + std::string(dns::parse_error_name(parsed.error)));
    const dns::Message& m = parsed.message;
    if (m.header.id != id_) return fail(where + " has another ID");
    if (!m.header.qr) return fail(where + " is not a response");
    if (m.header.opcode != dns::opcode::QUERY) return fail(where + " has another opcode");
    if (m.header.rcode != dns::rcode::NOERROR) {
        std::string detail = "the server answers " + dns::rcode_name(m.header.rcode);
        if (key_) {
            // BIND answers NOTAUTH with the TSIG error (BADKEY, BADSIG) that says why.
            const auto check = tsig::verify_answer(wire, *key_, last_mac_, now);
            if (check.status == tsig::AnswerTsig::server_error) detail += ": " + check.detail;
        }
        refused_ = m.header.rcode == dns::rcode::REFUSED || m.header.rcode == dns::rcode::NOTAUTH;
        return fail(detail);
    }
    // RFC 5936 2.2.1: the first message repeats the question; later ones may, or carry none.
    const uint16_t qtype = ixfr_serial_ ? kRrTypeIxfr : kRrTypeAxfr;
    if (first && m.questions.size() != 1) return fail(where + " does not repeat the question");
    if (m.questions.size() > 1)
        return fail(where + " has " + std::to_string(m.questions.size()) + " questions");
    if (!m.questions.empty() &&
        (!dns::names_equal(m.questions[0].name, zone_) || m.questions[0].type != qtype))
        return fail(where + " answers another question: " + m.questions[0].name);

    if (key_) {
        // RFC 8945 5.3.1: the first message is signed; later ones may go unsigned, up to 99 in
        // a row, each signed one's MAC covering those since the previous; the last is signed.
        const auto check =
            first ? tsig::verify_answer(wire, *key_, last_mac_, now)
                  : tsig::verify_continuation(wire, *key_, last_mac_, unsigned_since_, now);
        if (check.status == tsig::AnswerTsig::ok) {
            last_mac_ = check.mac;
            unsigned_since_.clear();
            unsigned_count_ = 0;
        } else if (check.status == tsig::AnswerTsig::missing && !first) {
            if (++unsigned_count_ > kMaxUnsignedInARow)
                return fail(std::to_string(unsigned_count_) +
                            " unsigned messages in a row (RFC 8945 5.3.1 allows 99)");
            unsigned_since_.insert(unsigned_since_.end(), wire.begin(), wire.end());
        } else {
            return fail(where + ": TSIG " + std::string(tsig::answer_tsig_name(check.status)) +
                        (check.detail.empty() ? "" : ": " + check.detail));
        }
    }

    if (take_records(m) == Status::failed) return status_;
    // RFC 1995 4: an IXFR answered with the SOA alone says the client's copy is current.
    if (status_ == Status::more && first && phase_ == Phase::second_record && ixfr_serial_ &&
        soa_.serial == *ixfr_serial_) {
        style_ = TransferStyle::up_to_date;
        status_ = Status::done;
    }
    if (status_ == Status::done && unsigned_count_ > 0)
        return fail("the last message of the transfer is not signed (RFC 8945 5.3.1)");
    return status_;
}

ZoneTransferReader::Status ZoneTransferReader::take_records(const dns::Message& m) {
    for (const auto& rr : m.answers) {
        if (status_ == Status::done) return fail("records after the closing SOA");
        if (take(rr) == Status::failed) return status_;
    }
    return status_;
}

ZoneTransferReader::Status ZoneTransferReader::take(const dns::ResourceRecord& rr) {
    if (++total_records_ > kMaxRecords)
        return fail("more than " + std::to_string(kMaxRecords) + " records");
    const bool zone_soa =
        rr.type == dns::rrtype::SOA && rr.soa && dns::names_equal(rr.owner, zone_);
    switch (phase_) {
        case Phase::first_soa:
            // RFC 5936 2.2 and RFC 1995 4: the answer starts with the zone's current SOA.
            if (!zone_soa) return fail("the first record is not the SOA of " + zone_);
            soa_ = *rr.soa;
            records_.push_back(rr);
            phase_ = Phase::second_record;
            return status_;
        case Phase::second_record:
            if (zone_soa && ixfr_serial_ && rr.soa->serial != soa_.serial) {
                // RFC 1995 4: SOA(new) SOA(old) ...: differences follow.
                style_ = TransferStyle::incremental;
                records_.clear();
                changes_.push_back(ZoneChange{rr.soa->serial, 0, {}, {}});
                phase_ = Phase::removing;
                return status_;
            }
            style_ = TransferStyle::full;
            phase_ = Phase::full;
            [[fallthrough]];
        case Phase::full:
            if (zone_soa) {
                // RFC 5936 2.2: the transfer ends with the same SOA it started with.
                if (rr.soa->serial != soa_.serial)
                    return fail("the closing SOA has serial " + std::to_string(rr.soa->serial) +
                                ", the first " + std::to_string(soa_.serial));
                status_ = Status::done;
                return status_;
            }
            records_.push_back(rr);
            return status_;
        case Phase::removing:
            if (zone_soa) {
                changes_.back().to = rr.soa->serial;
                phase_ = Phase::adding;
                return status_;
            }
            changes_.back().removed.push_back(rr);
            return status_;
        case Phase::adding:
            if (zone_soa) {
                if (rr.soa->serial == soa_.serial && changes_.back().to == soa_.serial) {
                    status_ = Status::done;
                    return status_;
                }
                changes_.push_back(ZoneChange{rr.soa->serial, 0, {}, {}});
                phase_ = Phase::removing;
                return status_;
            }
            changes_.back().added.push_back(rr);
            return status_;
    }
    return status_;
}

}  // namespace soawatch
