// A whole zone transfer read message by message (RFC 5936 2.2 for AXFR, RFC 1995 4 for IXFR),
// with the TSIG of every signed message verified (RFC 8945 5.3.1). The pure part of the catalog
// fetch: the TCP client (probes/zone_transfer_client.*) feeds it each message as it arrives;
// the unit tests and the zone_transfer fuzz target feed it bytes. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probes/dns_wire.hpp"
#include "probes/tsig.hpp"

namespace soawatch {

// What a finished transfer holds.
enum class TransferStyle {
    full,         // AXFR, or an IXFR answered AXFR-style (RFC 1995 4): `records` is the zone
    incremental,  // IXFR differences: `changes`, oldest first
    up_to_date,   // IXFR answered with the one SOA: the client's serial is current (RFC 1995 4)
};

// One difference sequence of an IXFR (RFC 1995 4): the zone at `from` loses `removed` and gains
// `added` to become `to`. The SOA records are left out of both lists.
struct ZoneChange {
    uint32_t from = 0;
    uint32_t to = 0;
    std::vector<dns::ResourceRecord> removed;
    std::vector<dns::ResourceRecord> added;
};

class ZoneTransferReader {
  public:
    // Reads the answer to a request for `zone` (canonical) sent with ID `id`. `ixfr_serial`: the
    // request was an IXFR from that serial (an AXFR otherwise). `key`: the request was signed
    // with it and its MAC was `request_mac`; every signed message is then verified, at most 99
    // unsigned ones may come between two signed ones, and the last must be signed.
    ZoneTransferReader(const std::string& zone, uint16_t id, std::optional<uint32_t> ixfr_serial,
                       std::optional<tsig::Key> key, std::vector<uint8_t> request_mac);

    enum class Status { more, done, failed };
    // One message of the answer (without the TCP length). `now`: seconds since the epoch, for
    // the TSIG time check. After done or failed, further messages fail.
    Status feed(std::span<const uint8_t> wire, uint64_t now);

    Status status() const { return status_; }
    const std::string& error() const { return error_; }  // when failed: why, for people
    bool refused() const { return refused_; }            // failed with REFUSED or NOTAUTH
    TransferStyle style() const { return style_; }
    uint32_t serial() const { return soa_.serial; }  // the zone's serial (the first SOA's)
    const dns::SoaRdata& soa() const { return soa_; }
    // full: every record between the two SOAs, the leading SOA first (the trailing one left out).
    const std::vector<dns::ResourceRecord>& records() const { return records_; }
    const std::vector<ZoneChange>& changes() const { return changes_; }
    std::size_t messages() const { return messages_; }

    // Caps on what one transfer may cost (a catalog of 100,000 members is ~300,000 records).
    static constexpr std::size_t kMaxRecords = 2'000'000;
    static constexpr std::size_t kMaxUnsignedInARow = 99;  // RFC 8945 5.3.1

  private:
    Status fail(std::string why);
    Status take_records(const dns::Message& message);
    Status take(const dns::ResourceRecord& rr);

    std::string zone_;
    uint16_t id_ = 0;
    std::optional<uint32_t> ixfr_serial_;
    std::optional<tsig::Key> key_;
    std::vector<uint8_t> last_mac_;
    std::vector<uint8_t> unsigned_since_;  // messages since the last signed one, concatenated
    std::size_t unsigned_count_ = 0;

    Status status_ = Status::more;
    std::string error_;
    bool refused_ = false;
    std::size_t messages_ = 0;
    std::size_t total_records_ = 0;

    // The record stream (RFC 1995 4): the first SOA, then either the zone (ends at the SOA
    // again) or SOA(old) removals SOA(new) additions ... SOA(serial).
    enum class Phase { first_soa, second_record, full, removing, adding };
    Phase phase_ = Phase::first_soa;
    TransferStyle style_ = TransferStyle::full;
    dns::SoaRdata soa_;
    std::vector<dns::ResourceRecord> records_;
    std::vector<ZoneChange> changes_;
};

}  // namespace soawatch
