// Prometheus' duration grammar (model.ParseDuration): ((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?
// ((\d+)m)?((\d+)s)?((\d+)ms)? with at least one component, or "0" alone.
#include "agent/common/duration.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace soawatch {
namespace {

struct Unit {
    std::string_view name;
    int64_t ms;
};

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// Decreasing order: the order they must be written in.
constexpr std::array<Unit, 7> kUnits{{
    {"y", 365 * kDay},
    {"w", 7 * kDay},
    {"d", kDay},
    {"h", kHour},
    {"m", kMinute},
    {"s", kSecond},
    {"ms", 1},
}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text == "0") return Duration{0};
    if (text.empty()) return std::nullopt;

    constexpr int64_t kMax = std::numeric_limits<Duration::rep>::max();
    int64_t total = 0;
    std::size_t next_unit = 0;  // units before this index are used up
    std::size_t i = 0;
    while (i < text.size()) {
        // The number.
        if (!is_digit(text[i])) return std::nullopt;
        int64_t value = 0;
        while (i < text.size() && is_digit(text[i])) {
            const int digit = text[i] - '0';
            if (value > (kMax - digit) / 10) return std::nullopt;
            value = value * 10 + digit;
            ++i;
        }
        // The unit: the longest name that matches ("ms" before "m").
        std::size_t unit_end = i;
        while (unit_end < text.size() && !is_digit(text[unit_end])) ++unit_end;
        const std::string_view name = text.substr(i, unit_end - i);
        std::size_t u = next_unit;
        while (u < kUnits.size() && kUnits[u].name != name) ++u;
        if (u == kUnits.size()) return std::nullopt;  // unknown, repeated or out of order
        next_unit = u + 1;
        i = unit_end;

        if (value > kMax / kUnits[u].ms) return std::nullopt;
        const int64_t part = value * kUnits[u].ms;
        if (total > kMax - part) return std::nullopt;
        total += part;
    }
    return Duration{total};
}

std::string format_duration(Duration d) {
    int64_t ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        // The most negative value has no positive counterpart; it is never parsed back anyway.
        if (ms == std::numeric_limits<int64_t>::min())
            ms = std::numeric_limits<int64_t>::max();
        else
            ms = -ms;
    }
    for (std::size_t u = 0; u < kUnits.size(); ++u) {
        const Unit& unit = kUnits[u];
        // Years and weeks only when they divide evenly, as Prometheus does: "90d" reads better
        // than "12w6d".
        const bool exact_only = u < 2;
        if (exact_only && ms % unit.ms != 0) continue;
        const int64_t count = ms / unit.ms;
        if (count > 0) {
            out += std::to_string(count);
            out += unit.name;
            ms -= count * unit.ms;
        }
    }
    return out;
}

std::string human_duration(double seconds) {
    if (!(seconds > 0)) return "0s";
    char buffer[48];
    if (seconds < 1) {
        std::snprintf(buffer, sizeof buffer, "%.0fms", seconds * 1000);
        return buffer;
    }
    if (seconds < 10 && seconds != std::floor(seconds)) {
        std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
        return buffer;
    }
    const auto total = static_cast<unsigned long long>(std::llround(seconds));
    const unsigned long long d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60,
                             s = total % 60;
    if (d > 0)
        std::snprintf(buffer, sizeof buffer, h ? "%llud %lluh" : "%llud", d, h);
    else if (h > 0)
        std::snprintf(buffer, sizeof buffer, m ? "%lluh %llum" : "%lluh", h, m);
    else if (m > 0)
        std::snprintf(buffer, sizeof buffer, s ? "%llum %llus" : "%llum", m, s);
    else
        std::snprintf(buffer, sizeof buffer, "%llus", s);
    return buffer;
}

}  // namespace soawatch
