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

std::string_view probe_error_name(ProbeError e) {
    const auto i = static_cast<std::size_t>(e);
    return i < kProbeErrorNames.size() ? kProbeErrorNames[i] : "unknown";
}

}  // namespace soawatch
