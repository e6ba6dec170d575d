// The process_* metrics from /proc/self, named as the Prometheus client libraries export them
// (CPU seconds, resident and virtual memory, start time, open and maximum fds).
#pragma once

#include <string>

namespace soawatch {

// The kernel's boot time in Unix seconds (/proc/stat btime), read once: the process start time
// is counted from it. 0 when it cannot be read.
double boot_time_seconds();

// Appends every process_* family that can be read now; one that cannot is left out. Thread-safe.
void append_process_metrics(std::string& out, double boot_time);

}  // namespace soawatch
