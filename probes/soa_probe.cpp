#include "probes/soa_probe.hpp"

#include <cerrno>
#include <cstring>

namespace soawatch {

struct SoaProber::Attempt {
    SoaObservation obs;
    SoaProbeOptions options;
    Callback done;
    std::vector<uint8_t> query_udp;
    std::vector<uint8_t> query_tcp;
    unsigned tries_left = 0;
    std::chrono::duration<double> udp_rtt{0};
};

void SoaProber::probe(const std::string& zone, const ProbeTarget& target,
                      const SoaProbeOptions& options, Callback done) {
    auto attempt = std::make_shared<Attempt>();
    attempt->obs.zone = dns::canonical_name(zone);
    attempt->obs.target = target;
    attempt->options = options;
    attempt->done = std::move(done);
    attempt->tries_left = options.retries + 1;
    // RD=0: an authoritative server must answer from its own data (RFC 1035 4.1.1).
    attempt->query_udp =
        dns::build_query(0, attempt->obs.zone, dns::rrtype::SOA, false, options.edns_udp_size);
    if (attempt->query_udp.empty()) {
        attempt->obs.error = ProbeError::malformed;
        attempt->obs.detail = "invalid zone name";
        attempt->obs.at = Clock::now();
        attempt->done(std::move(attempt->obs));
        return;
    }
    ++inflight_;
    send_try(std::move(attempt), Transport::udp);
}

void SoaProber::send_try(std::shared_ptr<Attempt> attempt, Transport transport) {
    std::string error;
    DnsChannel* channel =
        channel_for(attempt->obs.target, transport, attempt->options.timeout, &error);
    if (!channel) {
        attempt->obs.error = ProbeError::network_error;
        attempt->obs.detail = error;
        complete(attempt);
        return;
    }
    if (transport == Transport::udp) --attempt->tries_left;
    ++attempt->obs.tries;
    ++queries_sent_;
    auto query = transport == Transport::udp ? attempt->query_udp : attempt->query_tcp;
    channel->send(std::move(query), [this, attempt, transport](const DnsReply& reply) {
        on_reply(attempt, transport, reply);
    });
}

void SoaProber::on_reply(std::shared_ptr<Attempt> attempt, Transport transport,
                         const DnsReply& reply) {
    auto& obs = attempt->obs;
    switch (reply.status) {
        case ARES_SUCCESS: {
            obs.rtt = attempt->udp_rtt + reply.rtt;
            obs.error = ProbeError::none;
            obs.detail.clear();
            bool retry_tcp = classify_soa_response(reply.answer, obs.zone, transport, obs);
            if (retry_tcp) {
                // RFC 7766 section 5: a truncated UDP answer is retried over TCP.
                obs.fell_back_to_tcp = true;
                attempt->udp_rtt = reply.rtt;
                attempt->query_tcp = dns::build_query(0, obs.zone, dns::rrtype::SOA, false,
                                                      attempt->options.edns_udp_size);
                send_try(std::move(attempt), Transport::tcp);
                return;
            }
            complete(attempt);
            return;
        }
        case ARES_ETIMEOUT:
            if (transport == Transport::udp && attempt->tries_left > 0) {
                send_try(std::move(attempt), transport);
                return;
            }
            obs.error = ProbeError::timeout;
            obs.detail = "no answer after " + std::to_string(obs.tries) + " tries";
            complete(attempt);
            return;
        case ARES_EDESTRUCTION:
        case ARES_ECANCELLED:
            // Shutting down: nobody waits for this observation any more.
            --inflight_;
            return;
        default: {
            int err = reply.socket_errno;
            if (reply.status == ARES_ECONNREFUSED && (err == ECONNREFUSED || err == 0)) {
                obs.error = ProbeError::connection_refused;
                obs.detail = transport == Transport::tcp ? "TCP connection refused"
                                                         : "port unreachable (ICMP)";
            } else if (err == ECONNRESET && transport == Transport::tcp) {
                obs.error = ProbeError::network_error;
                obs.detail = "TCP connection closed without an answer";
            } else {
                obs.error = ProbeError::network_error;
                obs.detail = err ? std::string(std::strerror(err)) : ares_strerror(reply.status);
            }
            complete(attempt);
            return;
        }
    }
}

void SoaProber::complete(const std::shared_ptr<Attempt>& attempt) {
    --inflight_;
    attempt->obs.at = Clock::now();
    if (attempt->obs.error != ProbeError::none) attempt->obs.soa.reset();
    attempt->done(std::move(attempt->obs));
}

DnsChannel* SoaProber::channel_for(const ProbeTarget& target, Transport transport,
                                   std::chrono::milliseconds timeout, std::string* error) {
    ChannelKey key{target.address, target.port, transport == Transport::tcp, timeout.count()};
    auto it = channels_.find(key);
    if (it != channels_.end()) return it->second.get();
    ChannelOptions options;
    options.servers.push_back({target.address, target.port});
    options.tcp = transport == Transport::tcp;
    options.timeout = timeout;
    options.tries = 1;
    auto channel = DnsChannel::create(loop_, options, error);
    if (!channel) return nullptr;
    return channels_.emplace(key, std::move(channel)).first->second.get();
}

void SoaProber::close_idle_channels(std::chrono::seconds idle) {
    auto cutoff = EventLoop::Clock::now() - idle;
    std::erase_if(channels_, [&](const auto& entry) {
        const auto& channel = entry.second;
        return channel->inflight() == 0 && channel->queued() == 0 && channel->last_used() < cutoff;
    });
}

}  // namespace soawatch
