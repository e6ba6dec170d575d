#include "probes/observation.hpp"

#include <array>

namespace soawatch {

namespace {

// One name per ProbeError, in enum order: the `reason` label, the JSON `error` field, logs and
// alert texts all use it.
constexpr std::array<std::string_view, kProbeErrorKinds> kProbeErrorNames{
    "none",     "timeout",   "connection_refused", "network_error", "refused",   "servfail",
    "nxdomain", "bad_rcode", "not_authoritative",  "no_soa",        "malformed", "truncated",
};
static_assert(static_cast<std::size_t>(ProbeError::truncated) + 1 == kProbeErrorNames.size(),
              "the table covers the enum");

}  // namespace

Clock::time_point wall_at(MonoClock::time_point mono) {
    struct Offset {
        MonoClock::time_point read_at{};
        MonoClock::duration wall_minus_mono{};
        bool read = false;
    };
    constexpr auto kReadAgainAfter = std::chrono::milliseconds(100);
    thread_local Offset offset;
    if (!offset.read || mono - offset.read_at >= kReadAgainAfter ||
        offset.read_at - mono >= kReadAgainAfter) {
        const auto mono_now = MonoClock::now();
        const auto wall_now = Clock::now();
        offset = {mono_now,
                  std::chrono::duration_cast<MonoClock::duration>(wall_now.time_since_epoch()) -
                      mono_now.time_since_epoch(),
                  true};
    }
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(mono.time_since_epoch() +
                                                                         offset.wall_minus_mono));
}

std::string_view probe_error_name(ProbeError e) {
    const auto i = static_cast<std::size_t>(e);
    return i < kProbeErrorNames.size() ? kProbeErrorNames[i] : "unknown";
}

}  // namespace soawatch
