// libFuzzer target for the whole path from the bytes a nameserver sends to the observation the
// agent keeps: classify_soa_response (probes/soa_answer.cpp), over UDP and TCP, for the zone the
// answer claims to be about and for another one. Besides ASan/UBSan it checks the promises of
// soa_answer.hpp:
//   - the SOA is set exactly when there is no error, and then the answer was authoritative
//     NOERROR; an error always comes with a detail;
//   - "ask again over TCP" only for a UDP answer, and never with an error;
//   - the RRSIG(SOA) is read only from a usable answer, and its times turn into moments within
//     2^31 seconds of now whatever they are (RFC 4034 3.1.5);
//   - the result depends only on the bytes: a second call on a used observation agrees;
//   - the quick reading of usable answers (probes/soa_answer_reader.cpp) and the full reading
//     give the same observation, field by field.
#include <cstdint>
#include <span>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"
#include "probes/rrsig.hpp"
#include "probes/soa_answer.hpp"

namespace dns = soawatch::dns;
using soawatch::ProbeError;
using soawatch::SoaObservation;
using soawatch::Transport;

namespace {

void check_one(std::span<const uint8_t> wire, const std::string& zone, Transport transport) {
    SoaObservation obs;
    const bool retry_tcp = soawatch::classify_soa_response(wire, zone, transport, obs);
    FUZZ_CHECK(obs.transport == transport);
    if (retry_tcp) {
        FUZZ_CHECK(transport == Transport::udp);
        FUZZ_CHECK(obs.error == ProbeError::none);
        FUZZ_CHECK(!obs.soa);
        return;
    }
    if (obs.error == ProbeError::none) {
        FUZZ_CHECK(obs.soa.has_value());
        FUZZ_CHECK(obs.answered && obs.authoritative && obs.rcode == dns::rcode::NOERROR);
        FUZZ_CHECK(!obs.soa->mname.empty() && obs.soa->mname.back() == '.');
        FUZZ_CHECK(!obs.soa->rname.empty() && obs.soa->rname.back() == '.');
        if (obs.rrsig) {
            constexpr int64_t now = 1'800'000'000;
            for (const uint32_t t : {obs.rrsig->inception, obs.rrsig->expiration}) {
                const int64_t at = soawatch::rrsig_time(t, now);
                FUZZ_CHECK(at - now < (int64_t{1} << 31) && now - at <= (int64_t{1} << 31));
                FUZZ_CHECK(static_cast<uint32_t>(at) == t);
            }
        }
    } else {
        FUZZ_CHECK(!obs.soa.has_value());
        FUZZ_CHECK(!obs.rrsig.has_value());
        FUZZ_CHECK(!obs.detail.empty());
        FUZZ_CHECK(!soawatch::probe_error_name(obs.error).empty());
        // Only the transport-level kinds come without an answer; classify never reports them.
        FUZZ_CHECK(obs.error != ProbeError::timeout &&
                   obs.error != ProbeError::connection_refused &&
                   obs.error != ProbeError::network_error);
        if (obs.error != ProbeError::malformed) FUZZ_CHECK(obs.answered);
    }
    // Reused observation (the prober keeps one per probe across tries): same verdict.
    SoaObservation again = obs;
    const bool retry_again = soawatch::classify_soa_response(wire, zone, transport, again);
    FUZZ_CHECK(retry_again == retry_tcp);
    FUZZ_CHECK(again.error == obs.error && again.detail == obs.detail);
    FUZZ_CHECK(again.soa == obs.soa);
    FUZZ_CHECK(again.rrsig == obs.rrsig);
    // Every answer read in full (an empty zone_wire): the same verdict, field by field.
    SoaObservation full;
    const bool retry_full = soawatch::classify_soa_response(wire, zone, {}, transport, full);
    FUZZ_CHECK(retry_full == retry_tcp);
    FUZZ_CHECK(full.error == obs.error && full.detail == obs.detail);
    FUZZ_CHECK(full.answered == obs.answered && full.rcode == obs.rcode);
    FUZZ_CHECK(full.authoritative == obs.authoritative);
    FUZZ_CHECK(full.soa == obs.soa && full.soa_ttl == obs.soa_ttl);
    FUZZ_CHECK(full.expire_remaining == obs.expire_remaining);
    FUZZ_CHECK(full.nsid.view() == obs.nsid.view());
    FUZZ_CHECK(full.rrsig == obs.rrsig);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> wire(data, size);
    // The zone the answer is about, so the fuzzer gets past the question check; and a fixed
    // one, so answers for another question are exercised too.
    std::string zone = "example.test.";
    if (auto parsed = dns::parse_message(wire, 16); !parsed.message.questions.empty())
        zone = dns::canonical_name(parsed.message.questions[0].name);
    for (Transport t : {Transport::udp, Transport::tcp}) {
        check_one(wire, zone, t);
        if (zone != "example.test.") check_one(wire, "example.test.", t);
    }
    return 0;
}
