// libFuzzer target for the catalog's transfer side: a whole transfer answer read message by
// message (probes/zone_transfer.cpp, TSIG continuation in probes/tsig.cpp) and the catalog it
// brings (probes/catalog_zone.cpp). The input is the TCP stream: messages each preceded by a
// two-octet length (RFC 1035 4.2.2), as the client hands them over. Besides ASan/UBSan it checks:
//   - the reader ends in one state: done with a serial and records or changes, or failed with
//     an error; after it ends, every further message fails;
//   - a signed transfer is never done unless its last message verified (unsigned_count 0);
//   - a catalog that parses has sorted, unique, valid member names; one that does not says why.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "probes/catalog_zone.hpp"
#include "probes/dns_wire.hpp"
#include "probes/transfer_answer.hpp"
#include "probes/tsig.hpp"
#include "probes/zone_transfer.hpp"

namespace dns = soawatch::dns;
namespace tsig = soawatch::tsig;
using soawatch::ZoneTransferReader;

namespace {

void check_catalog(const std::string& zone, const std::vector<dns::ResourceRecord>& records) {
    const auto parse = soawatch::parse_catalog(zone, records);
    if (!parse.ok()) {
        FUZZ_CHECK(!parse.error.empty());
        return;
    }
    const auto& zones = parse.members->zones;
    for (std::size_t i = 0; i < zones.size(); ++i) {
        FUZZ_CHECK(dns::validate_name(zones[i]).empty());
        if (i > 0) FUZZ_CHECK(zones[i - 1] < zones[i]);
    }
}

void read(std::span<const uint8_t> stream, const std::string& zone, uint16_t id,
          std::optional<uint32_t> ixfr, const std::optional<tsig::Key>& key) {
    ZoneTransferReader reader(zone, id, ixfr, key, std::vector<uint8_t>(32, 0xab));
    std::size_t pos = 0;
    while (pos + 2 <= stream.size() && reader.status() == ZoneTransferReader::Status::more) {
        const std::size_t length = (std::size_t{stream[pos]} << 8) | stream[pos + 1];
        pos += 2;
        if (length == 0 || pos + length > stream.size()) break;
        reader.feed(stream.subspan(pos, length), 0x6b1454c1);
        pos += length;
    }
    if (reader.status() == ZoneTransferReader::Status::failed) {
        FUZZ_CHECK(!reader.error().empty());
    } else if (reader.status() == ZoneTransferReader::Status::done) {
        FUZZ_CHECK(reader.error().empty());
        if (reader.style() == soawatch::TransferStyle::full) {
            FUZZ_CHECK(!reader.records().empty());
            FUZZ_CHECK(reader.records().front().soa.has_value());
            check_catalog(zone, reader.records());
        }
        if (reader.style() == soawatch::TransferStyle::incremental)
            FUZZ_CHECK(!reader.changes().empty());
        const uint8_t again[12] = {};
        FUZZ_CHECK(reader.feed(again, 0) == ZoneTransferReader::Status::failed);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> stream(data, size);
    // The zone and ID the first message claims, so the fuzzer gets past those checks.
    std::string zone = "catalog.test.";
    uint16_t id = 0;
    if (size >= 2) {
        const std::size_t length = (std::size_t{data[0]} << 8) | data[1];
        const auto first = stream.subspan(2, std::min(length, size - 2));
        if (auto parsed = dns::parse_message(first, 16); !parsed.message.questions.empty()) {
            zone = dns::canonical_name(parsed.message.questions[0].name);
            id = parsed.message.header.id;
        }
    }
    static const tsig::Key key{
        "lab-xfr.", tsig::Algorithm::hmac_sha256,
        *tsig::decode_base64("kTbbSjY4DuHaSoAl2+W9ZgxAaluGXG/imFUyt1zHkeI=")};
    read(stream, zone, id, std::nullopt, std::nullopt);
    read(stream, zone, id, 5u, std::nullopt);
    read(stream, zone, id, std::nullopt, key);
    return 0;
}
