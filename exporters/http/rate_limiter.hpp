// Per-client request rate limit: one token bucket per client address (an IPv6 client by its /64,
// since one host holds a whole /64). A bucket holds up to `burst` tokens and gains one every
// `interval`; a request takes one or is refused with the time until the next token, the
// Retry-After of a 429 (RFC 6585 section 4). The table of clients is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/common/thread_annotations.hpp"
#include "exporters/http/web_config.hpp"

namespace soawatch {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(RateLimit limit, std::size_t max_clients = 10000);

    // nullopt when the request may go ahead; else the whole seconds (at least 1) to wait.
    // Thread-safe.
    std::optional<std::chrono::seconds> acquire(std::string_view client_address,
                                                Clock::time_point now = Clock::now());

    bool disabled() const { return limit_.interval.count() == 0; }
    std::size_t clients() const;

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };
    void make_room(Clock::time_point now) REQUIRES(mutex_);

    RateLimit limit_;
    std::size_t max_clients_;
    mutable Mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mutex_);
};

// The key a client address is limited by: IPv4 as is, IPv6 by its /64 prefix.
std::string rate_limit_key(std::string_view address);

}  // namespace soawatch
