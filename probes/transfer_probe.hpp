// TransferProbe: one zone transfer request over TCP to one address (RFC 5936 4.1, RFC 7766),
// non-blocking on the event loop like the SOA probes. It reads the first message of the answer
// only, then closes: enough to tell whether the zone is served, without downloading it. A server
// that accepts the connection and says nothing costs one socket until the timeout, and blocks
// nothing else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "probes/event_loop.hpp"
#include "probes/transfer_observation.hpp"
#include "probes/tsig.hpp"

namespace soawatch {

class TransferProber {
  public:
    using Callback = std::function<void(TransferObservation)>;

    explicit TransferProber(EventLoop& loop);
    ~TransferProber();  // outstanding probes are dropped: their callbacks never run
    TransferProber(const TransferProber&) = delete;
    TransferProber& operator=(const TransferProber&) = delete;

    // An AXFR without TSIG. The callback runs once, on the loop thread, possibly before this
    // returns (an invalid zone name, a socket that cannot be made).
    void axfr(const std::string& zone, const ProbeTarget& target, std::chrono::milliseconds timeout,
              Callback done);
    // An IXFR for `serial` signed with `key`; the answer's TSIG is verified.
    void signed_ixfr(const std::string& zone, uint32_t serial, const tsig::Key& key,
                     const ProbeTarget& target, std::chrono::milliseconds timeout, Callback done);

    std::size_t inflight() const { return probes_.size(); }
    uint64_t probes_sent() const { return probes_sent_; }

  private:
    struct Probe;
    void start(std::unique_ptr<Probe> probe, std::chrono::milliseconds timeout);
    void on_ready(uint64_t id, bool readable, bool writable);
    void finish(uint64_t id, TransferResult result, std::string detail);
    void finish_with_answer(uint64_t id);

    EventLoop& loop_;
    std::map<uint64_t, std::unique_ptr<Probe>> probes_;
    uint64_t next_id_ = 1;
    uint64_t probes_sent_ = 0;
};

}  // namespace soawatch
