// TransferProbe: one zone transfer request over TCP to one address (RFC 5936 4.1, RFC 7766),
// non-blocking on the event loop like the SOA probes. It reads the first message of the answer
// only, then closes: enough to tell whether the zone is served, without downloading it. A server
// that accepts the connection and says nothing costs one socket until the timeout, and blocks
// nothing else. Requests wait in a queue: at most kMaxPerAddress at once to one address (an audit
// of 10,000 zones served by three addresses must not open 30,000 connections to them at once) and
// kMaxInflight in all (file descriptors); addresses take turns.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
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

    static constexpr unsigned kMaxPerAddress = 8;
    static constexpr std::size_t kMaxInflight = 256;

    std::size_t inflight() const { return probes_.size(); }
    std::size_t waiting() const { return waiting_total_; }
    uint64_t probes_sent() const { return probes_sent_; }

  private:
    struct Probe;
    struct Waiting {
        std::unique_ptr<Probe> probe;
        std::chrono::milliseconds timeout;
    };
    // The requests to one address (and port): those waiting, and how many are in flight.
    struct AddressQueue {
        std::deque<Waiting> waiting;
        unsigned inflight = 0;
        bool ready = false;  // listed in ready_
    };
    void enqueue(std::unique_ptr<Probe> probe, std::chrono::milliseconds timeout);
    void pump();
    void mark_ready(const std::string& key, AddressQueue& queue);
    void start(std::unique_ptr<Probe> probe, std::chrono::milliseconds timeout);
    void on_ready(uint64_t id, bool readable, bool writable);
    void finish(uint64_t id, TransferResult result, std::string detail);
    void finish_with_answer(uint64_t id);

    EventLoop& loop_;
    std::map<uint64_t, std::unique_ptr<Probe>> probes_;  // in flight
    std::map<std::string, AddressQueue> addresses_;      // by "address port"
    std::deque<std::string> ready_;  // addresses with a request waiting and a free slot
    std::size_t waiting_total_ = 0;
    bool pumping_ = false;
    uint64_t next_id_ = 1;
    uint64_t probes_sent_ = 0;
};

}  // namespace soawatch
