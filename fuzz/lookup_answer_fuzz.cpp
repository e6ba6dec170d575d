// libFuzzer target for discovery's reading of a resolver's answer (probes/lookup_answer.cpp), for
// NS, A and AAAA lookups of the name the answer's question claims and of another name. Besides
// ASan/UBSan it checks the promises of lookup_answer.hpp:
//   - the quick reading of plain answers and the full reading through parse_message give the
//     same outcome, values, TTL and error, field by field;
//   - values only with the outcome `values`, each once, NS targets canonical; an error text
//     exactly when the outcome is not `values`.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "probes/dns_wire.hpp"
#include "probes/lookup_answer.hpp"

namespace dns = soawatch::dns;
using soawatch::LookupAnswer;

namespace {

void check_one(std::span<const uint8_t> wire, const std::string& name, uint16_t type) {
    const std::vector<uint8_t> name_wire = dns::encode_name(name);
    FUZZ_CHECK(!name_wire.empty());
    const LookupAnswer quick = soawatch::read_lookup_answer(wire, name, name_wire, type);
    const LookupAnswer full = soawatch::read_lookup_answer(wire, name, {}, type);
    FUZZ_CHECK(quick.outcome == full.outcome);
    FUZZ_CHECK(quick.values == full.values);
    FUZZ_CHECK(quick.min_ttl == full.min_ttl);
    FUZZ_CHECK(quick.error == full.error);

    const bool values = quick.outcome == LookupAnswer::Outcome::values;
    FUZZ_CHECK(values == quick.error.empty());
    if (!values) FUZZ_CHECK(quick.values.empty());
    for (std::size_t i = 0; i < quick.values.size(); ++i) {
        const std::string& v = quick.values[i];
        FUZZ_CHECK(!v.empty());
        FUZZ_CHECK(std::find(quick.values.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                             quick.values.end(), v) == quick.values.end());
        if (type == dns::rrtype::NS) FUZZ_CHECK(dns::canonical_name(v) == v);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> wire(data, size);
    // The name the answer claims, so the fuzzer gets past the owner comparisons.
    std::string claimed = "example.test.";
    if (auto parsed = dns::parse_message(wire, 16); !parsed.message.questions.empty()) {
        const std::string name = dns::canonical_name(parsed.message.questions[0].name);
        if (!dns::encode_name(name).empty()) claimed = name;
    }
    for (const uint16_t type : {dns::rrtype::NS, dns::rrtype::A, dns::rrtype::AAAA}) {
        check_one(wire, claimed, type);
        check_one(wire, "other.test.", type);
    }
    return 0;
}
