// The delegation check's line on the status page (under a zone's line, beside the transfer
// audit's): when it ran, the parent's and the zone's NS sets, and each problem in bold.
#pragma once

#include <string>

#include "agent/zone_status.hpp"

namespace soawatch {

// Nothing while the check is off or has not finished.
void append_delegation_line(std::string& out, const ZoneStatus& z, Clock::time_point now);

}  // namespace soawatch
