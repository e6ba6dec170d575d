// The allowed values of the settings that both the configuration file and the command line
// take (the probe flags of `soawatch check`), each defined once with the one message for a bad
// value: `--timeout=0s` and `timeout: 0s` are refused with the same words. Messages carry no
// prefix: the config puts "file:line: key: " before them, the flags "--flag: ".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/common/duration.hpp"

namespace soawatch {

struct IntegerRange {
    int64_t min = 0;
    int64_t max = 0;
    bool zero_too = false;       // 0 is allowed besides min..max (edns_udp_size 0: no EDNS)
    std::string_view word = {};  // a word allowed besides them, read as 0 (loops: auto)
};

struct DurationRange {
    Duration min{0};
    std::optional<Duration> max;  // none: no upper bound
};

inline constexpr IntegerRange kRetriesRange{0, 10};  // tries after the first, per address
inline constexpr IntegerRange kPortRange{1, 65535};
// RFC 6891 section 6.2.5: a size below 512 is treated as 512; above 4096 no server answers more
// over UDP (and c-ares reads at most 4096).
inline constexpr IntegerRange kEdnsUdpSizeRange{512, 4096, true};
// Event loops (threads) the zones are sharded across: more than the CPUs only adds switching.
// `auto` (kLoopsAuto, the default) is one per usable CPU (agent/loop_assignment.hpp).
inline constexpr IntegerRange kLoopsRange{1, 64, false, "auto"};
inline constexpr unsigned kLoopsAuto = 0;  // what kLoopsRange's word reads as
inline constexpr DurationRange kTimeoutRange{Duration{1}, Duration{60000}};  // per try
// Extra probes of an address that answers an NSID, each from its own source port, in the same
// round (anycast instances, agent/anycast.hpp); 8 is the most instances kept per address.
inline constexpr IntegerRange kAnycastSamplesRange{0, 8};

// What a message says is allowed: "allowed 0..10", "allowed 0, or 512..4096",
// "allowed auto, or 1..64", "allowed 1ms..1m", "at least 1s".
std::string allowed_values(const IntegerRange& range);
// What an integer setting expects: "an integer", or with a word "auto, or 1..64".
std::string expected_integer(const IntegerRange& range);
std::string allowed_values(const DurationRange& range);

// Errors as values: the parsed setting, or why `text` is not one.
struct IntegerSetting {
    int64_t value = 0;
    std::string
        error;  // "expected an integer, got \"x\"", "out of range: 70000 (allowed 1..65535)"
};
IntegerSetting parse_integer_setting(std::string_view text, const IntegerRange& range);

struct DurationSetting {
    Duration value{0};
    std::string error;  // "not a duration: \"5x\" (use e.g. 500ms, 2s, 1m)", "out of range: ..."
};
DurationSetting parse_duration_setting(std::string_view text, const DurationRange& range);

}  // namespace soawatch
