#include "probes/delegation_probe.hpp"

#include <cerrno>
#include <cstring>

namespace soawatch {

void DelegationProber::ask_ns(const std::string& zone, const ProbeTarget& target,
                              const DelegationQueryOptions& options, NsCallback done) {
    auto obs = std::make_shared<NsObservation>();
    obs->target = target;
    auto query = std::make_unique<Query>();
    query->wire = dns::build_query(0, zone, dns::rrtype::NS, false, options.edns_udp_size);
    query->target = target;
    query->options = options;
    query->tries_left = options.retries + 1;
    query->classify = [obs, zone](std::span<const uint8_t> wire, Transport transport) {
        return classify_ns_answer(wire, zone, transport, *obs);
    };
    query->finish = [obs, done = std::move(done)](std::string error) {
        if (!error.empty()) obs->error = std::move(error);
        done(std::move(*obs));
    };
    if (query->wire.empty()) {
        query->finish("invalid zone name");
        return;
    }
    send_try(std::move(query), Transport::udp);
}

void DelegationProber::ask_addresses(const std::string& name, uint16_t type,
                                     const ProbeTarget& target,
                                     const DelegationQueryOptions& options, AddressCallback done) {
    auto obs = std::make_shared<AddressObservation>();
    obs->name = name;
    obs->type = type;
    obs->target = target;
    auto query = std::make_unique<Query>();
    query->wire = dns::build_query(0, name, type, false, options.edns_udp_size);
    query->target = target;
    query->options = options;
    query->tries_left = options.retries + 1;
    query->classify = [obs, name, type](std::span<const uint8_t> wire, Transport transport) {
        return classify_address_answer(wire, name, type, transport, *obs);
    };
    query->finish = [obs, done = std::move(done)](std::string error) {
        if (!error.empty()) obs->error = std::move(error);
        done(std::move(*obs));
    };
    if (query->wire.empty()) {
        query->finish("invalid name");
        return;
    }
    send_try(std::move(query), Transport::udp);
}

void DelegationProber::send_try(std::unique_ptr<Query> query, Transport transport) {
    std::string error;
    DnsChannel* channel = channel_for(query->target, transport, query->options.timeout,
                                      query->options.edns_udp_size > 0, &error);
    if (!channel) {
        query->finish(error.empty() ? "network error" : error);
        return;
    }
    if (transport == Transport::udp) --query->tries_left;
    query->transport = transport;
    ++queries_sent_;
    const std::span<const uint8_t> wire = query->wire;
    // The channel runs the callback exactly once (ARES_EDESTRUCTION when it is destroyed).
    Query* in_flight = query.release();
    channel->send(wire, [this, in_flight](const DnsReply& reply) {
        on_reply(std::unique_ptr<Query>(in_flight), reply);
    });
}

void DelegationProber::on_reply(std::unique_ptr<Query> query, const DnsReply& reply) {
    switch (reply.status) {
        case ARES_SUCCESS:
            if (query->classify(reply.answer, query->transport)) {
                send_try(std::move(query), Transport::tcp);  // RFC 7766 section 5
                return;
            }
            query->finish("");
            return;
        case ARES_ETIMEOUT:
            if (query->transport == Transport::udp && query->tries_left > 0) {
                send_try(std::move(query), Transport::udp);
                return;
            }
            query->finish("timeout");
            return;
        case ARES_EDESTRUCTION:
        case ARES_ECANCELLED:
            return;  // shutting down: nobody waits for the answer
        default: {
            const int err = reply.socket_errno;
            if (reply.status == ARES_ECONNREFUSED && (err == ECONNREFUSED || err == 0)) {
                query->finish("connection refused");
            } else {
                query->finish(err ? std::string(std::strerror(err)) : ares_strerror(reply.status));
            }
            return;
        }
    }
}

DnsChannel* DelegationProber::channel_for(const ProbeTarget& target, Transport transport,
                                          std::chrono::milliseconds timeout, bool edns,
                                          std::string* error) {
    ChannelKey key{target.address, target.port, transport == Transport::tcp, timeout.count(), edns};
    auto it = channels_.find(key);
    if (it != channels_.end()) return it->second.get();
    ChannelOptions options;
    options.servers.push_back({target.address, target.port});
    options.tcp = transport == Transport::tcp;
    options.timeout = timeout;
    options.tries = 1;
    options.edns_queries = edns;
    // The SOA probes already keep up to 128 queries in flight to this address; a second 128 from
    // the delegation check overflowed Knot's socket buffer in the benchmark (48,814 timeouts in
    // a 100,000-zone round). The check is a background audit: a few in flight are enough.
    options.max_inflight = kDelegationMaxInflight;
    auto channel = DnsChannel::create(loop_, options, error);
    if (!channel) return nullptr;
    return channels_.emplace(key, std::move(channel)).first->second.get();
}

void DelegationProber::close_idle_channels(std::chrono::seconds idle) {
    const auto cutoff = EventLoop::Clock::now() - idle;
    std::erase_if(channels_, [&](const auto& entry) {
        const auto& channel = entry.second;
        return channel->inflight() == 0 && channel->queued() == 0 && channel->last_used() < cutoff;
    });
}

}  // namespace soawatch
