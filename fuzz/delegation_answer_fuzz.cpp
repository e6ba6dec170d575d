// libFuzzer target for the delegation check's answers (probes/delegation_answer.cpp): an answer
// to "ZONE NS" (a referral or the zone's own NS set) and to "NAME A/AAAA". Besides ASan/UBSan it
// checks the promises of delegation_answer.hpp:
//   - a usable NS answer has at least one name, names sorted and unique, and only a referral
//     carries glue, each glue record owned by one of the names;
//   - an answer with an error has no names and no addresses;
//   - the result depends only on the bytes: a second call on a used observation agrees.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "probes/delegation_answer.hpp"
#include "probes/dns_wire.hpp"

namespace dns = soawatch::dns;
using soawatch::AddressObservation;
using soawatch::NsObservation;
using soawatch::Transport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> wire(data, size);
    // The name the answer claims, so the fuzzer gets past the question check.
    std::string name = "example.test.";
    if (auto parsed = dns::parse_message(wire, 16); !parsed.message.questions.empty())
        name = dns::canonical_name(parsed.message.questions[0].name);

    for (const Transport transport : {Transport::udp, Transport::tcp}) {
        NsObservation ns;
        const bool retry = soawatch::classify_ns_answer(wire, name, transport, ns);
        if (retry) FUZZ_CHECK(transport == Transport::udp);
        if (!retry && ns.usable()) {
            FUZZ_CHECK(!ns.names.empty());
            FUZZ_CHECK(std::is_sorted(ns.names.begin(), ns.names.end()));
            FUZZ_CHECK(std::adjacent_find(ns.names.begin(), ns.names.end()) == ns.names.end());
            for (const auto& [owner, address] : ns.glue) {
                FUZZ_CHECK(std::binary_search(ns.names.begin(), ns.names.end(), owner));
                FUZZ_CHECK(!address.empty());
            }
        }
        if (!ns.usable()) FUZZ_CHECK(ns.glue.empty());
        if (!ns.referral) FUZZ_CHECK(ns.glue.empty());
        NsObservation again = ns;
        soawatch::classify_ns_answer(wire, name, transport, again);
        FUZZ_CHECK(again.error == ns.error && again.names == ns.names && again.glue == ns.glue &&
                   again.referral == ns.referral);

        for (const uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA}) {
            AddressObservation a;
            soawatch::classify_address_answer(wire, name, type, transport, a);
            if (!a.error.empty()) FUZZ_CHECK(a.addresses.empty());
            FUZZ_CHECK(std::is_sorted(a.addresses.begin(), a.addresses.end()));
            AddressObservation b = a;
            soawatch::classify_address_answer(wire, name, type, transport, b);
            FUZZ_CHECK(b.error == a.error && b.addresses == a.addresses);
        }
    }
    return 0;
}
