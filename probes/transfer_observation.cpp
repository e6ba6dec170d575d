#include "probes/transfer_observation.hpp"

namespace soawatch {

namespace {

constexpr std::array<std::string_view, kTransferResults> kResultNames{
    "refused",       "open",      "ok",
    "badkey",        "badsig",    "badtime",
    "unsigned",      "timeout",   "connection_refused",
    "network_error", "bad_rcode", "no_soa",
    "malformed",
};
static_assert(static_cast<std::size_t>(TransferResult::malformed) + 1 == kResultNames.size(),
              "kResultNames covers TransferResult");

}  // namespace

std::string_view transfer_kind_name(TransferKind kind) {
    return kind == TransferKind::axfr ? "axfr" : "signed_ixfr";
}

std::string_view transfer_result_name(TransferResult result) {
    const auto i = static_cast<std::size_t>(result);
    return i < kResultNames.size() ? kResultNames[i] : "unknown";
}

}  // namespace soawatch
