// libFuzzer target for what the NOTIFY listener does with a datagram (probes/notify_request.cpp):
// decode it, and build the answer. Besides ASan/UBSan it checks:
//   - a datagram is either a NOTIFY for a zone (a valid, canonical name) or ignored with a
//     reason, never both;
//   - only a NOTIFY gets an answer (the listener must not reflect junk), and the answer parses
//     back as a NOTIFY response with the request's ID and question and the expected rcode.
#include <cstdint>
#include <span>

#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"
#include "probes/notify_request.hpp"

namespace dns = soawatch::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto request = soawatch::decode_notify(std::span<const uint8_t>(data, size));
    FUZZ_CHECK(request.zone.empty() != request.ignored.empty());
    for (const bool watched : {true, false}) {
        const auto answer = soawatch::answer_notify(request, watched);
        if (request.zone.empty()) {
            FUZZ_CHECK(answer.empty());
            continue;
        }
        FUZZ_CHECK(dns::validate_name(request.zone).empty());
        FUZZ_CHECK(dns::canonical_name(request.zone) == request.zone);
        FUZZ_CHECK(!answer.empty());
        const auto back = dns::parse_message(answer);
        FUZZ_CHECK(back.ok());
        const auto& h = back.message.header;
        FUZZ_CHECK(h.qr && h.aa && h.opcode == dns::opcode::NOTIFY);
        FUZZ_CHECK(h.id == request.message.header.id);
        FUZZ_CHECK(h.rcode == (watched ? dns::rcode::NOERROR : dns::rcode::NOTAUTH));
        FUZZ_CHECK(back.message.questions.size() == 1);
        FUZZ_CHECK(dns::names_equal(back.message.questions[0].name, request.zone));
        FUZZ_CHECK(back.message.questions[0].type == dns::rrtype::SOA);
        // Header, one question (a name of at most 255 octets), nothing else: no amplification.
        FUZZ_CHECK(answer.size() <= 12 + 255 + 4);
    }
    return 0;
}
