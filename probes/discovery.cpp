#include "probes/discovery.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>

#include "probes/dns_wire.hpp"
#include "probes/lookup_answer.hpp"

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

std::unique_ptr<DnsChannel> Discovery::make_channel(bool tcp) {
    ChannelOptions channel_options;
    channel_options.servers = options_.resolvers;
    channel_options.tcp = tcp;
    channel_options.timeout = options_.timeout;
    channel_options.tries = options_.tries;
    channel_options.edns_queries = true;  // lookup() builds every query with EDNS (1232)
    channel_options.max_inflight = options_.max_inflight;
    channel_options.queued_total = &queued_;
    std::string error;
    auto channel = DnsChannel::create(loop_, channel_options, &error);
    if (!channel) throw std::runtime_error("cannot set up the resolver: " + error);
    return channel;
}

void Discovery::set_resolvers(const std::vector<ServerAddress>& resolvers,
                              std::chrono::milliseconds timeout) {
    std::erase_if(retired_, [](const auto& c) { return c->inflight() == 0 && c->queued() == 0; });
    if (same_servers(resolvers, options_.resolvers) && timeout == options_.timeout) return;
    const DiscoveryOptions previous = options_;
    options_.resolvers = resolvers;
    options_.timeout = timeout;
    std::unique_ptr<DnsChannel> channel;
    try {
        channel = make_channel(false);
    } catch (...) {
        options_ = previous;
        throw;
    }
    retired_.push_back(std::move(channel_));
    if (tcp_channel_) retired_.push_back(std::move(tcp_channel_));
    channel_ = std::move(channel);
}

Discovery::Discovery(EventLoop& loop, DiscoveryOptions options)
    : loop_(loop), options_(std::move(options)), channel_(make_channel(false)) {}

std::size_t Discovery::LookupKeyHash::operator()(const LookupKey& k) const noexcept {
    return std::hash<std::string>{}(k.name) ^ (std::size_t{k.type} * 0x9e3779b97f4a7c15ULL);
}

std::size_t Discovery::ResolutionKeyHash::operator()(const ResolutionKey& k) const noexcept {
    return std::hash<std::string>{}(k.name) ^ (k.ipv4 ? 1U : 0U) ^ (k.ipv6 ? 2U : 0U);
}

void Discovery::lookup(const std::string& canonical, uint16_t type, AnswerCallback done) {
    CacheNode& node = *cache_.try_emplace(LookupKey{type, canonical}).first;
    CacheEntry& entry = node.second;
    if (entry.answer.expires > EventLoop::Clock::now()) {  // a new entry's is the epoch
        const Answer answer = entry.answer;  // the callback may start lookups of its own
        done(answer);
        return;
    }
    entry.waiting.push_back(std::move(done));
    if (entry.waiting.size() > 1) return;  // the same lookup is already on the wire
    auto query = lookup_query(canonical, type);
    if (query.empty()) {
        DnsReply invalid;
        invalid.status = ARES_EBADNAME;
        finish_lookup(node, invalid);
        return;
    }
    send(node, std::move(query), false);
}

void Discovery::send(CacheNode& node, std::vector<uint8_t> query, bool tcp) {
    if (tcp && !tcp_channel_) {
        try {
            tcp_channel_ = make_channel(true);
        } catch (const std::exception&) {
            DnsReply failed;
            failed.status = ARES_ECONNREFUSED;
            finish_lookup(node, failed);
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
    const LookupKey& key = node.first;
    const auto order = key.type == dns::rrtype::NS ? SendOrder::last : SendOrder::first;
    // The callbacks hold two pointers, which std::function keeps without an allocation.
    CacheNode* entry = &node;
    if (tcp) {
        channel.send(
            query,
            [this, entry](const DnsReply& reply) {
                if (reply.status != ARES_EDESTRUCTION) finish_lookup(*entry, reply);
            },
            order);
        return;
    }
    channel.send(
        query,
        [this, entry](const DnsReply& reply) {
            if (reply.status == ARES_EDESTRUCTION) return;
            // RFC 7766 section 5: an answer with TC set (an NS set or address list larger than
            // the UDP size) is incomplete; ask again over TCP instead of using part of it.
            if (reply.status == ARES_SUCCESS && reply.answer.size() >= 3 &&
                (reply.answer[2] & 0x02) != 0) {
                send(*entry, lookup_query(entry->first.name, entry->first.type), true);
                return;
            }
            finish_lookup(*entry, reply);
        },
        order);
}

void Discovery::finish_lookup(CacheNode& node, const DnsReply& reply) {
    const LookupKey& key = node.first;
    std::vector<std::string> values;
    Answer answer;
    bool resolver_failed = false;
    std::chrono::seconds ttl = options_.negative_ttl;
    if (reply.status != ARES_SUCCESS) {
        resolver_failed = true;
        answer.error = std::string("resolver: ") + ares_strerror(reply.status);
    } else {
        LookupAnswer read =
            read_lookup_answer(reply.answer, key.name, dns::encode_name(key.name), key.type);
        resolver_failed = read.outcome == LookupAnswer::Outcome::failed;
        answer.nxdomain = read.outcome == LookupAnswer::Outcome::nxdomain;
        answer.error = std::move(read.error);
        values = std::move(read.values);
        if (!values.empty() && read.min_ttl != UINT32_MAX)
            ttl =
                std::clamp(std::chrono::seconds(read.min_ttl), options_.min_ttl, options_.max_ttl);
        // A zone's NS set is used as a set, in one order (discover() takes the first
        // max_nameservers of it): sorted once here, not by every check served from the cache.
        if (key.type == dns::rrtype::NS) std::sort(values.begin(), values.end());
    }
    if (resolver_failed) ++lookup_errors_;

    CacheEntry& entry = node.second;
    const auto now = EventLoop::Clock::now();
    if (resolver_failed && entry.last_good) {
        // The resolver is down or broken: keep watching with the last good answer, and say so
        // to every lookup served from this entry until the resolver answers again.
        answer.values = entry.last_good;
        answer.from_cache = true;
        answer.expires = now + std::chrono::seconds(5);
    } else {
        answer.values = std::make_shared<const std::vector<std::string>>(std::move(values));
        answer.expires = now + (resolver_failed ? std::chrono::seconds(5) : ttl);
        if (!resolver_failed) entry.last_good = answer.values;
    }
    entry.answer = answer;

    // The callbacks may start lookups, this one's again included: taken out first.
    const std::vector<AnswerCallback> waiting = std::move(entry.waiting);
    entry.waiting.clear();
    for (const auto& callback : waiting) callback(answer);
}

const DiscoveredNameserver* Discovery::fresh_resolution(const std::string& canonical, bool ipv4,
                                                        bool ipv6) const {
    const auto it = resolutions_.find(ResolutionKey{canonical, ipv4, ipv6});
    if (it == resolutions_.end() || it->second.expires <= EventLoop::Clock::now()) return nullptr;
    return &it->second.nameserver;
}

void Discovery::resolve(const std::string& name, bool ipv4, bool ipv6, AddressCallback done) {
    resolve_canonical(dns::canonical_name(name), ipv4, ipv6, std::move(done));
}

void Discovery::resolve_canonical(const std::string& canonical, bool ipv4, bool ipv6,
                                  AddressCallback done) {
    if (const DiscoveredNameserver* fresh = fresh_resolution(canonical, ipv4, ipv6)) {
        done(*fresh);
        return;
    }
    struct Join {
        DiscoveredNameserver ns;
        Values v4, v6;
        std::vector<std::string> errors;
        bool resolver_failed = false;    // some lookup failed for another reason than NXDOMAIN
        std::vector<std::string> stale;  // lookups answered from the last good answer
        EventLoop::Clock::time_point expires = EventLoop::Clock::time_point::max();
        int pending = 0;
        AddressCallback done;
    };
    auto join = std::make_shared<Join>();
    join->ns.name = canonical;
    join->done = std::move(done);
    join->pending = (ipv4 ? 1 : 0) + (ipv6 ? 1 : 0) + 1;  // +1 guards against sync callbacks
    auto finish = [this, join, ipv4, ipv6] {
        if (--join->pending > 0) return;
        if (join->v4) join->ns.addresses = *join->v4;
        if (join->v6)
            join->ns.addresses.insert(join->ns.addresses.end(), join->v6->begin(), join->v6->end());
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
        // Until the first of its answers expires, the cache would give this name the same
        // answers again: the result stands for every zone that names it until then.
        resolutions_.insert_or_assign(ResolutionKey{join->ns.name, ipv4, ipv6},
                                      Resolution{join->ns, join->expires});
        join->done(std::move(join->ns));
    };
    auto take = [join, finish](Values& into, const char* family, const Answer& a) {
        into = a.values;
        if (!a.error.empty()) join->errors.push_back(family + a.error);
        if (!a.error.empty() && !a.nxdomain) join->resolver_failed = true;
        if (a.from_cache) join->stale.push_back(family + a.error);
        join->expires = std::min(join->expires, a.expires);
        finish();
    };
    if (ipv4)
        lookup(canonical, dns::rrtype::A,
               [join, take](const Answer& a) { take(join->v4, "A: ", a); });
    if (ipv6)
        lookup(canonical, dns::rrtype::AAAA,
               [join, take](const Answer& a) { take(join->v6, "AAAA: ", a); });
    finish();
}

void Discovery::discover(const std::string& zone, unsigned max_nameservers, bool ipv4, bool ipv6,
                         Callback done) {
    // One check's discovery in flight: its result, the NS names still being resolved, and who
    // waits for it.
    struct Join {
        DiscoveryResult result;
        std::size_t pending = 1;  // +1 until every name is asked (answers may come at once)
        Callback done;
        void place(std::size_t i, DiscoveredNameserver ns) {
            if (!ns.stale.empty()) {
                result.from_cache = true;
                if (result.error.empty())
                    result.error = "addresses of " + ns.name + ": " + ns.stale;
            }
            result.nameservers[i] = std::move(ns);
        }
        void finish_one() {
            if (--pending == 0) done(std::move(result));
        }
    };
    auto join = std::make_shared<Join>();
    join->result.zone = dns::canonical_name(zone);
    join->done = std::move(done);
    lookup(join->result.zone, dns::rrtype::NS,
           [this, join, max_nameservers, ipv4, ipv6](const Answer& a) {
               DiscoveryResult& result = join->result;
               result.from_cache = a.from_cache;
               if (!a.error.empty()) result.error = a.error;
               // Sorted by finish_lookup; the answer (and so its values) outlives this call.
               const std::vector<std::string>& all = *a.values;
               result.ns_total = static_cast<unsigned>(all.size());
               result.capped = all.size() > max_nameservers;
               const std::span<const std::string> names(
                   all.data(), std::min<std::size_t>(all.size(), max_nameservers));
               if (names.empty()) {
                   if (result.error.empty()) result.error = "no NS records for " + result.zone;
                   join->done(std::move(result));
                   return;
               }
               result.nameservers.resize(names.size());
               for (std::size_t i = 0; i < names.size(); ++i) {
                   if (const DiscoveredNameserver* ns = fresh_resolution(names[i], ipv4, ipv6)) {
                       join->place(i, *ns);
                       continue;
                   }
                   ++join->pending;
                   resolve_canonical(names[i], ipv4, ipv6, [join, i](DiscoveredNameserver ns) {
                       join->place(i, std::move(ns));
                       join->finish_one();
                   });
               }
               join->finish_one();
           });
}

}  // namespace soawatch
