#include "probes/observation.hpp"

namespace soawatch {

std::string_view probe_error_name(ProbeError e) {
    switch (e) {
        case ProbeError::none:
            return "none";
        case ProbeError::timeout:
            return "timeout";
        case ProbeError::connection_refused:
            return "connection_refused";
        case ProbeError::network_error:
            return "network_error";
        case ProbeError::refused:
            return "refused";
        case ProbeError::servfail:
            return "servfail";
        case ProbeError::nxdomain:
            return "nxdomain";
        case ProbeError::bad_rcode:
            return "bad_rcode";
        case ProbeError::not_authoritative:
            return "not_authoritative";
        case ProbeError::no_soa:
            return "no_soa";
        case ProbeError::malformed:
            return "malformed";
        case ProbeError::truncated:
            return "truncated";
    }
    return "unknown";
}

}  // namespace soawatch
