#include "probes/transfer_answer.hpp"

#include <sys/random.h>

#include <random>

#include "probes/dns_wire.hpp"

namespace soawatch {

namespace {

// The first message of a transfer may be large (up to 64 KiB of records); the checks below read
// its header, question and first answer record only, but the parser must get through it all.
constexpr std::size_t kMaxRecords = 16384;

void fail(TransferObservation& obs, TransferResult result, std::string detail) {
    obs.result = result;
    obs.detail = std::move(detail);
}

// The checks both kinds share. Returns false (with obs set) when the answer is refused or
// unusable; true with `msg` parsed when the rcode is NOERROR.
bool check_common(std::span<const uint8_t> wire, const std::string& zone, uint16_t qtype,
                  uint16_t id, TransferObservation& obs, dns::Message& msg) {
    obs.rcode.reset();
    obs.serial.reset();
    obs.detail.clear();
    auto parsed = dns::parse_message(wire, kMaxRecords);
    if (!parsed.ok()) {
        fail(obs, TransferResult::malformed,
             "unparsable answer: " + std::string(dns::parse_error_name(parsed.error)) +
                 " at offset " + std::to_string(parsed.error_offset));
        return false;
    }
    msg = std::move(parsed.message);
    const auto& h = msg.header;
    if (h.id != id) {
        fail(obs, TransferResult::malformed, "answer with another ID");
        return false;
    }
    if (!h.qr) {
        fail(obs, TransferResult::malformed, "QR bit not set");
        return false;
    }
    if (h.opcode != dns::opcode::QUERY) {
        fail(obs, TransferResult::malformed, "unexpected opcode " + std::to_string(h.opcode));
        return false;
    }
    // RFC 5936 2.2.1: the first message repeats the question (later ones may leave it out).
    if (msg.questions.size() != 1 || !dns::names_equal(msg.questions[0].name, zone) ||
        msg.questions[0].type != qtype || msg.questions[0].qclass != dns::class_IN) {
        fail(obs, TransferResult::malformed, "answer is for a different question");
        return false;
    }
    obs.rcode = h.rcode;
    return true;
}

// NOERROR: the first answer record must be the zone's SOA (RFC 5936 2.2, RFC 1995 4).
bool check_first_soa(const dns::Message& msg, const std::string& zone, TransferObservation& obs) {
    if (msg.answers.empty()) {
        fail(obs, TransferResult::no_soa, "NOERROR with no answer record");
        return false;
    }
    const auto& first = msg.answers.front();
    if (first.type != dns::rrtype::SOA || first.rclass != dns::class_IN || !first.soa ||
        !dns::names_equal(first.owner, zone)) {
        fail(obs, TransferResult::no_soa, "first answer record is not the zone's SOA");
        return false;
    }
    obs.serial = first.soa->serial;
    return true;
}

void classify_rcode(unsigned rcode, TransferObservation& obs) {
    if (rcode == dns::rcode::REFUSED || rcode == dns::rcode::NOTAUTH)
        fail(obs, TransferResult::refused, "rcode " + dns::rcode_name(rcode));
    else
        fail(obs, TransferResult::bad_rcode, "rcode " + dns::rcode_name(rcode));
}

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

}  // namespace

std::vector<uint8_t> build_axfr_request(uint16_t id, const std::string& zone) {
    return dns::build_query(id, zone, kRrTypeAxfr, false);
}

std::vector<uint8_t> build_ixfr_request(uint16_t id, const std::string& zone, uint32_t serial) {
    auto out = dns::build_query(id, zone, kRrTypeIxfr, false);
    const auto owner = dns::encode_name(zone);
    if (out.empty() || owner.empty()) return {};
    out[9] = 1;  // NSCOUNT: the SOA below
    out.insert(out.end(), owner.begin(), owner.end());
    put_u16(out, dns::rrtype::SOA);
    put_u16(out, dns::class_IN);
    out.insert(out.end(), {0, 0, 0, 0});  // TTL
    put_u16(out, 2 + 20);                 // RDLENGTH: two root names, five 32-bit fields
    out.push_back(0);                     // MNAME "."
    out.push_back(0);                     // RNAME "."
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<uint8_t>(serial >> shift));
    out.insert(out.end(), 16, 0);  // refresh, retry, expire, minimum
    return out;
}

void classify_axfr_answer(std::span<const uint8_t> wire, const std::string& zone, uint16_t id,
                          TransferObservation& obs) {
    dns::Message msg;
    if (!check_common(wire, zone, kRrTypeAxfr, id, obs, msg)) return;
    if (msg.header.rcode != dns::rcode::NOERROR) return classify_rcode(msg.header.rcode, obs);
    if (!check_first_soa(msg, zone, obs)) return;
    fail(obs, TransferResult::open,
         "AXFR answered with the zone (serial " + std::to_string(*obs.serial) + ")");
}

void classify_signed_ixfr_answer(std::span<const uint8_t> wire, const std::string& zone,
                                 uint16_t id, const tsig::Key& key,
                                 std::span<const uint8_t> request_mac, uint64_t now,
                                 TransferObservation& obs) {
    dns::Message msg;
    if (!check_common(wire, zone, kRrTypeIxfr, id, obs, msg)) return;
    const auto check = tsig::verify_answer(wire, key, request_mac, now);
    switch (check.status) {
        case tsig::AnswerTsig::server_error:
            switch (check.error) {
                case tsig::error::BADKEY:
                    return fail(obs, TransferResult::badkey, check.detail);
                case tsig::error::BADTIME:
                    return fail(obs, TransferResult::badtime, check.detail);
                default:  // BADSIG, BADTRUNC and unknown codes: the signature was not accepted
                    return fail(obs, TransferResult::badsig, check.detail);
            }
        case tsig::AnswerTsig::malformed:
            return fail(obs, TransferResult::malformed, check.detail);
        default:
            break;
    }
    // No TSIG error: an error rcode says why (a refusal comes unsigned from some servers).
    if (msg.header.rcode != dns::rcode::NOERROR) return classify_rcode(msg.header.rcode, obs);
    switch (check.status) {
        case tsig::AnswerTsig::ok:
            break;
        case tsig::AnswerTsig::bad_mac:
            return fail(obs, TransferResult::badsig, "answer: " + check.detail);
        case tsig::AnswerTsig::bad_time:
            return fail(obs, TransferResult::badtime, "answer: " + check.detail);
        default:  // missing, other_key
            return fail(obs, TransferResult::unsigned_answer, check.detail);
    }
    if (!check_first_soa(msg, zone, obs)) return;
    fail(obs, TransferResult::ok,
         "signed IXFR served and verified (serial " + std::to_string(*obs.serial) + ")");
}

uint16_t random_query_id() {
    uint16_t id = 0;
    if (getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
        thread_local std::mt19937 fallback{std::random_device{}()};
        id = static_cast<uint16_t>(fallback());
    }
    return id;
}

uint64_t unix_seconds(Clock::time_point t) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace soawatch
