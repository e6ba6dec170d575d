#include "agent/zone_status.hpp"

namespace soawatch {

std::string_view server_state_name(ServerState s) {
    switch (s) {
        case ServerState::reference:
            return "reference";
        case ServerState::in_sync:
            return "in_sync";
        case ServerState::behind:
            return "behind";
        case ServerState::ahead:
            return "ahead";
        case ServerState::incomparable:
            return "incomparable";
        case ServerState::unusable:
            return "unusable";
    }
    return "unknown";
}

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "OK";
        case Verdict::warning:
            return "WARNING";
        case Verdict::critical:
            return "CRITICAL";
        case Verdict::unknown:
            return "UNKNOWN";
    }
    return "UNKNOWN";
}

}  // namespace soawatch
