#include "probes/soa_probe.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

namespace soawatch {

struct SoaProber::Attempt {
    SoaObservation obs;
    SoaProbeOptions options;
    Callback done;
    std::shared_ptr<const SoaQuery> query;  // for every try, UDP and TCP
    Transport transport = Transport::udp;   // of the try in flight
    unsigned tries_left = 0;
    std::chrono::duration<double> udp_rtt{0};
    unsigned lane = 0;
};

namespace {

// Enough for the probes of one pass of checks to find their attempts ready (the scheduler starts
// 64 checks a pass); a few hundred KiB per prober at most.
constexpr std::size_t kSpareAttempts = 1024;

// Lower-case letters, digits, '-', '_' and dots, ending in a dot, no empty label: a name
// canonical_name would return unchanged. Configured zones are canonical already; this saves
// re-canonicalising them for every check.
bool plainly_canonical(std::string_view name) {
    if (name.size() < 2 || name.back() != '.' || name.front() == '.') return name == ".";
    char previous = 0;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        (c == '.' && previous != '.');
        if (!ok) return false;
        previous = c;
    }
    return true;
}

}  // namespace

SoaQuery build_soa_query(std::string_view zone, uint16_t edns_udp_size, bool dnssec_ok) {
    SoaQuery query;
    query.zone = plainly_canonical(zone) ? std::string(zone) : dns::canonical_name(zone);
    query.edns_udp_size = edns_udp_size;
    query.dnssec_ok = dnssec_ok && edns_udp_size > 0;
    // RD=0: an authoritative server must answer from its own data (RFC 1035 4.1.1). With EDNS,
    // an empty EXPIRE option asks each secondary how long it would still serve the zone without
    // reaching its primary (RFC 7314 2), and an empty NSID option asks which instance answers
    // (RFC 5001 2.1: behind an anycast address, several do); servers that do not know an option
    // ignore it (RFC 6891 6.1.2). DO asks a signed zone's servers for RRSIG(SOA) (RFC 3225 3):
    // the same query size (a flag bit), and an unsigned zone's answer is no larger either.
    query.wire = dns::build_query(0, query.zone, dns::rrtype::SOA, false, edns_udp_size, true, true,
                                  query.dnssec_ok);
    return query;
}

std::shared_ptr<const SoaQuery> make_soa_query(std::string_view zone, uint16_t edns_udp_size,
                                               bool dnssec_ok) {
    return std::make_shared<const SoaQuery>(build_soa_query(zone, edns_udp_size, dnssec_ok));
}

std::span<const uint8_t> SoaQuery::zone_wire() const {
    constexpr std::size_t question = 12;  // after the header (RFC 1035 4.1.1)
    if (wire.size() <= question) return {};
    // build_query wrote the name uncompressed: its labels end at the root's zero octet.
    std::size_t end = question;
    while (end < wire.size() && wire[end] != 0) end += 1 + wire[end];
    if (end >= wire.size()) return {};
    return std::span(wire).subspan(question, end + 1 - question);
}

SoaProber::SoaProber(EventLoop& loop) : loop_(loop), spare_attempts_(kSpareAttempts) {}

SoaProber::~SoaProber() {
    channels_.clear();  // outstanding callbacks run now, with the members alive
}

void SoaProber::probe(const std::string& zone, const ProbeTarget& target,
                      const SoaProbeOptions& options, Callback done) {
    probe(make_soa_query(zone, options.edns_udp_size), target, options, std::move(done));
}

void SoaProber::probe(std::shared_ptr<const SoaQuery> query, const ProbeTarget& target,
                      const SoaProbeOptions& options, Callback done, unsigned lane) {
    auto attempt = spare_attempts_.take();
    attempt->lane = lane;
    attempt->obs.zone = query->zone;
    attempt->obs.target = target;
    attempt->obs.expire_asked = query->edns_udp_size > 0;
    attempt->obs.dnssec_asked = query->dnssec_ok;
    attempt->options = options;
    attempt->options.edns_udp_size = query->edns_udp_size;
    attempt->done = std::move(done);
    attempt->tries_left = options.retries + 1;
    attempt->query = std::move(query);
    if (attempt->query->wire.empty()) {
        attempt->obs.error = ProbeError::malformed;
        attempt->obs.detail = "invalid zone name";
        attempt->obs.at = Instant::now();
        attempt->done(std::move(attempt->obs));
        recycle(std::move(attempt));
        return;
    }
    ++inflight_;
    send_try(std::move(attempt), Transport::udp);
}

void SoaProber::send_try(std::unique_ptr<Attempt> attempt, Transport transport) {
    std::string error;
    DnsChannel* channel = channel_for(attempt->obs.target, transport, attempt->options.timeout,
                                      attempt->options.edns_udp_size > 0, attempt->lane, &error);
    if (!channel) {
        attempt->obs.error = ProbeError::network_error;
        attempt->obs.detail = error;
        complete(std::move(attempt));
        return;
    }
    if (transport == Transport::udp) --attempt->tries_left;
    attempt->transport = transport;
    ++attempt->obs.tries;
    ++queries_sent_;
    // The channel runs the callback exactly once (ARES_EDESTRUCTION when it is destroyed), so
    // the attempt travels as a plain pointer and is owned again in on_reply. Two pointers fit
    // std::function's inline storage: no allocation per query.
    const std::span<const uint8_t> query = attempt->query->wire;
    Attempt* in_flight = attempt.release();
    channel->send(query, [this, in_flight](const DnsReply& reply) {
        on_reply(std::unique_ptr<Attempt>(in_flight), reply);
    });
}

void SoaProber::on_reply(std::unique_ptr<Attempt> attempt, const DnsReply& reply) {
    auto& obs = attempt->obs;
    const Transport transport = attempt->transport;
    switch (reply.status) {
        case ARES_SUCCESS: {
            obs.rtt = attempt->udp_rtt + reply.rtt;
            bool retry_tcp = classify_soa_response(reply.answer, obs.zone,
                                                   attempt->query->zone_wire(), transport, obs);
            if (retry_tcp) {
                // RFC 7766 section 5: a truncated UDP answer is retried over TCP.
                obs.fell_back_to_tcp = true;
                attempt->udp_rtt = reply.rtt;
                send_try(std::move(attempt), Transport::tcp);  // the same message

                return;
            }
            complete(std::move(attempt), reply.finished_at);
            return;
        }
        case ARES_ETIMEOUT:
            if (transport == Transport::udp && attempt->tries_left > 0) {
                send_try(std::move(attempt), transport);
                return;
            }
            obs.error = ProbeError::timeout;
            obs.detail = "no answer after " + std::to_string(obs.tries) + " tries";
            complete(std::move(attempt), reply.finished_at);
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
            complete(std::move(attempt), reply.finished_at);
            return;
        }
    }
}

void SoaProber::complete(std::unique_ptr<Attempt> attempt, MonoClock::time_point finished_at) {
    --inflight_;
    attempt->obs.at = Instant::at(finished_at);
    if (attempt->obs.error != ProbeError::none) {
        attempt->obs.soa.reset();
        attempt->obs.expire_remaining.reset();
    }
    attempt->done(std::move(attempt->obs));
    recycle(std::move(attempt));
}

void SoaProber::recycle(std::unique_ptr<Attempt> attempt) {
    // The next probe starts from a fresh attempt: destroyed and default-constructed in place,
    // which keeps every field's default without a temporary to move from (`a = Attempt{}`
    // built and moved about 400 bytes: 450 instructions a probe, 3% of the round).
    spare_attempts_.keep(std::move(attempt), [](Attempt& a) {
        std::destroy_at(&a);
        std::construct_at(&a);
    });
}

DnsChannel* SoaProber::channel_for(const ProbeTarget& target, Transport transport,
                                   std::chrono::milliseconds timeout, bool edns, unsigned lane,
                                   std::string* error) {
    const ChannelKeyView key{target.address,  target.port, transport == Transport::tcp,
                             timeout.count(), edns,        lane};
    auto it = channels_.find(key);
    if (it != channels_.end()) return it->second.get();
    ChannelOptions options;
    options.servers.push_back({target.address, target.port});
    options.tcp = transport == Transport::tcp;
    options.timeout = timeout;
    options.tries = 1;
    options.edns_queries = edns;  // build_query's OPT record, exactly when edns_udp_size > 0
    options.max_inflight = max_inflight_;
    options.queued_total = &queued_;
    auto channel = DnsChannel::create(loop_, options, error);
    if (!channel) return nullptr;
    ChannelKey stored{target.address,  target.port, transport == Transport::tcp,
                      timeout.count(), edns,        lane};
    return channels_.emplace(std::move(stored), std::move(channel)).first->second.get();
}

void SoaProber::close_idle_channels(std::chrono::seconds idle) {
    auto cutoff = EventLoop::Clock::now() - idle;
    std::erase_if(channels_, [&](const auto& entry) {
        const auto& channel = entry.second;
        return channel->inflight() == 0 && channel->queued() == 0 && channel->last_used() < cutoff;
    });
}

}  // namespace soawatch
