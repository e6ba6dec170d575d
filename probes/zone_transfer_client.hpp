// The catalog's TCP client on the event loop (RFC 7766): a SOA query, and a whole zone transfer
// (AXFR, or IXFR from a serial) read to its end through ZoneTransferReader, TSIG-signed when a
// key is given. Non-blocking like probes/transfer_probe: a silent server costs a socket until the
// timeout and blocks nothing. Catalogs are few, so there is no queue: each request connects at
// once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "probes/dns_wire.hpp"
#include "probes/event_loop.hpp"
#include "probes/tsig.hpp"
#include "probes/zone_transfer.hpp"

namespace soawatch {

struct TcpTarget {
    std::string address;  // IP literal
    uint16_t port = 53;
};

struct SoaQueryResult {
    std::optional<dns::SoaRdata> soa;  // the zone's SOA from an authoritative NOERROR answer
    std::string error;                 // otherwise: why not
    // The server answered REFUSED: Knot refuses every query for a catalog zone it generates
    // but transfers it (RFC 9432 7 lets a producer keep catalogs from queries).
    bool refused = false;
};

struct ZoneTransferResult {
    std::unique_ptr<ZoneTransferReader> reader;  // status done: the transfer; else its error
    std::string error;                           // transport errors and the reader's error
    bool ok() const { return reader && reader->status() == ZoneTransferReader::Status::done; }
};

class ZoneTransferClient {
  public:
    explicit ZoneTransferClient(EventLoop& loop);
    ~ZoneTransferClient();  // requests in flight are dropped: their callbacks never run
    ZoneTransferClient(const ZoneTransferClient&) = delete;
    ZoneTransferClient& operator=(const ZoneTransferClient&) = delete;

    // The zone's SOA over TCP (RD=0). The callback runs once, on the loop thread, possibly
    // before this returns.
    void query_soa(const std::string& zone, const TcpTarget& target,
                   std::chrono::milliseconds timeout, std::function<void(SoaQueryResult)> done);

    // An AXFR (no ixfr_serial) or IXFR of `zone`, signed with `key` when given. `timeout` bounds
    // the whole transfer. The callback runs once, on the loop thread.
    void transfer(const std::string& zone, const TcpTarget& target,
                  std::optional<uint32_t> ixfr_serial, const std::optional<tsig::Key>& key,
                  std::chrono::milliseconds timeout, std::function<void(ZoneTransferResult)> done);

    std::size_t inflight() const { return exchanges_.size(); }

  private:
    struct Exchange;
    void start(std::unique_ptr<Exchange> exchange, const TcpTarget& target,
               std::chrono::milliseconds timeout);
    void on_ready(uint64_t id, bool readable, bool writable);
    void finish(uint64_t id, std::string error);

    EventLoop& loop_;
    std::map<uint64_t, std::unique_ptr<Exchange>> exchanges_;
    uint64_t next_id_ = 1;
};

}  // namespace soawatch
