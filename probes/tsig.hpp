// TSIG (RFC 8945): signing a request and verifying the first message of its answer with a shared
// HMAC key, on OpenSSL. Only what a client that reads one answer message needs: no server side,
// no multi-message digests (RFC 8945 5.3.1), no truncated MACs (5.2.2.1: refused as BADTRUNC).
// Everything verified here came from the network and is parsed defensively.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace soawatch::tsig {

inline constexpr uint16_t kRrType = 250;  // TSIG (RFC 8945 4.2)
inline constexpr uint16_t kClassAny = 255;
inline constexpr uint16_t kDefaultFudge = 300;  // RFC 8945 10: 300 seconds recommended

// TSIG error codes of the TSIG RR's Error field (RFC 8945 4.2, 5.3.2).
namespace error {
inline constexpr uint16_t NOERROR = 0;
inline constexpr uint16_t BADSIG = 16;
inline constexpr uint16_t BADKEY = 17;
inline constexpr uint16_t BADTIME = 18;
inline constexpr uint16_t BADTRUNC = 22;
}  // namespace error
std::string error_name(uint16_t code);  // "BADSIG", ..., "TSIG error 23"

// The HMAC algorithms RFC 8945 6 says an implementation must support (SHA-1 left out: it is
// "MAY" and not worth offering for a new key).
enum class Algorithm { hmac_sha256, hmac_sha512 };
// Config spelling "hmac-sha256"; the wire name is that with a trailing dot (RFC 8945 6).
std::string_view algorithm_name(Algorithm algorithm);
std::optional<Algorithm> parse_algorithm(std::string_view name);  // any case, trailing dot ok

struct Key {
    std::string name;  // canonical (lower case, trailing dot)
    Algorithm algorithm = Algorithm::hmac_sha256;
    std::vector<uint8_t> secret;
    bool operator==(const Key&) const = default;
};

// RFC 4648 base64 (the form of tsig-keygen's and knotc's secrets): padding required when the
// length asks for it, no white space. nullopt when not valid base64.
std::optional<std::vector<uint8_t>> decode_base64(std::string_view text);

struct SignedMessage {
    std::vector<uint8_t> wire;  // the message with its TSIG record appended, ARCOUNT + 1
    std::vector<uint8_t> mac;   // the request MAC: the answer's MAC covers it (RFC 8945 5.3)
};

// Signs `message` (a complete DNS message without a TSIG record) with `key`, as of `time_signed`
// (seconds since the epoch; 48 bits on the wire). RFC 8945 4.3.3: the MAC covers the message
// and the TSIG variables (key name, class ANY, TTL 0, algorithm, time signed, fudge, error 0,
// no other data). Empty when the message is shorter than a header or the key name is invalid.
SignedMessage sign_request(std::span<const uint8_t> message, const Key& key, uint64_t time_signed,
                           uint16_t fudge = kDefaultFudge);

// What the TSIG of an answer says, checked in RFC 8945 5.3.2's order.
enum class AnswerTsig {
    ok,            // signed with our key, MAC over our request MAC verifies, time within fudge
    missing,       // no TSIG record (an answer to a signed request must carry one)
    malformed,     // a TSIG record that cannot be read, or not the last record
    other_key,     // signed with another key name or algorithm
    server_error,  // the server reports a TSIG error (`error`: BADSIG, BADKEY, BADTIME, ...)
    bad_mac,       // the MAC does not verify with our key (or is truncated)
    bad_time,      // signed more than its fudge away from our clock
};
std::string_view answer_tsig_name(AnswerTsig status);

struct AnswerCheck {
    AnswerTsig status = AnswerTsig::missing;
    uint16_t error = error::NOERROR;  // the TSIG record's Error field, when there is one
    uint64_t time_signed = 0;         // the TSIG record's, when there is one
    std::string detail;               // for people: what exactly failed
    std::vector<uint8_t> mac;         // when ok: the answer's MAC (the next message's digest
                                      // starts with it, RFC 8945 5.3.1)
};

// Verifies the TSIG of `answer`, the first message answering a request signed with `key` whose
// MAC was `request_mac`, at `now` (seconds since the epoch). RFC 8945 5.3.2: the answer's MAC
// covers the request MAC, the answer with its TSIG record removed (ARCOUNT - 1, the original ID
// restored) and the TSIG variables. A server error (BADKEY, BADSIG) comes unsigned (MAC size 0)
// and is reported as such; a BADTIME answer is reported as server_error whether or not its MAC
// verifies. Never throws except std::bad_alloc.
AnswerCheck verify_answer(std::span<const uint8_t> answer, const Key& key,
                          std::span<const uint8_t> request_mac, uint64_t now);

// Verifies a later message of a multi-message answer (a zone transfer), RFC 8945 5.3.1: its MAC
// covers the previous signed message's MAC (with its length), the messages that came unsigned
// since then (`unsigned_before`: their octets one after the other; RFC 8945 allows up to 99),
// this message without its TSIG record (ARCOUNT - 1, original ID) and only the TSIG timers (time
// signed, fudge). `missing` when this message is not signed: the caller counts those and keeps
// their octets for the next signed one. Never throws except std::bad_alloc.
AnswerCheck verify_continuation(std::span<const uint8_t> answer, const Key& key,
                                std::span<const uint8_t> prior_mac,
                                std::span<const uint8_t> unsigned_before, uint64_t now);

}  // namespace soawatch::tsig
