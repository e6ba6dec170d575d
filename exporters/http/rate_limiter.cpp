#include "exporters/http/rate_limiter.hpp"
#include "agent/common/thread_annotations.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace soawatch {

std::string rate_limit_key(std::string_view address) {
    std::string text(address);
    std::array<unsigned char, 16> bytes{};
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return text;
    // An IPv4-mapped address is one IPv4 client.
    static constexpr std::array<unsigned char, 12> kMapped{0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {
        char v4[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, bytes.data() + 12, v4, sizeof v4);
        return v4;
    }
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    char prefix[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, bytes.data(), prefix, sizeof prefix);
    return std::string(prefix) + "/64";
}

RateLimiter::RateLimiter(RateLimit limit, std::size_t max_clients)
    : limit_(limit), max_clients_(std::max<std::size_t>(1, max_clients)) {}

std::size_t RateLimiter::clients() const {
    MutexLock lock(mutex_);
    return buckets_.size();
}

std::optional<std::chrono::seconds> RateLimiter::acquire(std::string_view client_address,
                                                         Clock::time_point now) {
    if (disabled()) return std::nullopt;
    const double burst = limit_.burst;
    const double interval = std::chrono::duration<double>(limit_.interval).count();
    const std::string key = rate_limit_key(client_address);

    MutexLock lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_clients_) make_room(now);
        it = buckets_.emplace(key, Bucket{burst, now}).first;
    }
    Bucket& bucket = it->second;
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    if (elapsed > 0) {
        bucket.tokens = std::min(burst, bucket.tokens + elapsed / interval);
        bucket.updated = now;
    }
    if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return std::nullopt;
    }
    const double wait = (1 - bucket.tokens) * interval;
    return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait))));
}

// Under mutex_. Buckets that have refilled say nothing a fresh one would not: drop them. When
// every client is active, the one idle longest goes.
void RateLimiter::make_room(Clock::time_point now) {
    const auto refill_time = std::chrono::duration_cast<Clock::duration>(
        limit_.interval * static_cast<Duration::rep>(limit_.burst));
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        if (now - it->second.updated >= refill_time) {
            it = buckets_.erase(it);
        } else {
            ++it;
        }
    }
    if (buckets_.size() < max_clients_) return;
    const auto oldest = std::min_element(
        buckets_.begin(), buckets_.end(),
        [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
    buckets_.erase(oldest);
}

}  // namespace soawatch
