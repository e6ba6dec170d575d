#include "probes/tsig.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

#include "agent/common/base64.hpp"
#include "probes/dns_wire.hpp"

namespace soawatch::tsig {

namespace {

constexpr std::size_t kArcountOffset = 10;

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

void put_u48(std::vector<uint8_t>& out, uint64_t v) {
    for (int shift = 40; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

using dns::read_u16;

const EVP_MD* digest_of(Algorithm algorithm) {
    return algorithm == Algorithm::hmac_sha512 ? EVP_sha512() : EVP_sha256();
}

std::vector<uint8_t> hmac(const Key& key, std::span<const uint8_t> data) {
    std::array<uint8_t, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    // HMAC() takes a null key pointer as "no key": give it a valid pointer for an empty secret.
    static const uint8_t kEmpty = 0;
    const uint8_t* secret = key.secret.empty() ? &kEmpty : key.secret.data();
    if (HMAC(digest_of(key.algorithm), secret, static_cast<int>(key.secret.size()), data.data(),
             data.size(), out.data(), &length) == nullptr)
        return {};
    return {out.begin(), out.begin() + length};
}

// The TSIG variables (RFC 8945 4.3.3): key name and algorithm in canonical wire form (lower
// case, uncompressed), class ANY, TTL 0, time signed, fudge, error, other data.
void append_variables(std::vector<uint8_t>& out, const Key& key, uint64_t time_signed,
                      uint16_t fudge, uint16_t error, std::span<const uint8_t> other) {
    const auto name = dns::encode_name(dns::canonical_name(key.name));
    out.insert(out.end(), name.begin(), name.end());
    put_u16(out, kClassAny);
    out.insert(out.end(), {0, 0, 0, 0});  // TTL
    const auto algorithm = dns::encode_name(algorithm_name(key.algorithm));
    out.insert(out.end(), algorithm.begin(), algorithm.end());
    put_u48(out, time_signed);
    put_u16(out, fudge);
    put_u16(out, error);
    put_u16(out, static_cast<uint16_t>(other.size()));
    out.insert(out.end(), other.begin(), other.end());
}

// End of the (possibly compressed) name at `pos`, or 0 when it runs past the message.
std::size_t skip_name(std::span<const uint8_t> wire, std::size_t pos) {
    while (pos < wire.size()) {
        const uint8_t length = wire[pos];
        if (length == 0) return pos + 1;
        if ((length & 0xc0) == 0xc0) return pos + 2 <= wire.size() ? pos + 2 : 0;
        if ((length & 0xc0) != 0) return 0;
        pos += 1 + length;
    }
    return 0;
}

// Where the last resource record of a message starts (0: not found). The message parsed
// already; this only walks the same bytes again to find the offset the parser does not keep.
std::size_t last_record_offset(std::span<const uint8_t> wire) {
    if (wire.size() < dns::kHeaderSize) return 0;
    const std::size_t qd = read_u16(wire, 4);
    const std::size_t rrs = std::size_t{read_u16(wire, 6)} + read_u16(wire, 8) + read_u16(wire, 10);
    if (rrs == 0) return 0;
    std::size_t pos = dns::kHeaderSize;
    for (std::size_t i = 0; i < qd; ++i) {
        pos = skip_name(wire, pos);
        if (pos == 0 || pos + 4 > wire.size()) return 0;
        pos += 4;
    }
    std::size_t last = 0;
    for (std::size_t i = 0; i < rrs; ++i) {
        last = pos;
        pos = skip_name(wire, pos);
        if (pos == 0 || pos + 10 > wire.size()) return 0;
        pos += 10 + read_u16(wire, pos + 8);
        if (pos > wire.size()) return 0;
    }
    return last;
}

// The TSIG RDATA (RFC 8945 4.2). The algorithm name is never compressed (4.2: "MUST NOT").
struct Rdata {
    std::string algorithm;  // canonical
    uint64_t time_signed = 0;
    uint16_t fudge = 0;
    std::span<const uint8_t> mac;
    uint16_t original_id = 0;
    uint16_t error = 0;
    std::span<const uint8_t> other;
};

std::optional<Rdata> read_rdata(std::span<const uint8_t> rdata) {
    Rdata r;
    std::size_t pos = 0;
    std::string name;
    while (true) {
        if (pos >= rdata.size()) return std::nullopt;
        const uint8_t length = rdata[pos++];
        if (length == 0) break;
        if (length > 63 || pos + length > rdata.size() || name.size() + length + 1 > 255)
            return std::nullopt;
        for (std::size_t i = 0; i < length; ++i) {
            const auto c = static_cast<char>(rdata[pos + i]);
            if (c == '.' || c == '\\' || static_cast<unsigned char>(c) <= ' ') return std::nullopt;
            name += c;
        }
        name += '.';
        pos += length;
    }
    r.algorithm = dns::canonical_name(name.empty() ? "." : name);
    if (pos + 10 > rdata.size()) return std::nullopt;
    for (int i = 0; i < 6; ++i) r.time_signed = (r.time_signed << 8) | rdata[pos + i];
    r.fudge = read_u16(rdata, pos + 6);
    const std::size_t mac_size = read_u16(rdata, pos + 8);
    pos += 10;
    if (pos + mac_size + 6 > rdata.size()) return std::nullopt;
    r.mac = rdata.subspan(pos, mac_size);
    pos += mac_size;
    r.original_id = read_u16(rdata, pos);
    r.error = read_u16(rdata, pos + 2);
    const std::size_t other_size = read_u16(rdata, pos + 4);
    pos += 6;
    if (pos + other_size != rdata.size()) return std::nullopt;
    r.other = rdata.subspan(pos, other_size);
    return r;
}

AnswerCheck result(AnswerTsig status, std::string detail, const Rdata* rdata = nullptr) {
    AnswerCheck check;
    check.status = status;
    check.detail = std::move(detail);
    if (rdata) {
        check.error = rdata->error;
        check.time_signed = rdata->time_signed;
    }
    return check;
}

}  // namespace

std::string error_name(uint16_t code) {
    switch (code) {
        case error::NOERROR:
            return "NOERROR";
        case error::BADSIG:
            return "BADSIG";
        case error::BADKEY:
            return "BADKEY";
        case error::BADTIME:
            return "BADTIME";
        case error::BADTRUNC:
            return "BADTRUNC";
        default:
            return "TSIG error " + std::to_string(code);
    }
}

std::string_view algorithm_name(Algorithm algorithm) {
    return algorithm == Algorithm::hmac_sha512 ? "hmac-sha512" : "hmac-sha256";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
    const std::string canonical = dns::canonical_name(name);
    if (canonical == "hmac-sha256.") return Algorithm::hmac_sha256;
    if (canonical == "hmac-sha512.") return Algorithm::hmac_sha512;
    return std::nullopt;
}

std::string_view answer_tsig_name(AnswerTsig status) {
    switch (status) {
        case AnswerTsig::ok:
            return "ok";
        case AnswerTsig::missing:
            return "missing";
        case AnswerTsig::malformed:
            return "malformed";
        case AnswerTsig::other_key:
            return "other_key";
        case AnswerTsig::server_error:
            return "server_error";
        case AnswerTsig::bad_mac:
            return "bad_mac";
        case AnswerTsig::bad_time:
            return "bad_time";
    }
    return "unknown";
}

std::optional<std::vector<uint8_t>> decode_base64(std::string_view text) {
    if (text.empty()) return std::nullopt;  // a key has a secret
    const auto decoded = soawatch::decode_base64(text);
    if (!decoded) return std::nullopt;
    return std::vector<uint8_t>(decoded->begin(), decoded->end());
}

SignedMessage sign_request(std::span<const uint8_t> message, const Key& key, uint64_t time_signed,
                           uint16_t fudge) {
    const auto key_name = dns::encode_name(dns::canonical_name(key.name));
    if (message.size() < dns::kHeaderSize || key_name.empty()) return {};
    // RFC 8945 4.3.3: MAC over the message as sent (without the TSIG) and the variables.
    std::vector<uint8_t> digest(message.begin(), message.end());
    append_variables(digest, key, time_signed, fudge, error::NOERROR, {});
    SignedMessage signed_message;
    signed_message.mac = hmac(key, digest);
    if (signed_message.mac.empty()) return {};

    // RFC 8945 4.2: the TSIG record, last in the additional section.
    auto& out = signed_message.wire;
    out.assign(message.begin(), message.end());
    const uint16_t arcount = read_u16(message, kArcountOffset);
    out[kArcountOffset] = static_cast<uint8_t>((arcount + 1) >> 8);
    out[kArcountOffset + 1] = static_cast<uint8_t>(arcount + 1);
    out.insert(out.end(), key_name.begin(), key_name.end());
    put_u16(out, kRrType);
    put_u16(out, kClassAny);
    out.insert(out.end(), {0, 0, 0, 0});  // TTL
    std::vector<uint8_t> rdata;
    const auto algorithm = dns::encode_name(algorithm_name(key.algorithm));
    rdata.insert(rdata.end(), algorithm.begin(), algorithm.end());
    put_u48(rdata, time_signed);
    put_u16(rdata, fudge);
    put_u16(rdata, static_cast<uint16_t>(signed_message.mac.size()));
    rdata.insert(rdata.end(), signed_message.mac.begin(), signed_message.mac.end());
    put_u16(rdata, read_u16(message, 0));  // original ID
    put_u16(rdata, error::NOERROR);
    put_u16(rdata, 0);  // other len
    put_u16(out, static_cast<uint16_t>(rdata.size()));
    out.insert(out.end(), rdata.begin(), rdata.end());
    return signed_message;
}

namespace {

// RFC 8945 5.3.1 / 5.3.2: the checks an answer message's TSIG gets, first or later message alike;
// `digest_prefix` is what the MAC covers before the message (the request or prior MAC with its
// length, and for a later message the unsigned messages since), `timers_only` says whether the
// MAC covers just the timers (later messages) or every TSIG variable (the first).
AnswerCheck verify_message(std::span<const uint8_t> answer, const Key& key,
                           std::span<const uint8_t> digest_prefix, bool timers_only, uint64_t now) {
    auto parsed = dns::parse_message(answer);
    if (!parsed.ok())
        return result(AnswerTsig::malformed,
                      "unparsable answer: " + std::string(dns::parse_error_name(parsed.error)));
    const auto& additional = parsed.message.additional;
    // RFC 8945 5.2: a TSIG record anywhere but last is a FORMERR; one missing is unsigned.
    std::size_t tsig_records = 0;
    for (const auto& rr : additional) tsig_records += rr.type == kRrType;
    if (tsig_records == 0) return result(AnswerTsig::missing, "the answer is not signed");
    const auto& rr = additional.back();
    if (tsig_records > 1 || rr.type != kRrType)
        return result(AnswerTsig::malformed, "TSIG record not the last of the answer");
    if (rr.rclass != kClassAny || rr.ttl != 0)
        return result(AnswerTsig::malformed, "TSIG record with a class other than ANY or TTL");
    const auto rdata = read_rdata(rr.rdata);
    if (!rdata) return result(AnswerTsig::malformed, "unreadable TSIG RDATA");

    // RFC 8945 5.3.2: the key and algorithm must be the request's.
    if (!dns::names_equal(rr.owner, key.name) ||
        rdata->algorithm != std::string(algorithm_name(key.algorithm)) + ".")
        return result(AnswerTsig::other_key, "signed with key " + rr.owner + " " + rdata->algorithm,
                      &*rdata);
    // RFC 8945 5.3.2: BADKEY and BADSIG come unsigned; report what the server says.
    if (rdata->error != error::NOERROR && rdata->error != error::BADTIME)
        return result(AnswerTsig::server_error,
                      "the server answers TSIG " + error_name(rdata->error), &*rdata);

    const std::size_t tsig_at = last_record_offset(answer);
    if (tsig_at < dns::kHeaderSize) return result(AnswerTsig::malformed, "TSIG record not found");
    const std::size_t full = EVP_MD_get_size(digest_of(key.algorithm));
    if (rdata->mac.size() != full) {
        // RFC 8945 5.2.2.1 allows truncated MACs by local policy; ours accepts none.
        return result(AnswerTsig::bad_mac,
                      "MAC of " + std::to_string(rdata->mac.size()) + " octets (expected " +
                          std::to_string(full) + ")",
                      &*rdata);
    }
    // The digest: the prefix, the answer without the TSIG record, ARCOUNT less one and the
    // original ID, then the variables (or only the timers).
    std::vector<uint8_t> digest;
    digest.reserve(digest_prefix.size() + tsig_at + 64);
    digest.insert(digest.end(), digest_prefix.begin(), digest_prefix.end());
    const std::size_t body_at = digest.size();
    digest.insert(digest.end(), answer.begin(), answer.begin() + static_cast<long>(tsig_at));
    digest[body_at] = static_cast<uint8_t>(rdata->original_id >> 8);
    digest[body_at + 1] = static_cast<uint8_t>(rdata->original_id);
    const uint16_t arcount = static_cast<uint16_t>(read_u16(answer, kArcountOffset) - 1);
    digest[body_at + kArcountOffset] = static_cast<uint8_t>(arcount >> 8);
    digest[body_at + kArcountOffset + 1] = static_cast<uint8_t>(arcount);
    if (timers_only) {
        put_u48(digest, rdata->time_signed);
        put_u16(digest, rdata->fudge);
    } else {
        append_variables(digest, key, rdata->time_signed, rdata->fudge, rdata->error, rdata->other);
    }
    const auto expected = hmac(key, digest);
    if (expected.size() != rdata->mac.size() ||
        CRYPTO_memcmp(expected.data(), rdata->mac.data(), expected.size()) != 0)
        return result(AnswerTsig::bad_mac, "the answer's MAC does not verify with the key",
                      &*rdata);
    if (rdata->error == error::BADTIME)
        return result(AnswerTsig::server_error, "the server answers TSIG BADTIME", &*rdata);
    // RFC 8945 5.2.3: time signed within fudge of our clock, either way.
    const uint64_t skew =
        now > rdata->time_signed ? now - rdata->time_signed : rdata->time_signed - now;
    if (skew > rdata->fudge)
        return result(AnswerTsig::bad_time,
                      "signed " + std::to_string(skew) + " s away from our clock (fudge " +
                          std::to_string(rdata->fudge) + " s)",
                      &*rdata);
    AnswerCheck ok = result(AnswerTsig::ok, "", &*rdata);
    ok.mac.assign(rdata->mac.begin(), rdata->mac.end());
    return ok;
}

std::vector<uint8_t> mac_with_length(std::span<const uint8_t> mac) {
    std::vector<uint8_t> out;
    out.reserve(2 + mac.size());
    put_u16(out, static_cast<uint16_t>(mac.size()));
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

}  // namespace

AnswerCheck verify_answer(std::span<const uint8_t> answer, const Key& key,
                          std::span<const uint8_t> request_mac, uint64_t now) {
    return verify_message(answer, key, mac_with_length(request_mac), false, now);
}

AnswerCheck verify_continuation(std::span<const uint8_t> answer, const Key& key,
                                std::span<const uint8_t> prior_mac,
                                std::span<const uint8_t> unsigned_before, uint64_t now) {
    auto prefix = mac_with_length(prior_mac);
    prefix.insert(prefix.end(), unsigned_before.begin(), unsigned_before.end());
    return verify_message(answer, key, prefix, true, now);
}

}  // namespace soawatch::tsig
