#include "probes/discovery.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "probes/dns_wire.hpp"

namespace soawatch {

std::string_view address_error_name(AddressError e) {
    switch (e) {
        case AddressError::none:
            return "none";
        case AddressError::nxdomain:
            return "nxdomain";
        case AddressError::no_address:
            return "no_address";
        case AddressError::resolver:
            return "resolver";
    }
    return "unknown";
}

namespace {

constexpr std::size_t kMaxCnameHops = 16;

std::string cache_key(uint16_t type, const std::string& canonical) {
    return std::to_string(type) + " " + canonical;
}

// Every lookup asks with RD and EDNS (1232); the channel sets the ID.
std::vector<uint8_t> lookup_query(const std::string& canonical, uint16_t type) {
    return dns::build_query(0, canonical, type, true, 1232);
}

}  // namespace

namespace {

bool same_servers(const std::vector<ServerAddress>& a, const std::vector<ServerAddress>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].address != b[i].address || a[i].port != b[i].port) return false;
    return true;
}

}  // namespace

std::unique_ptr<DnsChannel> Discovery::make_channel(bool tcp) const {
    ChannelOptions channel_options;
    channel_options.servers = options_.resolvers;
    channel_options.tcp = tcp;
    channel_options.timeout = options_.timeout;
    channel_options.tries = options_.tries;
    channel_options.edns_queries = true;  // lookup() builds every query with EDNS (1232)
    channel_options.max_inflight = options_.max_inflight;
    std::string error;
    auto channel = DnsChannel::create(loop_, channel_options, &error);
    if (!channel) throw std::runtime_error("cannot set up the resolver: " + error);
    return channel;
}

void Discovery::set_resolvers(const std::vector<ServerAddress>& resolvers) {
    std::erase_if(retired_, [](const auto& c) { return c->inflight() == 0 && c->queued() == 0; });
    if (same_servers(resolvers, options_.resolvers)) return;
    const auto previous = options_.resolvers;
    options_.resolvers = resolvers;
    std::unique_ptr<DnsChannel> channel;
    try {
        channel = make_channel(false);
    } catch (...) {
        options_.resolvers = previous;
        throw;
    }
    retired_.push_back(std::move(channel_));
    if (tcp_channel_) retired_.push_back(std::move(tcp_channel_));
    channel_ = std::move(channel);
}

Discovery::Discovery(EventLoop& loop, DiscoveryOptions options)
    : loop_(loop), options_(std::move(options)), channel_(make_channel(false)) {}

void Discovery::lookup(const std::string& name, uint16_t type, AnswerCallback done) {
    const std::string canonical = dns::canonical_name(name);
    const std::string key = cache_key(type, canonical);
    auto now = EventLoop::Clock::now();
    if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > now) {
        done(Answer{it->second.values, it->second.error, it->second.from_cache,
                    it->second.nxdomain});
        return;
    }
    auto [waiting, first] = waiting_.try_emplace(key);
    waiting->second.push_back(std::move(done));
    if (!first) return;  // the same lookup is already on the wire
    auto query = lookup_query(canonical, type);
    if (query.empty()) {
        DnsReply invalid;
        invalid.status = ARES_EBADNAME;
        finish_lookup(key, canonical, type, invalid);
        return;
    }
    send(key, canonical, type, std::move(query), false);
}

void Discovery::send(const std::string& key, const std::string& name, uint16_t type,
                     std::vector<uint8_t> query, bool tcp) {
    if (tcp && !tcp_channel_) {
        try {
            tcp_channel_ = make_channel(true);
        } catch (const std::exception&) {
            DnsReply failed;
            failed.status = ARES_ECONNREFUSED;
            finish_lookup(key, name, type, failed);
            return;
        }
    }
    DnsChannel& channel = tcp ? *tcp_channel_ : *channel_;
    ++lookups_sent_;
    // A zone's probes wait for the addresses of its NS names, and one NS name usually serves
    // many zones: an address lookup goes ahead of the NS lookups waiting for a slot, so each
    // zone's probes start as soon as its own NS answer is in, not after every zone's NS lookup
    // (at 10,000 zones started together, the round's NS phase and SOA phase ran one after the
    // other).
    const auto order = type == dns::rrtype::NS ? SendOrder::last : SendOrder::first;
    channel.send(
        query,
        [this, key, name, type, tcp](const DnsReply& reply) {
            if (reply.status == ARES_EDESTRUCTION) return;
            // RFC 7766 section 5: an answer with TC set (an NS set or address list larger than the
            // UDP size) is incomplete; ask again over TCP instead of using part of it.
            if (!tcp && reply.status == ARES_SUCCESS && reply.answer.size() >= 3 &&
                (reply.answer[2] & 0x02) != 0) {
                send(key, name, type, lookup_query(name, type), true);  // the same query again
                return;
            }
            finish_lookup(key, name, type, reply);
        },
        order);
}

void Discovery::finish_lookup(const std::string& key, const std::string& name, uint16_t type,
                              const DnsReply& reply) {
    Answer answer;
    bool resolver_failed = false;
    std::chrono::seconds ttl = options_.negative_ttl;
    if (reply.status != ARES_SUCCESS) {
        resolver_failed = true;
        answer.error = std::string("resolver: ") + ares_strerror(reply.status);
    } else if (auto parsed = dns::parse_message(reply.answer);
               !parsed.ok() || parsed.message.header.tc) {
        resolver_failed = true;
        answer.error = parsed.ok() ? "resolver sent a truncated answer over TCP"
                                   : "resolver sent a malformed answer (" +
                                         std::string(dns::parse_error_name(parsed.error)) + ")";
    } else {
        const auto& msg = parsed.message;
        if (msg.header.rcode == dns::rcode::NXDOMAIN) {
            answer.error = name + " does not exist (NXDOMAIN)";
            answer.nxdomain = true;
        } else if (msg.header.rcode != dns::rcode::NOERROR) {
            resolver_failed = true;
            answer.error =
                "resolver answered " + dns::rcode_name(msg.header.rcode) + " for " + name;
        } else {
            // Follow a CNAME chain inside the answer, as far as a resolver would (each hop scans
            // the answer: a longer chain is broken or hostile).
            std::string owner = name;
            uint32_t min_ttl = UINT32_MAX;
            for (std::size_t hop = 0; hop < kMaxCnameHops; ++hop) {
                bool followed = false;
                for (const auto& rr : msg.answers) {
                    if (rr.type == dns::rrtype::CNAME && type != dns::rrtype::CNAME &&
                        dns::names_equal(rr.owner, owner)) {
                        owner = dns::canonical_name(rr.target);
                        min_ttl = std::min(min_ttl, rr.ttl);
                        followed = true;
                        break;
                    }
                }
                if (!followed) break;
            }
            // A hostile answer may hold thousands of records: no quadratic work on it.
            std::unordered_set<std::string> seen;
            for (const auto& rr : msg.answers) {
                if (rr.type != type || !dns::names_equal(rr.owner, owner)) continue;
                std::string value =
                    type == dns::rrtype::NS ? dns::canonical_name(rr.target) : rr.address;
                if (value.empty()) continue;
                if (seen.insert(value).second) answer.values.push_back(std::move(value));
                min_ttl = std::min(min_ttl, rr.ttl);
            }
            if (!answer.values.empty() && min_ttl != UINT32_MAX)
                ttl = std::clamp(std::chrono::seconds(min_ttl), options_.min_ttl, options_.max_ttl);
        }
    }
    if (resolver_failed) ++lookup_errors_;

    auto& entry = cache_[key];
    auto now = EventLoop::Clock::now();
    if (resolver_failed && entry.has_last_good) {
        // The resolver is down or broken: keep watching with the last good answer, and say so
        // to every lookup served from this entry until the resolver answers again.
        answer.values = entry.last_good_values;
        answer.from_cache = true;
        entry.values = entry.last_good_values;
        entry.error = answer.error;
        entry.nxdomain = false;
        entry.from_cache = true;
        entry.expires = now + std::chrono::seconds(5);
    } else {
        entry.values = answer.values;
        entry.error = answer.error;
        entry.nxdomain = answer.nxdomain;
        entry.from_cache = false;
        entry.expires = now + (resolver_failed ? std::chrono::seconds(5) : ttl);
        if (!resolver_failed) {
            entry.last_good_values = answer.values;
            entry.has_last_good = true;
        }
    }

    auto node = waiting_.extract(key);
    if (node.empty()) return;
    for (auto& callback : node.mapped()) callback(answer);
}

void Discovery::resolve(const std::string& name, bool ipv4, bool ipv6, AddressCallback done) {
    struct Join {
        DiscoveredNameserver ns;
        std::vector<std::string> v4, v6;
        std::vector<std::string> errors;
        bool resolver_failed = false;    // some lookup failed for another reason than NXDOMAIN
        std::vector<std::string> stale;  // lookups answered from the last good answer
        int pending = 0;
        AddressCallback done;
    };
    auto join = std::make_shared<Join>();
    join->ns.name = dns::canonical_name(name);
    join->done = std::move(done);
    join->pending = (ipv4 ? 1 : 0) + (ipv6 ? 1 : 0) + 1;  // +1 guards against sync callbacks
    auto finish = [join] {
        if (--join->pending > 0) return;
        join->ns.addresses = join->v4;
        join->ns.addresses.insert(join->ns.addresses.end(), join->v6.begin(), join->v6.end());
        for (const auto& e : join->stale)
            join->ns.stale += (join->ns.stale.empty() ? "" : "; ") + e;
        if (join->ns.addresses.empty()) {
            if (join->errors.empty()) {
                join->ns.error = "no A or AAAA records";
                join->ns.error_kind = AddressError::no_address;
            } else {
                join->ns.error_kind =
                    join->resolver_failed ? AddressError::resolver : AddressError::nxdomain;
                for (const auto& e : join->errors)
                    join->ns.error += (join->ns.error.empty() ? "" : "; ") + e;
            }
        }
        join->done(std::move(join->ns));
    };
    if (ipv4)
        lookup(name, dns::rrtype::A, [join, finish](Answer a) {
            join->v4 = std::move(a.values);
            if (!a.error.empty()) join->errors.push_back("A: " + a.error);
            if (!a.error.empty() && !a.nxdomain) join->resolver_failed = true;
            if (a.from_cache) join->stale.push_back("A: " + a.error);
            finish();
        });
    if (ipv6)
        lookup(name, dns::rrtype::AAAA, [join, finish](Answer a) {
            join->v6 = std::move(a.values);
            if (!a.error.empty()) join->errors.push_back("AAAA: " + a.error);
            if (!a.error.empty() && !a.nxdomain) join->resolver_failed = true;
            if (a.from_cache) join->stale.push_back("AAAA: " + a.error);
            finish();
        });
    finish();
}

void Discovery::discover(const std::string& zone, unsigned max_nameservers, bool ipv4, bool ipv6,
                         Callback done) {
    auto result = std::make_shared<DiscoveryResult>();
    result->zone = dns::canonical_name(zone);
    lookup(result->zone, dns::rrtype::NS,
           [this, result, max_nameservers, ipv4, ipv6, done = std::move(done)](Answer a) mutable {
               result->from_cache = a.from_cache;
               if (!a.error.empty()) result->error = a.error;
               std::vector<std::string> names = std::move(a.values);
               std::sort(names.begin(), names.end());
               result->ns_total = static_cast<unsigned>(names.size());
               if (names.size() > max_nameservers) {
                   names.resize(max_nameservers);
                   result->capped = true;
               }
               if (names.empty()) {
                   if (result->error.empty()) result->error = "no NS records for " + result->zone;
                   done(std::move(*result));
                   return;
               }
               result->nameservers.resize(names.size());
               auto pending = std::make_shared<std::size_t>(names.size());
               auto shared_done = std::make_shared<Callback>(std::move(done));
               for (std::size_t i = 0; i < names.size(); ++i) {
                   resolve(names[i], ipv4, ipv6,
                           [result, i, pending, shared_done](DiscoveredNameserver ns) {
                               if (!ns.stale.empty()) {
                                   result->from_cache = true;
                                   if (result->error.empty())
                                       result->error = "addresses of " + ns.name + ": " + ns.stale;
                               }
                               result->nameservers[i] = std::move(ns);
                               if (--*pending == 0) (*shared_done)(std::move(*result));
                           });
               }
           });
}

}  // namespace soawatch
