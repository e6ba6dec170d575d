// DNS wire format: building queries and parsing responses (RFC 1035 section 4).
// Everything parsed here came from the network: every read is bounds-checked, compression
// pointers may only point backwards and are followed a bounded number of times, and a
// malformed message yields an error value, never an exception or a read past the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace soawatch::dns {

// RR types and classes we decode; anything else is kept as raw RDATA.
namespace rrtype {
inline constexpr uint16_t A = 1;
inline constexpr uint16_t NS = 2;
inline constexpr uint16_t CNAME = 5;
inline constexpr uint16_t SOA = 6;
inline constexpr uint16_t PTR = 12;
inline constexpr uint16_t TXT = 16;
inline constexpr uint16_t AAAA = 28;
inline constexpr uint16_t OPT = 41;
inline constexpr uint16_t RRSIG = 46;  // RFC 4034 3
}  // namespace rrtype
inline constexpr uint16_t class_IN = 1;

// EDNS option codes (RFC 6891 6.1.2, IANA "DNS EDNS0 Option Codes").
namespace ednsopt {
inline constexpr uint16_t NSID = 3;    // RFC 5001
inline constexpr uint16_t EXPIRE = 9;  // RFC 7314
}  // namespace ednsopt

// The fixed header of every message (RFC 1035 4.1.1): ID, flags, four section counts.
inline constexpr std::size_t kHeaderSize = 12;

// An answered NSID longer than this keeps only its first octets: an identity is a host or
// instance name (RFC 5001 2.3 leaves its length open, up to the option's 65535 octets), and every
// octet kept is carried per address through statuses, the API and a metric label.
inline constexpr std::size_t kMaxNsidOctets = 128;

namespace opcode {
inline constexpr uint8_t QUERY = 0;
inline constexpr uint8_t NOTIFY = 4;  // RFC 1996
}  // namespace opcode

namespace rcode {
inline constexpr uint8_t NOERROR = 0;
inline constexpr uint8_t FORMERR = 1;
inline constexpr uint8_t SERVFAIL = 2;
inline constexpr uint8_t NXDOMAIN = 3;
inline constexpr uint8_t NOTIMP = 4;
inline constexpr uint8_t REFUSED = 5;
inline constexpr uint8_t YXDOMAIN = 6;  // RFC 2136
inline constexpr uint8_t YXRRSET = 7;
inline constexpr uint8_t NXRRSET = 8;
inline constexpr uint8_t NOTAUTH = 9;
inline constexpr uint8_t NOTZONE = 10;
inline constexpr uint8_t BADVERS = 16;  // RFC 6891, needs the OPT record's extended rcode
}  // namespace rcode

// Name of an rcode for people ("NOERROR", "REFUSED", "RCODE23").
std::string rcode_name(unsigned rcode);

struct Header {
    uint16_t id = 0;
    bool qr = false;  // response
    uint8_t opcode = 0;
    bool aa = false;  // authoritative answer
    bool tc = false;  // truncated
    bool rd = false;  // recursion desired
    bool ra = false;
    bool ad = false;
    bool cd = false;
    unsigned rcode = 0;  // 4 header bits, extended by the OPT record's 8 bits when present
    uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

struct Question {
    // Presentation format, absolute (trailing dot), case as received. Label bytes other than
    // letters, digits, '-', '_' and '*' are escaped (RFC 1035 5.1): printable ones as "\X"
    // ("a\.b."), the others as "\DDD" ("\000."). encode_name() accepts the same escapes.
    std::string name;
    uint16_t type = 0;
    uint16_t qclass = 0;
};

struct SoaRdata {
    std::string mname;  // presentation format, absolute
    std::string rname;
    uint32_t serial = 0;
    uint32_t refresh = 0;
    uint32_t retry = 0;
    uint32_t expire = 0;
    uint32_t minimum = 0;
    bool operator==(const SoaRdata&) const = default;
};

// Big-endian 16- and 32-bit fields at `pos` of a message (the caller has checked they are there).
inline uint16_t read_u16(std::span<const uint8_t> w, std::size_t pos) {
    return static_cast<uint16_t>((w[pos] << 8) | w[pos + 1]);
}
inline uint32_t read_u32(std::span<const uint8_t> w, std::size_t pos) {
    return (uint32_t{w[pos]} << 24) | (uint32_t{w[pos + 1]} << 16) | (uint32_t{w[pos + 2]} << 8) |
           uint32_t{w[pos + 3]};
}

// The SOA's five 32-bit fields (RFC 1035 3.3.13), from the 20 octets at `pos` (the caller has
// checked they are there): serial, refresh, retry, expire, minimum.
void read_soa_timers(std::span<const uint8_t> wire, std::size_t pos, SoaRdata& soa);

// RRSIG RDATA (RFC 4034 3.1), the fields soawatch reads; the signature itself is not kept:
// soawatch watches when signatures run out, it does not validate them.
struct RrsigRdata {
    uint16_t type_covered = 0;
    uint8_t algorithm = 0;
    uint8_t labels = 0;
    uint32_t original_ttl = 0;
    // RFC 4034 3.1.5: seconds since 1970-01-01 UTC modulo 2^32, compared in RFC 1982 serial
    // arithmetic (probes/rrsig.hpp turns them into times relative to now).
    uint32_t expiration = 0;
    uint32_t inception = 0;
    uint16_t key_tag = 0;
    std::string signer;  // presentation format, absolute (RFC 4034 3.1.7: never compressed)
    bool operator==(const RrsigRdata&) const = default;
};

struct ResourceRecord {
    std::string owner;  // presentation format, absolute, case as received
    uint16_t type = 0;
    uint16_t rclass = 0;
    uint32_t ttl = 0;
    // Decoded RDATA for the types we use; the others stay empty.
    std::optional<SoaRdata> soa;      // SOA
    std::optional<RrsigRdata> rrsig;  // RRSIG
    std::string target;               // NS, CNAME, PTR: the name, presentation format, absolute
    std::string address;              // A, AAAA of class IN: text ("192.0.2.1", "2001:db8::1")
    std::vector<uint8_t> rdata;       // raw RDATA as received (names inside may be compressed)
};

struct Message {
    Header header;
    std::vector<Question> questions;
    std::vector<ResourceRecord> answers;
    std::vector<ResourceRecord> authority;
    std::vector<ResourceRecord> additional;
    // From the first OPT record (root owner) in the additional section, which also stays in
    // `additional`; its extended rcode bits are already merged into header.rcode.
    std::optional<uint16_t> edns_udp_size;
    // The EDNS EXPIRE option of that OPT record (RFC 7314 2): seconds before the answering
    // server would expire the zone. Absent when the server sent none, or one whose length is not
    // 4 (the option is then ignored, as RFC 7314 3 has a client ignore what it cannot use).
    std::optional<uint32_t> edns_expire;
    // The NSID option of that OPT record (RFC 5001 2.3): the answering server's instance
    // identity, octets as received (at most kMaxNsidOctets of them; may be empty when the
    // server has none configured). Absent when the server sent none, or when the option list
    // breaks off before the option ends (it is dropped; the answer stays good).
    std::optional<std::string> edns_nsid;
};

enum class ParseError {
    none,
    too_short,             // fewer than 12 bytes, or a section ends before its count says
    bad_label,             // label type 0x40/0x80 (extended / reserved)
    pointer_loop,          // a pointer back into the name being read, or over 128 hops
    pointer_out_of_range,  // a pointer forward (not before its label sequence) or past the end
    name_too_long,         // a name over 255 octets in wire form (RFC 1035 2.3.4)
    rdata_overflow,        // RDLENGTH runs past the end of the message
    bad_rdata,             // RDATA of a decoded type has the wrong length or shape (a name in
                           // it running past RDLENGTH included)
    too_many_records,      // more records than the parser accepts (caps hostile input)
};

// Name of a ParseError for logs and error details ("pointer_loop").
std::string_view parse_error_name(ParseError e);

struct ParseResult {
    Message message;
    ParseError error = ParseError::none;
    std::size_t error_offset = 0;  // where parsing stopped, for diagnostics
    bool ok() const { return error == ParseError::none; }
};

// Parses a whole DNS message. Trailing bytes after the last counted record are ignored
// (as resolvers do). At most max_records entries in all four sections together (questions
// included) are accepted; the header counts are checked before anything is read. On error,
// `message` holds what was parsed before the error. Never throws (except std::bad_alloc).
inline constexpr std::size_t kMaxMessageRecords = 4096;
ParseResult parse_message(std::span<const uint8_t> wire,
                          std::size_t max_records = kMaxMessageRecords);

// ---- reading in place, for readers that walk a message once and decode only what they need
// (probes/soa_answer_reader.hpp). Each checks exactly what parse_message checks of the same
// bytes, and fails with the same error at the same offset.

// The options soawatch reads from an OPT record's RDATA (RFC 6891 6.1.2): the first EXPIRE of
// length 4 (RFC 7314 2) and the first NSID (RFC 5001 2.3, at most kMaxNsidOctets of it). An
// option running past the RDATA ends the walk: a broken option list costs that option and the
// ones after it, never the answer, whose SOA is still good.
struct EdnsOptions {
    std::optional<uint32_t> expire;
    std::optional<std::span<const uint8_t>> nsid;  // into the RDATA given
};
EdnsOptions read_edns_options(std::span<const uint8_t> options);

// A name at `pos` of a message: where it ends, or why it is no name. `bound` is where its labels
// before the first pointer must end (the message's end, or the end of the RDATA holding it);
// `in_rdata` makes running past it bad_rdata instead of too_short, as parse_message does.
struct NameInMessage {
    ParseError error = ParseError::none;
    std::size_t error_offset = 0;
    std::size_t end = 0;  // just after the name where it started (after its first pointer)
    bool root = false;    // "." (no label)
    bool equal = false;   // compare_name only: the name equals `expected`
    bool ok() const { return error == ParseError::none; }
};
// Checks the name without decoding it.
NameInMessage skip_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                        bool in_rdata);
// Checks the name and compares it with `expected`, an uncompressed wire name (encode_name's),
// ASCII case-insensitively (RFC 4343), without decoding it: names_equal on the decoded name.
NameInMessage compare_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                           bool in_rdata, std::span<const uint8_t> expected);
// compare_name for an answer's owner, which is most often a pointer to the question's name
// (RFC 1035 4.1.4): when the caller has found that name equal to `expected`
// (`question_is_expected`), such a pointer backwards to a name already checked is valid and
// equal without a second walk.
NameInMessage compare_owner(std::span<const uint8_t> wire, std::size_t pos,
                            std::span<const uint8_t> expected, bool question_is_expected);
// Decodes the name into `out` (presentation format, as parse_message writes names).
NameInMessage decode_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                          bool in_rdata, std::string& out);

// Checks the RDATA of a record, [start, end) of the message, the way parse_message does for the
// types it decodes: SOA (two names, then 20 octets), NS, CNAME and PTR (one name, filling it),
// A and AAAA of class IN (4 and 16 octets), RRSIG (18 octets, then the signer's name). Other
// types are opaque to it, and so are they here (OPT's options included).
bool rdata_ok(std::span<const uint8_t> wire, uint16_t type, uint16_t rclass, std::size_t start,
              std::size_t end);

// Builds a query for (qname, qtype, IN). recursion_desired sets RD. edns_udp_size > 0 adds an
// OPT pseudo-record (RFC 6891) advertising that UDP payload size; 0 sends a plain RFC 1035
// query. With edns_expire (and EDNS on) the OPT record carries an empty EDNS EXPIRE option
// (RFC 7314 2: a query's option has no data), with edns_nsid an empty NSID option (RFC 5001
// 2.1, after EXPIRE). dnssec_ok sets the DO bit of the OPT record (RFC 3225 3): the server then
// adds the RRSIGs of the answer; without EDNS there is no OPT record and so no DO (RFC 3225 3
// puts the bit nowhere else). Returns an empty vector when qname is not a valid domain name.
std::vector<uint8_t> build_query(uint16_t id, std::string_view qname, uint16_t qtype,
                                 bool recursion_desired, uint16_t edns_udp_size = 0,
                                 bool edns_expire = false, bool edns_nsid = false,
                                 bool dnssec_ok = false);

// Appends one DNS message as TCP carries it: its two-octet length, then the message (RFC 1035
// 4.2.2, RFC 7766 8). The message must be under 65,536 octets, as every message built here is.
void append_tcp_message(std::vector<uint8_t>& out, std::span<const uint8_t> message);

// Builds the answer to a NOTIFY (RFC 1996 section 4.7): the request's ID and question,
// opcode NOTIFY, QR and AA set, the given rcode, no other sections. Returns empty if the
// request has not exactly one question, its name cannot be encoded, or rcode > 15 (no OPT).
std::vector<uint8_t> build_notify_response(const Message& request, uint8_t rcode);

// Name helpers. A "name" is presentation format; these accept it with or without the trailing
// dot, accept the escapes \DDD and \X, and treat ASCII letters case-insensitively (RFC 4343).
// canonical_name: ASCII lower case, escapes rewritten the one way the parser writes them
// ("\065" becomes "a"), one trailing dot; "." for root and for "". It never fails: an invalid
// name comes back normalised as far as it goes (validate_name tells whether it is valid).
std::string canonical_name(std::string_view name);
// canonical_name in place: a name with one trailing dot and nothing to escape (as decode_name
// writes nearly every name) only changes case, without a copy.
void make_canonical(std::string& name);
bool names_equal(std::string_view a, std::string_view b);
// Checks a name typed by a user or read from config: labels 1..63 octets, total <= 255 octets in
// wire form, no empty labels. Returns an empty string when valid, else the reason.
std::string validate_name(std::string_view name);
// Wire encoding of a name (no compression); empty vector when invalid.
std::vector<uint8_t> encode_name(std::string_view name);

}  // namespace soawatch::dns
