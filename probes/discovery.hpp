// Discovery: a zone's NS names from a recursive resolver, then the A and AAAA addresses of each
// name. All lookups go through one c-ares channel to the bootstrap resolvers (or resolv.conf),
// run concurrently on the event loop, and are cached by TTL. When the resolver fails, the last
// good answer is used and the result says so. A truncated answer (an NS set or address list
// larger than the UDP size) is asked again over TCP (RFC 7766 section 5).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/dns_channel.hpp"
#include "probes/event_loop.hpp"

namespace soawatch {

// Why an NS name has no address, for machines (the API's unresolved_nameservers[].error).
enum class AddressError {
    none,
    nxdomain,    // the name does not exist
    no_address,  // it exists, with no A or AAAA records (of the families probed)
    resolver,    // the resolver failed (timeout, SERVFAIL, REFUSED, a broken answer)
};
std::string_view address_error_name(AddressError e);  // "nxdomain", "no_address", "resolver"

// An NS name of a zone that resolved to no address.
struct UnresolvedNameserver {
    std::string name;  // canonical
    AddressError error = AddressError::none;
    std::string detail;  // for people: "A: ns9.example. does not exist (NXDOMAIN); AAAA: ..."
    bool operator==(const UnresolvedNameserver&) const = default;
};

struct DiscoveredNameserver {
    std::string name;                    // canonical
    std::vector<std::string> addresses;  // textual; IPv4 first, then IPv6
    std::string error;                   // why no address was found (empty when some were)
    AddressError error_kind = AddressError::none;
    // Set when the resolver failed and `addresses` are the last good answer: why it failed.
    std::string stale;
};

struct DiscoveryResult {
    std::string zone;  // canonical
    std::vector<DiscoveredNameserver> nameservers;
    std::string error;        // the NS lookup failed (then `nameservers` may be from cache)
    bool from_cache = false;  // the resolver failed and a previous answer is being used (for
                              // the NS set or some name's addresses; `error` says which)
    bool capped = false;      // more NS names than max_nameservers: the rest were not followed
    unsigned ns_total = 0;    // NS names in the answer before capping
};

struct DiscoveryOptions {
    std::vector<ServerAddress> resolvers;  // empty: the system's resolv.conf
    std::chrono::milliseconds timeout{2000};
    unsigned tries = 3;                  // per lookup, across the resolvers (failover is fine here)
    std::chrono::seconds min_ttl{30};    // cache answers at least this long
    std::chrono::seconds max_ttl{3600};  // and at most this long
    std::chrono::seconds negative_ttl{60};
    // Lookups in flight on the resolver channel (more wait, address lookups first). Lower than
    // a probe channel's 128: a zone's probes now run while its discovery is on the wire, and
    // where the resolver is also a probed server (a primary answering for its zones, as in the
    // lab) both channels' queries share that server's receive buffer: 128 + 128 lost answers
    // there (a 2 s retry each), 64 + 128 none (docs/PERFORMANCE.md, discovery).
    std::size_t max_inflight = 64;
};

class Discovery {
  public:
    using Callback = std::function<void(DiscoveryResult)>;
    using AddressCallback = std::function<void(DiscoveredNameserver)>;

    // Throws std::runtime_error when the resolver channel cannot be created.
    Discovery(EventLoop& loop, DiscoveryOptions options);
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    // NS names of `zone` and their addresses. The callback runs once on the loop thread.
    void discover(const std::string& zone, unsigned max_nameservers, bool ipv4, bool ipv6,
                  Callback done);
    // Addresses of one host name (for nameservers given by name in config).
    void resolve(const std::string& name, bool ipv4, bool ipv6, AddressCallback done);

    // Points discovery at other resolvers, or gives them another timeout per try (after a
    // reload). Lookups in flight finish on the old channel, which is dropped once idle; the
    // cache is kept.
    void set_resolvers(const std::vector<ServerAddress>& resolvers,
                       std::chrono::milliseconds timeout);
    const std::vector<ServerAddress>& resolvers() const { return options_.resolvers; }

    uint64_t lookups_sent() const { return lookups_sent_; }
    uint64_t lookup_errors() const { return lookup_errors_; }
    // Lookups waiting behind the resolver channels' in-flight caps.
    std::size_t queued() const { return queued_; }

  private:
    // One lookup: a name (canonical) and an RR type.
    struct LookupKey {
        uint16_t type = 0;
        std::string name;
        bool operator==(const LookupKey&) const = default;
    };
    struct LookupKeyHash {
        std::size_t operator()(const LookupKey& k) const noexcept;
    };
    using Values = std::shared_ptr<const std::vector<std::string>>;  // never null
    struct Answer {
        Values values;      // NS targets or addresses, shared with the cache entry
        std::string error;  // empty on success (an empty NODATA answer is success)
        bool from_cache = false;
        bool nxdomain = false;  // the error is the name's nonexistence, not the resolver's
        // Until then the cache gives every lookup of this name and type this same answer: a
        // lookup goes to the wire only once its entry has expired.
        EventLoop::Clock::time_point expires{};
    };
    using AnswerCallback = std::function<void(const Answer&)>;
    struct CacheEntry {
        // What a lookup served from this entry gets. While the resolver fails, `answer.values`
        // are the last good answer and `answer.from_cache` says so to every lookup served from
        // the entry, not just the one that failed.
        Answer answer;
        Values last_good;  // kept past expiry for resolver outages; null until one succeeded
        // Lookups waiting for the answer on the wire (none: nothing on the wire).
        std::vector<AnswerCallback> waiting;
    };
    // An entry of cache_, which keeps its address for its life (entries are never erased; a
    // rehash moves no element): what a lookup on the wire finishes, without looking it up.
    using CacheNode = std::pair<const LookupKey, CacheEntry>;
    // One name's addresses as resolve() last put them together, for the families asked.
    struct ResolutionKey {
        std::string name;
        bool ipv4 = false;
        bool ipv6 = false;
        bool operator==(const ResolutionKey&) const = default;
    };
    struct ResolutionKeyHash {
        std::size_t operator()(const ResolutionKey& k) const noexcept;
    };
    struct Resolution {
        DiscoveredNameserver nameserver;
        EventLoop::Clock::time_point expires{};  // the earliest expiry of the answers used
    };
    void lookup(const std::string& canonical, uint16_t type, AnswerCallback done);
    void send(CacheNode& node, std::vector<uint8_t> query, bool tcp);
    void finish_lookup(CacheNode& node, const DnsReply& reply);
    // resolve() of a canonical name; a fresh resolution answers at once.
    void resolve_canonical(const std::string& canonical, bool ipv4, bool ipv6,
                           AddressCallback done);
    // The resolution of `canonical` still valid now, or null: every zone naming a nameserver
    // gets its addresses without a lookup per zone (one NS name serves thousands of zones).
    const DiscoveredNameserver* fresh_resolution(const std::string& canonical, bool ipv4,
                                                 bool ipv6) const;
    std::unique_ptr<DnsChannel> make_channel(bool tcp);

    EventLoop& loop_;
    DiscoveryOptions options_;
    std::size_t queued_ = 0;  // kept by the channels (ChannelOptions::queued_total)
    std::unique_ptr<DnsChannel> channel_;
    std::unique_ptr<DnsChannel> tcp_channel_;  // for truncated answers; made when first needed
    std::vector<std::unique_ptr<DnsChannel>> retired_;  // old channels with lookups in flight
    // Answers by lookup, and the lookups waiting for one on the wire (so concurrent zones sharing
    // NS names ask once): one hash lookup per lookup, none for its answer.
    std::unordered_map<LookupKey, CacheEntry, LookupKeyHash> cache_;
    // What each NS name resolved to, as long as the lookups it used are cached.
    std::unordered_map<ResolutionKey, Resolution, ResolutionKeyHash> resolutions_;
    uint64_t lookups_sent_ = 0;
    uint64_t lookup_errors_ = 0;
};

}  // namespace soawatch
