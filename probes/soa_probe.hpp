// SoaProbe: one non-recursive (RD=0) SOA query sent straight to one nameserver address, over UDP
// with a TCP retry when the answer is truncated (RFC 7766 section 5), with a per-try timeout and
// retries. Each address gets its own c-ares channel pinned to it (no failover can hide a lagging
// server, no cache can answer for it). The answer is checked in a fixed order and the first
// problem found becomes the observation's error kind.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "probes/dns_channel.hpp"
#include "probes/event_loop.hpp"
#include "probes/inline_callback.hpp"
#include "probes/observation.hpp"
#include "probes/soa_answer.hpp"
#include "probes/spare_pool.hpp"

namespace soawatch {

struct SoaProbeOptions {
    std::chrono::milliseconds timeout{2000};  // per try
    unsigned retries = 2;                     // tries after the first, on timeout only
    uint16_t edns_udp_size = 1232;            // 0: plain RFC 1035 query
};

// One zone's SOA query, built once and shared by the probes of all the zone's addresses.
struct SoaQuery {
    std::string zone;           // canonical
    std::vector<uint8_t> wire;  // RD=0, with EDNS as asked; empty when the name is invalid
    uint16_t edns_udp_size = 0;
    bool dnssec_ok = false;  // DO set (only with EDNS: RFC 3225 3 puts it in the OPT record)
    // The zone's name in wire form: the question's, inside `wire` (empty when `wire` is).
    std::span<const uint8_t> zone_wire() const;
};
// dnssec_ok asks for the zone's signatures (DO, RFC 3225): the answer then carries RRSIG(SOA)
// where the zone is signed. Ignored when edns_udp_size is 0.
SoaQuery build_soa_query(std::string_view zone, uint16_t edns_udp_size, bool dnssec_ok = false);
// The same, shared (the probes of the query hold it).
std::shared_ptr<const SoaQuery> make_soa_query(std::string_view zone, uint16_t edns_udp_size,
                                               bool dnssec_ok = false);

class SoaProber {
  public:
    // Inline up to 32 bytes (a zone check's completion: a pointer, its round's shared_ptr and a
    // slot): no allocation per probe for the completion, as std::function would make.
    using Callback = InlineCallback<void(SoaObservation), 32>;

    explicit SoaProber(EventLoop& loop);
    ~SoaProber();
    SoaProber(const SoaProber&) = delete;
    SoaProber& operator=(const SoaProber&) = delete;

    // Probes `zone` (any spelling; canonicalised) at one address. The callback runs once, on the
    // loop thread, possibly before probe() returns.
    void probe(const std::string& zone, const ProbeTarget& target, const SoaProbeOptions& options,
               Callback done);
    // The same with a query made by make_soa_query (options.edns_udp_size is the query's).
    // `lane` picks one of several channels to the same address: each has its own UDP socket,
    // so probes of one address on different lanes leave from different source ports at the
    // same time (anycast instance sampling, agent/anycast.hpp). Lane 0 is the ordinary probe.
    void probe(std::shared_ptr<const SoaQuery> query, const ProbeTarget& target,
               const SoaProbeOptions& options, Callback done, unsigned lane = 0);

    // Queries in flight on each channel this prober opens from now on (ChannelOptions::
    // max_inflight, 128 by default). With zones sharded across N loops, each loop has its own
    // channel to a shared address: each takes 1/N of the budget, so the bursts an address
    // answers stay the size the default was measured for.
    void set_max_inflight(std::size_t per_channel) { max_inflight_ = per_channel; }
    std::size_t max_inflight() const { return max_inflight_; }

    // Drops channels unused for longer than `idle` (their sockets close).
    void close_idle_channels(std::chrono::seconds idle);

    uint64_t queries_sent() const { return queries_sent_; }
    uint64_t inflight() const { return inflight_; }
    // Queries waiting behind their channel's in-flight cap (sent as answers free slots).
    std::size_t queued() const { return queued_; }
    std::size_t channel_count() const { return channels_.size(); }

  private:
    struct Attempt;
    void send_try(std::unique_ptr<Attempt> attempt, Transport transport);
    void on_reply(std::unique_ptr<Attempt> attempt, const DnsReply& reply);
    // `finished_at`: the reply's (DnsReply::finished_at) when there was one.
    void complete(std::unique_ptr<Attempt> attempt,
                  MonoClock::time_point finished_at = MonoClock::now());
    void recycle(std::unique_ptr<Attempt> attempt);
    DnsChannel* channel_for(const ProbeTarget& target, Transport transport,
                            std::chrono::milliseconds timeout, bool edns, unsigned lane,
                            std::string* error);

    EventLoop& loop_;
    std::size_t queued_ = 0;  // kept by the channels (ChannelOptions::queued_total)
    // address, port, tcp, timeout in ms, queries with EDNS, lane
    using ChannelKey = std::tuple<std::string, uint16_t, bool, int64_t, bool, unsigned>;
    // Looked up by a key that views the target's address (std::less<>): a probe of an IPv6
    // address, past the 15-octet inline string, would otherwise allocate a copy to find its
    // channel.
    using ChannelKeyView = std::tuple<std::string_view, uint16_t, bool, int64_t, bool, unsigned>;
    struct ChannelKeyLess {
        using is_transparent = void;
        static ChannelKeyView view(const ChannelKeyView& k) { return k; }
        static ChannelKeyView view(const ChannelKey& k) {
            return {std::get<0>(k), std::get<1>(k), std::get<2>(k),
                    std::get<3>(k), std::get<4>(k), std::get<5>(k)};
        }
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return view(a) < view(b);
        }
    };
    std::map<ChannelKey, std::unique_ptr<DnsChannel>, ChannelKeyLess> channels_;
    // Finished attempts, reused by the next probes (an allocation per probe saved).
    SparePool<Attempt> spare_attempts_;
    uint64_t queries_sent_ = 0;
    uint64_t inflight_ = 0;
    std::size_t max_inflight_ = ChannelOptions{}.max_inflight;
};

}  // namespace soawatch
