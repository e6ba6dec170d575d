// DNS wire format (RFC 1035 section 4), presentation format of names (RFC 1035 5.1, RFC 4343),
// EDNS (RFC 6891) and the NOTIFY answer (RFC 1996 4.7). See dns_wire.hpp for the contract.
#include "probes/dns_wire.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace soawatch::dns {

namespace {

constexpr std::size_t max_name_octets = 255;  // RFC 1035 2.3.4, wire form incl. the root label
constexpr std::size_t max_label_octets = 63;
constexpr std::size_t max_pointer_hops = 128;  // a name of 255 octets has at most 127 labels
constexpr std::size_t min_question_size = 5;   // root name + type + class
constexpr std::size_t min_rr_size = 11;        // root name + type, class, TTL, RDLENGTH

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v & 0xff));
}

// ---- presentation format of labels (RFC 1035 5.1, RFC 4343) ----

enum class Escape : uint8_t { none, backslash, decimal };

constexpr std::array<Escape, 256> make_escape_table() {
    std::array<Escape, 256> t{};
    for (unsigned c = 0; c < 256; ++c) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
        if (plain)
            t[c] = Escape::none;
        else if (c >= 0x21 && c <= 0x7e)
            t[c] = Escape::backslash;  // '.', '\\', '"', '(', ')', ';', '@', '$', ...
        else
            t[c] = Escape::decimal;  // space, control bytes, bytes above 0x7e: \DDD
    }
    return t;
}
constexpr std::array<Escape, 256> escape_table = make_escape_table();

// The most characters one label renders to: 63 octets, each "\DDD" at worst.
constexpr std::size_t kMaxLabelText = std::size_t{63} * 4;

// Writes a label in presentation format at `out` (room for kMaxLabelText); returns the length.
std::size_t render_label(char* out, const uint8_t* p, std::size_t len) {
    // Most labels need no escape: copied in one piece, not byte by byte (every name of every
    // answer passes here: 8% of a round's instructions at 10,000 zones, callgrind).
    if (std::all_of(p, p + len, [](uint8_t c) { return escape_table[c] == Escape::none; })) {
        std::memcpy(out, p, len);
        return len;
    }
    char* o = out;
    for (std::size_t i = 0; i < len; ++i) {
        const uint8_t c = p[i];
        switch (escape_table[c]) {
            case Escape::none:
                *o++ = static_cast<char>(c);
                break;
            case Escape::backslash:
                *o++ = '\\';
                *o++ = static_cast<char>(c);
                break;
            case Escape::decimal:
                *o++ = '\\';
                *o++ = static_cast<char>('0' + c / 100);
                *o++ = static_cast<char>('0' + (c / 10) % 10);
                *o++ = static_cast<char>('0' + c % 10);
                break;
        }
    }
    return static_cast<std::size_t>(o - out);
}

void append_label(std::string& out, const uint8_t* p, std::size_t len) {
    std::array<char, kMaxLabelText> text;
    out.append(text.data(), render_label(text.data(), p, len));
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ascii_lower by table, for comparing names octet by octet without a branch per letter.
constexpr std::array<uint8_t, 256> make_lower_table() {
    std::array<uint8_t, 256> t{};
    for (unsigned c = 0; c < 256; ++c)
        t[c] = static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return t;
}
constexpr std::array<uint8_t, 256> lower_table = make_lower_table();

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// One unit of a presentation-format name: a label byte (plain or escaped) or a separator dot.
struct Token {
    uint8_t byte = 0;
    bool separator = false;
    bool bad = false;  // an escape that is not \DDD (0..255) or \X
    std::size_t next = 0;
};

Token next_token(std::string_view name, std::size_t pos) {
    Token t;
    const char c = name[pos];
    if (c == '.') {
        t.separator = true;
        t.next = pos + 1;
        return t;
    }
    if (c != '\\') {
        t.byte = static_cast<uint8_t>(c);
        t.next = pos + 1;
        return t;
    }
    if (pos + 1 >= name.size()) {  // a lone trailing backslash
        t.bad = true;
        t.byte = '\\';
        t.next = pos + 1;
        return t;
    }
    if (!is_digit(name[pos + 1])) {  // \X
        t.byte = static_cast<uint8_t>(name[pos + 1]);
        t.next = pos + 2;
        return t;
    }
    // \DDD: exactly three decimal digits, value 0..255.
    if (pos + 3 >= name.size() || !is_digit(name[pos + 2]) || !is_digit(name[pos + 3])) {
        t.bad = true;
        t.byte = static_cast<uint8_t>(name[pos + 1]);
        t.next = pos + 2;
        return t;
    }
    auto digit = [&name](std::size_t i) { return static_cast<unsigned>(name[i] - '0'); };
    const unsigned v = digit(pos + 1) * 100 + digit(pos + 2) * 10 + digit(pos + 3);
    if (v > 255) {
        t.bad = true;
        t.byte = static_cast<uint8_t>(name[pos + 1]);
        t.next = pos + 2;
        return t;
    }
    t.byte = static_cast<uint8_t>(v);
    t.next = pos + 4;
    return t;
}

// A valid name without escapes ("ns1.example." or "ns1.example") written into out, each label
// in one copy; false (out unchanged) when it has a backslash or is not valid, for encode_into to
// read token by token and name the fault. Every SOA probe's query goes this way: token by token
// cost 750 instructions for a 14-octet name.
bool encode_plain_into(std::string_view name, std::vector<uint8_t>& out) {
    if (name.empty() || name == "." || name.find('\\') != std::string_view::npos) return false;
    const std::string_view body = name.back() == '.' ? name.substr(0, name.size() - 1) : name;
    // Each dot becomes a length octet; one more leads and the root's ends.
    if (body.size() + 2 > max_name_octets) return false;
    const std::size_t start = out.size();
    out.resize(start + body.size() + 2);
    uint8_t* w = out.data() + start;
    std::size_t label = 0;
    for (;;) {
        const std::size_t dot = body.find('.', label);
        const std::size_t end = dot == std::string_view::npos ? body.size() : dot;
        const std::size_t length = end - label;
        if (length == 0 || length > max_label_octets) {
            out.resize(start);
            return false;
        }
        *w++ = static_cast<uint8_t>(length);
        std::memcpy(w, body.data() + label, length);
        w += length;
        if (end == body.size()) break;
        label = end + 1;
    }
    *w = 0;  // the root label
    return true;
}

// Encodes a presentation-format name into out (appending). Returns the reason when invalid,
// empty when valid; on failure out may hold a partial name.
std::string encode_into(std::string_view name, std::vector<uint8_t>& out) {
    if (encode_plain_into(name, out)) return {};
    if (name.empty()) return "empty name";
    if (name == ".") {
        out.push_back(0);
        return {};
    }
    const std::size_t start = out.size();
    std::size_t len_pos = out.size();
    out.push_back(0);  // length byte of the first label, patched below
    std::size_t label_len = 0;
    std::size_t pos = 0;
    while (pos < name.size()) {
        const Token t = next_token(name, pos);
        if (t.bad) return "bad escape at offset " + std::to_string(pos) + " (use \\DDD or \\X)";
        if (t.separator) {
            if (label_len == 0) return "empty label at offset " + std::to_string(pos);
            out[len_pos] = static_cast<uint8_t>(label_len);
            if (t.next == name.size()) break;  // the trailing dot of an absolute name
            len_pos = out.size();
            out.push_back(0);
            label_len = 0;
        } else {
            if (++label_len > max_label_octets)
                return "label longer than 63 octets at offset " + std::to_string(pos);
            out.push_back(t.byte);
        }
        if (out.size() - start + 1 > max_name_octets) break;  // reported below
        pos = t.next;
    }
    if (label_len > 0) out[len_pos] = static_cast<uint8_t>(label_len);
    out.push_back(0);  // the root label
    if (out.size() - start > max_name_octets) return "name longer than 255 octets in wire form";
    return {};
}

// ---- names in messages (RFC 1035 4.1.4) ----

struct NameRead {
    ParseError error = ParseError::none;
    std::size_t error_offset = 0;
    std::size_t end = 0;  // position just after the name where it was started
};

// Walks the name at pos, calling on_label(first octet, length) for each label in order. The
// labels before the first pointer must lie below bound (the message end, or the end of the
// RDATA holding the name); running past it is too_short for a section and bad_rdata inside
// RDATA. Every pointer must point strictly before the start of the label sequence that holds
// it, so a chain always moves backwards and ends; the hop count is capped as well. Iterative:
// no recursion on input. Every reader of names goes through here, so they all check the same.
template <typename OnLabel>
NameRead walk_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound, bool in_rdata,
                   OnLabel&& on_label) {
    NameRead r;
    const ParseError truncated = in_rdata ? ParseError::bad_rdata : ParseError::too_short;
    // Label sequences read so far, [begin, end) each, to tell a loop from a forward pointer.
    // Left uninitialised on purpose: this runs for every name of every message.
    struct Segment {
        std::size_t begin, end;
    };
    std::array<Segment, max_pointer_hops + 1> segments;
    std::size_t nsegments = 0;
    std::size_t seg_start = pos;
    std::size_t cur = pos;
    std::size_t octets = 0;  // wire length of the labels so far
    bool jumped = false;
    auto fail = [&r](ParseError e, std::size_t at) {
        r.error = e;
        r.error_offset = at;
        return r;
    };
    for (;;) {
        if (cur >= bound) return fail(truncated, cur);
        const uint8_t len = wire[cur];
        switch (len & 0xc0) {
            case 0x00: {
                if (len == 0) {
                    if (!jumped) r.end = cur + 1;
                    return r;
                }
                if (octets + 1 + len + 1 > max_name_octets)
                    return fail(ParseError::name_too_long, cur);
                if (bound - cur - 1 < len) return fail(truncated, cur);
                on_label(&wire[cur + 1], std::size_t{len});
                octets += 1 + len;
                cur += 1 + len;
                break;
            }
            case 0xc0: {
                if (bound - cur < 2) return fail(truncated, cur);
                const std::size_t target = ((len & 0x3fu) << 8) | wire[cur + 1];
                if (!jumped) r.end = cur + 2;
                segments[nsegments++] = {seg_start, cur + 2};
                if (target >= seg_start) {
                    if (target >= wire.size()) return fail(ParseError::pointer_out_of_range, cur);
                    for (std::size_t i = 0; i < nsegments; ++i)
                        if (target >= segments[i].begin && target < segments[i].end)
                            return fail(ParseError::pointer_loop, cur);
                    return fail(ParseError::pointer_out_of_range, cur);  // forward
                }
                if (nsegments > max_pointer_hops) return fail(ParseError::pointer_loop, cur);
                jumped = true;
                bound = wire.size();
                seg_start = target;
                cur = target;
                break;
            }
            default:  // 0x40 (extended label type, RFC 6891 5) and 0x80 are not in use
                return fail(ParseError::bad_label, cur);
        }
    }
}

// Reads the name at pos into out (presentation format), with walk_name's checks. Rendered on
// the stack and assigned once: out is allocated at most once, at its final size (appending
// label by label grew it, and the SOA's two names are decoded for every probe).
NameRead read_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound, bool in_rdata,
                   std::string& out) {
    // max_name_octets of wire hold at most 127 labels; each renders to kMaxLabelText and a dot.
    std::array<char, max_name_octets * 4 + 1> text;
    std::size_t n = 0;
    const NameRead r =
        walk_name(wire, pos, bound, in_rdata, [&](const uint8_t* p, std::size_t len) {
            n += render_label(text.data() + n, p, len);
            text[n++] = '.';
        });
    if (r.error == ParseError::none && n == 0) text[n++] = '.';
    out.assign(text.data(), n);
    return r;
}

// ---- records ----

class Parser {
  public:
    Parser(std::span<const uint8_t> wire, ParseResult& result) : wire_(wire), result_(result) {}

    bool fail(ParseError e, std::size_t at) {
        result_.error = e;
        result_.error_offset = at;
        return false;
    }

    bool name(std::string& out, std::size_t bound, bool in_rdata) {
        const NameRead r = read_name(wire_, pos_, bound, in_rdata, out);
        if (r.error != ParseError::none) return fail(r.error, r.error_offset);
        pos_ = r.end;
        return true;
    }

    bool header() {
        if (wire_.size() < kHeaderSize) return fail(ParseError::too_short, 0);
        Header& h = result_.message.header;
        h.id = read_u16(wire_, 0);
        const uint8_t b2 = wire_[2];
        const uint8_t b3 = wire_[3];
        h.qr = (b2 & 0x80) != 0;
        h.opcode = static_cast<uint8_t>((b2 >> 3) & 0x0f);
        h.aa = (b2 & 0x04) != 0;
        h.tc = (b2 & 0x02) != 0;
        h.rd = (b2 & 0x01) != 0;
        h.ra = (b3 & 0x80) != 0;
        h.ad = (b3 & 0x20) != 0;
        h.cd = (b3 & 0x10) != 0;
        h.rcode = b3 & 0x0fu;
        h.qdcount = read_u16(wire_, 4);
        h.ancount = read_u16(wire_, 6);
        h.nscount = read_u16(wire_, 8);
        h.arcount = read_u16(wire_, 10);
        pos_ = kHeaderSize;
        return true;
    }

    bool questions(std::size_t count) {
        auto& qs = result_.message.questions;
        qs.reserve(std::min(count, (wire_.size() - pos_) / min_question_size));
        for (std::size_t i = 0; i < count; ++i) {
            Question& q = qs.emplace_back();
            if (!question(q)) {
                qs.pop_back();  // keep only whole entries in a failed result
                return false;
            }
        }
        return true;
    }

    bool question(Question& q) {
        if (!name(q.name, wire_.size(), false)) return false;
        if (wire_.size() - pos_ < 4) return fail(ParseError::too_short, pos_);
        q.type = read_u16(wire_, pos_);
        q.qclass = read_u16(wire_, pos_ + 2);
        pos_ += 4;
        return true;
    }

    bool records(std::vector<ResourceRecord>& rrs, std::size_t count, bool additional) {
        rrs.reserve(std::min(count, (wire_.size() - pos_) / min_rr_size));
        for (std::size_t i = 0; i < count; ++i) {
            ResourceRecord& rr = rrs.emplace_back();
            if (!record(rr, additional)) {
                rrs.pop_back();
                return false;
            }
        }
        return true;
    }

    bool record(ResourceRecord& rr, bool additional) {
        if (!name(rr.owner, wire_.size(), false)) return false;
        if (wire_.size() - pos_ < 10) return fail(ParseError::too_short, pos_);
        rr.type = read_u16(wire_, pos_);
        rr.rclass = read_u16(wire_, pos_ + 2);
        rr.ttl = read_u32(wire_, pos_ + 4);
        const std::size_t rdlength = read_u16(wire_, pos_ + 8);
        const std::size_t rdlength_at = pos_ + 8;
        pos_ += 10;
        if (wire_.size() - pos_ < rdlength) return fail(ParseError::rdata_overflow, rdlength_at);
        const std::size_t rdata_end = pos_ + rdlength;
        rr.rdata.assign(wire_.begin() + static_cast<std::ptrdiff_t>(pos_),
                        wire_.begin() + static_cast<std::ptrdiff_t>(rdata_end));
        if (!rdata(rr, rdata_end, additional)) return false;
        pos_ = rdata_end;
        return true;
    }

  private:
    // Decodes the RDATA of the types we use; pos_ is at its start. It must be consumed exactly.
    bool rdata(ResourceRecord& rr, std::size_t end, bool additional) {
        const std::size_t start = pos_;
        switch (rr.type) {
            case rrtype::SOA: {  // RFC 1035 3.3.13
                SoaRdata soa;
                if (!name(soa.mname, end, true) || !name(soa.rname, end, true)) return false;
                if (end - pos_ != 20) return fail(ParseError::bad_rdata, pos_);
                read_soa_timers(wire_, pos_, soa);
                rr.soa = std::move(soa);
                return true;
            }
            case rrtype::NS:  // RFC 1035 3.3.11, 3.3.1
            case rrtype::CNAME:
            case rrtype::PTR:  // RFC 1035 3.3.12 (catalog zones' members, RFC 9432 4.1)
                if (!name(rr.target, end, true)) return false;
                if (pos_ != end) return fail(ParseError::bad_rdata, pos_);
                return true;
            case rrtype::A:       // RFC 1035 3.4.1 (class IN only)
            case rrtype::AAAA: {  // RFC 3596 2.2
                if (rr.rclass != class_IN) return true;
                const std::size_t want = rr.type == rrtype::A ? 4 : 16;
                if (end - start != want) return fail(ParseError::bad_rdata, start);
                char text[INET6_ADDRSTRLEN];
                const int family = rr.type == rrtype::A ? AF_INET : AF_INET6;
                if (inet_ntop(family, &wire_[start], text, sizeof text) == nullptr)
                    return fail(ParseError::bad_rdata, start);
                rr.address = text;
                return true;
            }
            case rrtype::RRSIG: {  // RFC 4034 3.1: 18 octets of fields, the signer, the signature
                if (end - start < 18) return fail(ParseError::bad_rdata, start);
                RrsigRdata sig;
                sig.type_covered = read_u16(wire_, start);
                sig.algorithm = wire_[start + 2];
                sig.labels = wire_[start + 3];
                sig.original_ttl = read_u32(wire_, start + 4);
                sig.expiration = read_u32(wire_, start + 8);
                sig.inception = read_u32(wire_, start + 12);
                sig.key_tag = read_u16(wire_, start + 16);
                pos_ = start + 18;
                // RFC 4034 3.1.7 forbids compressing the signer's name; a pointer is still read
                // (backwards only, as everywhere), as lenient parsers do, since it changes no
                // time we read. The signature after it is opaque and may be empty here.
                if (!name(sig.signer, end, true)) return false;
                rr.rrsig = std::move(sig);
                return true;
            }
            case rrtype::OPT: {  // RFC 6891 6.1.2: CLASS is the UDP size, TTL byte 0 the rcode
                Message& m = result_.message;
                if (!additional || m.edns_udp_size || rr.owner != ".") return true;
                m.edns_udp_size = rr.rclass;
                m.header.rcode = (static_cast<unsigned>(rr.ttl >> 24) << 4) | m.header.rcode;
                const EdnsOptions options =
                    read_edns_options(std::span(wire_).subspan(start, end - start));
                m.edns_expire = options.expire;
                if (options.nsid) m.edns_nsid.emplace(options.nsid->begin(), options.nsid->end());
                return true;
            }
            default:
                return true;  // kept as raw RDATA only
        }
    }

    std::span<const uint8_t> wire_;
    ParseResult& result_;
    std::size_t pos_ = 0;
};

}  // namespace

EdnsOptions read_edns_options(std::span<const uint8_t> options) {
    EdnsOptions read;
    std::size_t pos = 0;
    while (options.size() - pos >= 4) {
        const uint16_t code = read_u16(options, pos);
        const std::size_t length = read_u16(options, pos + 2);
        pos += 4;
        if (options.size() - pos < length) return read;
        // RFC 7314 2: the answer's option holds the 32-bit expire value; any other length is
        // not an answer we can read.
        if (code == ednsopt::EXPIRE && length == 4 && !read.expire)
            read.expire = read_u32(options, pos);
        // RFC 5001 2.3: the data is the server's identity, opaque octets of any length.
        if (code == ednsopt::NSID && !read.nsid)
            read.nsid = options.subspan(pos, std::min(length, kMaxNsidOctets));
        pos += length;
    }
    return read;
}

NameInMessage skip_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                        bool in_rdata) {
    bool root = true;
    const NameRead r = walk_name(wire, pos, bound, in_rdata,
                                 [&root](const uint8_t*, std::size_t) { root = false; });
    return {r.error, r.error_offset, r.end, root, false};
}

NameInMessage compare_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                           bool in_rdata, std::span<const uint8_t> expected) {
    std::size_t at = 0;  // the next label of `expected`
    bool equal = true;
    bool root = true;
    const NameRead r =
        walk_name(wire, pos, bound, in_rdata, [&](const uint8_t* p, std::size_t len) {
            root = false;
            if (!equal) return;  // the walk goes on: the name must still be checked to its end
            if (expected.size() - at < len + 1 || expected[at] != len) {
                equal = false;
                return;
            }
            // RFC 4343 2: ASCII letters compare without case, every other octet exactly.
            const uint8_t* want = &expected[at + 1];
            for (std::size_t i = 0; i < len; ++i) {
                if (p[i] != want[i] && lower_table[p[i]] != lower_table[want[i]]) {
                    equal = false;
                    return;
                }
            }
            at += 1 + len;
        });
    equal = equal && at < expected.size() && expected[at] == 0;
    return {r.error, r.error_offset, r.end, root, equal};
}

NameInMessage compare_owner(std::span<const uint8_t> wire, std::size_t pos,
                            std::span<const uint8_t> expected, bool question_is_expected) {
    if (question_is_expected && wire.size() - pos >= 2 && wire[pos] == 0xc0 &&
        wire[pos + 1] == kHeaderSize)
        return {ParseError::none, 0, pos + 2, expected.size() == 1, true};
    return compare_name(wire, pos, wire.size(), false, expected);
}

bool rdata_ok(std::span<const uint8_t> wire, uint16_t type, uint16_t rclass, std::size_t start,
              std::size_t end) {
    switch (type) {
        case rrtype::SOA: {  // RFC 1035 3.3.13
            const auto mname = skip_name(wire, start, end, true);
            if (!mname.ok()) return false;
            const auto rname = skip_name(wire, mname.end, end, true);
            return rname.ok() && end - rname.end == 20;
        }
        case rrtype::NS:  // RFC 1035 3.3.11, 3.3.1
        case rrtype::CNAME:
        case rrtype::PTR: {
            const auto target = skip_name(wire, start, end, true);
            return target.ok() && target.end == end;
        }
        case rrtype::A:  // RFC 1035 3.4.1, RFC 3596 2.2 (class IN only)
        case rrtype::AAAA:
            return rclass != class_IN || end - start == (type == rrtype::A ? 4u : 16u);
        case rrtype::RRSIG:  // RFC 4034 3.1
            return end - start >= 18 && skip_name(wire, start + 18, end, true).ok();
        default:
            return true;
    }
}

NameInMessage decode_name(std::span<const uint8_t> wire, std::size_t pos, std::size_t bound,
                          bool in_rdata, std::string& out) {
    const NameRead r = read_name(wire, pos, bound, in_rdata, out);
    return {r.error, r.error_offset, r.end, out == ".", false};
}

std::string rcode_name(unsigned rc) {
    static constexpr std::array<const char*, 11> names = {
        "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
    if (rc < names.size()) return names[rc];
    if (rc == rcode::BADVERS) return "BADVERS";
    return "RCODE" + std::to_string(rc);
}

std::string_view parse_error_name(ParseError e) {
    switch (e) {
        case ParseError::none:
            return "none";
        case ParseError::too_short:
            return "too_short";
        case ParseError::bad_label:
            return "bad_label";
        case ParseError::pointer_loop:
            return "pointer_loop";
        case ParseError::pointer_out_of_range:
            return "pointer_out_of_range";
        case ParseError::name_too_long:
            return "name_too_long";
        case ParseError::rdata_overflow:
            return "rdata_overflow";
        case ParseError::bad_rdata:
            return "bad_rdata";
        case ParseError::too_many_records:
            return "too_many_records";
    }
    return "unknown";
}

ParseResult parse_message(std::span<const uint8_t> wire, std::size_t max_records) {
    ParseResult result;
    Parser p(wire, result);
    if (!p.header()) return result;
    const Header& h = result.message.header;
    const std::size_t total = std::size_t{h.qdcount} + h.ancount + h.nscount + h.arcount;
    if (total > max_records) {
        p.fail(ParseError::too_many_records, 4);
        return result;
    }
    Message& m = result.message;
    if (!p.questions(h.qdcount)) return result;
    if (!p.records(m.answers, h.ancount, false)) return result;
    if (!p.records(m.authority, h.nscount, false)) return result;
    p.records(m.additional, h.arcount, true);
    return result;
}

void append_tcp_message(std::vector<uint8_t>& out, std::span<const uint8_t> message) {
    out.reserve(out.size() + 2 + message.size());
    out.push_back(static_cast<uint8_t>(message.size() >> 8));
    out.push_back(static_cast<uint8_t>(message.size()));
    out.insert(out.end(), message.begin(), message.end());
}

std::vector<uint8_t> build_query(uint16_t id, std::string_view qname, uint16_t qtype,
                                 bool recursion_desired, uint16_t edns_udp_size, bool edns_expire,
                                 bool edns_nsid, bool dnssec_ok) {
    const bool expire_option = edns_udp_size > 0 && edns_expire;
    const bool nsid_option = edns_udp_size > 0 && edns_nsid;
    const uint16_t rdlength = (expire_option ? 4 : 0) + (nsid_option ? 4 : 0);
    // The fixed parts are written into arrays and appended whole (a push_back per octet was a
    // third of building an SOA probe's query).
    std::array<uint8_t, kHeaderSize> header{};  // ANCOUNT and NSCOUNT 0
    header[0] = static_cast<uint8_t>(id >> 8);
    header[1] = static_cast<uint8_t>(id & 0xff);
    header[2] = recursion_desired ? 0x01 : 0x00;  // QR=0, opcode QUERY, RD
    header[5] = 1;                                // QDCOUNT
    header[11] = edns_udp_size > 0 ? 1 : 0;       // ARCOUNT: the OPT record
    std::array<uint8_t, 4 + 11 + 8> tail{};
    std::size_t n = 0;
    const auto put = [&tail, &n](uint16_t v) {
        tail[n++] = static_cast<uint8_t>(v >> 8);
        tail[n++] = static_cast<uint8_t>(v & 0xff);
    };
    put(qtype);
    put(class_IN);
    if (edns_udp_size > 0) {  // RFC 6891 6.1.2: root owner, TTL: rcode 0, version 0, flags
        tail[n++] = 0;
        put(rrtype::OPT);
        put(edns_udp_size);
        put(0);
        put(dnssec_ok ? 0x8000 : 0);  // RFC 3225 3: DO is the flags' top bit
        put(rdlength);
        if (expire_option) {  // RFC 7314 2: OPTION-LENGTH 0 in a query
            put(ednsopt::EXPIRE);
            put(0);
        }
        if (nsid_option) {  // RFC 5001 2.1: a query's NSID option is empty
            put(ednsopt::NSID);
            put(0);
        }
    }
    std::vector<uint8_t> out;
    out.reserve(header.size() + qname.size() + 2 + n);
    out.insert(out.end(), header.begin(), header.end());
    if (!encode_into(qname, out).empty()) return {};
    out.insert(out.end(), tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
}

std::vector<uint8_t> build_notify_response(const Message& request, uint8_t rc) {
    if (request.questions.size() != 1 || rc > 0x0f) return {};
    const Question& q = request.questions[0];
    std::vector<uint8_t> out;
    out.reserve(kHeaderSize + q.name.size() + 2 + 4);
    put_u16(out, request.header.id);
    out.push_back(static_cast<uint8_t>(0x80 | (opcode::NOTIFY << 3) | 0x04));  // QR, NOTIFY, AA
    out.push_back(rc);
    put_u16(out, 1);
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, 0);
    if (!encode_into(q.name, out).empty()) return {};
    put_u16(out, q.type);
    put_u16(out, q.qclass);
    return out;
}

namespace {

// Most names need no escape (every name the parser writes without one, every usual name in
// config): lower case and one trailing dot is all their canonical form needs.
bool needs_no_escape(std::string_view name) {
    return std::all_of(name.begin(), name.end(), [](char c) {
        return c == '.' || escape_table[static_cast<uint8_t>(c)] == Escape::none;
    });
}

}  // namespace

void make_canonical(std::string& name) {
    const bool one_trailing_dot =
        !name.empty() && name.back() == '.' && (name.size() == 1 || name[name.size() - 2] != '.');
    if (one_trailing_dot && needs_no_escape(name)) {
        for (char& c : name) c = ascii_lower(c);
        return;
    }
    name = canonical_name(name);
}

std::string canonical_name(std::string_view name) {
    // Without re-rendering byte by byte where no escape is needed.
    if (needs_no_escape(name)) {
        std::size_t end = name.size();
        while (end > 0 && name[end - 1] == '.') --end;
        std::string out(name.substr(0, end));
        for (char& c : out) c = ascii_lower(c);
        out.push_back('.');
        return out;
    }
    std::string out;
    out.reserve(name.size() + 1);
    std::size_t content_end = 0;  // out's length after the last label byte
    std::size_t pos = 0;
    while (pos < name.size()) {
        const Token t = next_token(name, pos);
        if (t.separator) {
            out.push_back('.');
        } else {
            // Re-render every byte the one way append_label does, so "\065" and "A" agree.
            const uint8_t b = static_cast<uint8_t>(ascii_lower(static_cast<char>(t.byte)));
            append_label(out, &b, 1);
            content_end = out.size();
        }
        pos = t.next;
    }
    out.resize(content_end);
    out.push_back('.');
    return out;
}

bool names_equal(std::string_view a, std::string_view b) {
    if (a.find('\\') == std::string_view::npos && b.find('\\') == std::string_view::npos) {
        // Fast path without escapes: drop trailing dots, compare ASCII case-insensitively.
        while (!a.empty() && a.back() == '.') a.remove_suffix(1);
        while (!b.empty() && b.back() == '.') b.remove_suffix(1);
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
    }
    return canonical_name(a) == canonical_name(b);
}

std::string validate_name(std::string_view name) {
    std::vector<uint8_t> scratch;
    scratch.reserve(name.size() + 2);
    return encode_into(name, scratch);
}

std::vector<uint8_t> encode_name(std::string_view name) {
    std::vector<uint8_t> out;
    out.reserve(name.size() + 2);
    if (!encode_into(name, out).empty()) return {};
    return out;
}

void read_soa_timers(std::span<const uint8_t> wire, std::size_t pos, SoaRdata& soa) {
    soa.serial = read_u32(wire, pos);
    soa.refresh = read_u32(wire, pos + 4);
    soa.retry = read_u32(wire, pos + 8);
    soa.expire = read_u32(wire, pos + 12);
    soa.minimum = read_u32(wire, pos + 16);
}

}  // namespace soawatch::dns
