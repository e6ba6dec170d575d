// DelegationProber: the queries of the delegation check (agent/delegation_check), each RD=0 and
// sent straight to one server address like the SOA probe: "ZONE NS" to the parent's servers (a
// referral: NS set and glue) and to the zone's own (their NS set), "NAME A/AAAA" to the zone's
// servers for its in-zone nameserver names. UDP with a TCP retry when truncated (RFC 7766
// section 5), retries on timeout; one c-ares channel per address, pinned, as for the SOA probe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "probes/delegation_answer.hpp"
#include "probes/dns_channel.hpp"
#include "probes/event_loop.hpp"

namespace soawatch {

struct DelegationQueryOptions {
    std::chrono::milliseconds timeout{2000};  // per try
    unsigned retries = 2;                     // tries after the first, on timeout only
    uint16_t edns_udp_size = 1232;            // 0: plain RFC 1035 query
};

// Queries the delegation check keeps in flight to one address (beside the SOA probes' own).
inline constexpr std::size_t kDelegationMaxInflight = 16;

class DelegationProber {
  public:
    using NsCallback = std::function<void(NsObservation)>;
    using AddressCallback = std::function<void(AddressObservation)>;

    explicit DelegationProber(EventLoop& loop) : loop_(loop) {}
    ~DelegationProber() { channels_.clear(); }  // outstanding callbacks run now
    DelegationProber(const DelegationProber&) = delete;
    DelegationProber& operator=(const DelegationProber&) = delete;

    // "zone NS" at one address. The callback runs once on the loop thread (possibly before
    // this returns).
    void ask_ns(const std::string& zone, const ProbeTarget& target,
                const DelegationQueryOptions& options, NsCallback done);
    // "name A" (type A) or "name AAAA" at one address.
    void ask_addresses(const std::string& name, uint16_t type, const ProbeTarget& target,
                       const DelegationQueryOptions& options, AddressCallback done);

    // Drops channels unused for longer than `idle` (their sockets close).
    void close_idle_channels(std::chrono::seconds idle);

    uint64_t queries_sent() const { return queries_sent_; }

  private:
    // One question to one address until it is answered or given up; `classify` reads an
    // answer (true: ask again over TCP), `fail` records why there is none.
    struct Query {
        std::vector<uint8_t> wire;
        ProbeTarget target;
        DelegationQueryOptions options;
        unsigned tries_left = 0;
        Transport transport = Transport::udp;
        std::function<bool(std::span<const uint8_t>, Transport)> classify;
        std::function<void(std::string)> finish;  // "" when classify handled the answer
    };
    void send_try(std::unique_ptr<Query> query, Transport transport);
    void on_reply(std::unique_ptr<Query> query, const DnsReply& reply);
    DnsChannel* channel_for(const ProbeTarget& target, Transport transport,
                            std::chrono::milliseconds timeout, bool edns, std::string* error);

    EventLoop& loop_;
    using ChannelKey = std::tuple<std::string, uint16_t, bool, int64_t, bool>;
    std::map<ChannelKey, std::unique_ptr<DnsChannel>> channels_;
    uint64_t queries_sent_ = 0;
};

}  // namespace soawatch
