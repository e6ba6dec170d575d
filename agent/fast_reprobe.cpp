#include "agent/fast_reprobe.hpp"

#include <algorithm>

namespace soawatch {

Duration fast_reprobe_delay(std::size_t step, Duration initial, Duration interval) {
    if (initial.count() <= 0 || initial >= interval) return interval;
    Duration delay = initial;
    // Doubling stops at the interval, so this loops at most log2(interval / initial) times.
    for (std::size_t i = 0; i < step && delay < interval; ++i) delay *= 2;
    return std::min(delay, interval);
}

std::size_t fast_reprobe_backoff_checks(Duration initial, Duration interval) {
    std::size_t n = 0;
    while (fast_reprobe_delay(n, initial, interval) < interval) ++n;
    return n;
}

}  // namespace soawatch
