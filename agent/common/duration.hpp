// Prometheus-style durations ("500ms", "2s", "1m30s", "1h", "1d", "1w"): the only way times are
// written in soawatch's flags and config.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

using Duration = std::chrono::milliseconds;

// Parses a duration: one or more <integer><unit> pairs, units in decreasing order, each at most
// once, from y w d h m s ms. "0" alone is zero. Returns nullopt on anything else (no sign, no
// spaces, no fractions), so callers can name the offending key.
std::optional<Duration> parse_duration(std::string_view text);

// The shortest spelling parse_duration reads back to the same value ("1m30s", "250ms", "0s").
std::string format_duration(Duration d);

// A duration for people: "850ms", "42s", "3m 20s", "2h 5m", "3d 4h". Negative counts as 0.
std::string human_duration(double seconds);

}  // namespace soawatch
