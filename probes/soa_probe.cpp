#include "probes/soa_probe.hpp"

#include <cerrno>
#include <cstring>

namespace soawatch {

namespace {

std::string describe_referral(const dns::Message& msg) {
    for (const auto& rr : msg.authority)
        if (rr.type == dns::rrtype::NS) return "referral to " + rr.target;
    return {};
}

}  // namespace

bool classify_soa_response(std::span<const uint8_t> wire, const std::string& zone,
                           Transport transport, SoaObservation& obs) {
    obs.transport = transport;
    auto parsed = dns::parse_message(wire, 1024);
    if (!parsed.ok()) {
        obs.error = ProbeError::malformed;
        obs.detail = std::string("unparsable answer: ") +
                     std::string(dns::parse_error_name(parsed.error)) + " at offset " +
                     std::to_string(parsed.error_offset);
        return false;
    }
    const auto& msg = parsed.message;
    const auto& h = msg.header;
    obs.answered = true;
    obs.rcode = h.rcode;
    obs.authoritative = h.aa;

    // Fixed order, first failure wins (like dnsdist's health checks).
    if (!h.qr) {
        obs.error = ProbeError::malformed;
        obs.detail = "QR bit not set";
        return false;
    }
    if (h.opcode != dns::opcode::QUERY) {
        obs.error = ProbeError::malformed;
        obs.detail = "unexpected opcode " + std::to_string(h.opcode);
        return false;
    }
    if (msg.questions.size() != 1 || !dns::names_equal(msg.questions[0].name, zone) ||
        msg.questions[0].type != dns::rrtype::SOA || msg.questions[0].qclass != dns::class_IN) {
        obs.error = ProbeError::malformed;
        obs.detail = "answer is for a different question";
        return false;
    }
    if (h.tc) {
        if (transport == Transport::udp) return true;
        obs.error = ProbeError::truncated;
        obs.detail = "TC set over TCP";
        return false;
    }
    switch (h.rcode) {
        case dns::rcode::NOERROR:
            break;
        case dns::rcode::REFUSED:
            obs.error = ProbeError::refused;
            break;
        case dns::rcode::SERVFAIL:
            obs.error = ProbeError::servfail;
            break;
        case dns::rcode::NXDOMAIN:
            obs.error = ProbeError::nxdomain;
            break;
        default:
            obs.error = ProbeError::bad_rcode;
            break;
    }
    if (obs.error != ProbeError::none) {
        obs.detail = "rcode " + dns::rcode_name(h.rcode);
        return false;
    }
    if (!h.aa) {
        obs.error = ProbeError::not_authoritative;
        std::string referral = describe_referral(msg);
        obs.detail = referral.empty() ? "AA bit not set" : "AA bit not set, " + referral;
        return false;
    }
    const dns::ResourceRecord* soa = nullptr;
    bool cname = false;
    for (const auto& rr : msg.answers) {
        if (rr.type == dns::rrtype::CNAME && dns::names_equal(rr.owner, zone)) cname = true;
        if (rr.type != dns::rrtype::SOA || !rr.soa || !dns::names_equal(rr.owner, zone)) continue;
        if (soa && soa->soa->serial != rr.soa->serial) {
            obs.error = ProbeError::malformed;
            obs.detail = "two SOA records with different serials (" +
                         std::to_string(soa->soa->serial) + ", " + std::to_string(rr.soa->serial) +
                         ")";
            return false;
        }
        if (!soa) soa = &rr;
    }
    if (!soa) {
        obs.error = ProbeError::no_soa;
        bool soa_in_authority = false;
        for (const auto& rr : msg.authority)
            if (rr.type == dns::rrtype::SOA) soa_in_authority = true;
        obs.detail = cname              ? "CNAME at the zone name instead of an SOA"
                     : soa_in_authority ? "SOA only in the authority section (not a zone apex)"
                                        : "no SOA record in the answer";
        return false;
    }
    obs.soa = *soa->soa;
    obs.soa_ttl = soa->ttl;
    return false;
}

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
