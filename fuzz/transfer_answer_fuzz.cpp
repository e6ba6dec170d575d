// libFuzzer target for the answer side of the transfer audit: the first message of an answer to
// an unsigned AXFR and to a TSIG-signed IXFR (probes/transfer_answer.cpp, probes/tsig.cpp).
// Besides ASan/UBSan it checks the promises of transfer_answer.hpp and tsig.hpp:
//   - an AXFR answer is never ok/badkey/badsig/badtime/unsigned (those are TSIG outcomes), and
//     an IXFR answer is never open;
//   - `open` and `ok` come with the SOA serial, and every other outcome with a detail;
//   - the transport-level kinds (timeout, connection_refused, network_error) never come from
//     bytes;
//   - the verdict depends only on the bytes: a second call on a used observation agrees.
#include <cstdint>
#include <span>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"
#include "probes/transfer_answer.hpp"
#include "probes/tsig.hpp"

namespace dns = soawatch::dns;
namespace tsig = soawatch::tsig;
using soawatch::TransferObservation;
using soawatch::TransferResult;

namespace {

void check_common(const TransferObservation& obs) {
    FUZZ_CHECK(obs.result != TransferResult::timeout &&
               obs.result != TransferResult::connection_refused &&
               obs.result != TransferResult::network_error);
    if (obs.result == TransferResult::open || obs.result == TransferResult::ok)
        FUZZ_CHECK(obs.serial.has_value());
    FUZZ_CHECK(!obs.detail.empty());
    FUZZ_CHECK(soawatch::transfer_result_name(obs.result) != "unknown");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> wire(data, size);
    // The zone and ID the answer claims, so the fuzzer gets past those checks.
    std::string zone = "example.test.";
    uint16_t id = 0;
    if (auto parsed = dns::parse_message(wire, 16); !parsed.message.questions.empty()) {
        zone = dns::canonical_name(parsed.message.questions[0].name);
        id = parsed.message.header.id;
    }
    TransferObservation axfr;
    soawatch::classify_axfr_answer(wire, zone, id, axfr);
    check_common(axfr);
    FUZZ_CHECK(axfr.result != TransferResult::ok && axfr.result != TransferResult::badkey &&
               axfr.result != TransferResult::badsig && axfr.result != TransferResult::badtime &&
               axfr.result != TransferResult::unsigned_answer);
    TransferObservation again = axfr;
    soawatch::classify_axfr_answer(wire, zone, id, again);
    FUZZ_CHECK(again.result == axfr.result && again.detail == axfr.detail &&
               again.serial == axfr.serial);

    // The lab's key (tests/unit/tsig_test.cpp), and a request MAC taken from the input's end so
    // a mutated answer can carry a MAC that verifies.
    static const tsig::Key key{
        "lab-xfr.", tsig::Algorithm::hmac_sha256,
        *tsig::decode_base64("kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=")};
    const auto mac = wire.size() >= 32 ? wire.last(32) : wire;
    for (const uint64_t now : {uint64_t{0x6b1454c1}, uint64_t{0}}) {
        TransferObservation ixfr;
        soawatch::classify_signed_ixfr_answer(wire, zone, id, key, mac, now, ixfr);
        check_common(ixfr);
        FUZZ_CHECK(ixfr.result != TransferResult::open);
        const auto check = tsig::verify_answer(wire, key, mac, now);
        if (ixfr.result == TransferResult::ok) FUZZ_CHECK(check.status == tsig::AnswerTsig::ok);
        FUZZ_CHECK(!tsig::answer_tsig_name(check.status).empty());
    }
    return 0;
}
