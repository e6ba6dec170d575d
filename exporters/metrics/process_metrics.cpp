#include "exporters/metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "exporters/metrics/prom_text.hpp"

namespace soawatch {

namespace {

struct ProcessStats {
    bool ok = false;
    double cpu_seconds = 0;
    double start_time_seconds = 0;
    double virtual_bytes = 0;
    double resident_bytes = 0;
};

ProcessStats read_process_stats(double boot_time) {
    ProcessStats stats;
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) return stats;
    // Field 2 (comm) may hold spaces and parentheses: the fields after it follow the last ')'.
    const auto paren = line.rfind(')');
    if (paren == std::string::npos) return stats;
    std::istringstream fields(line.substr(paren + 1));
    std::vector<std::string> f;  // f[0] is field 3 (state)
    for (std::string token; fields >> token && f.size() < 22;) f.push_back(std::move(token));
    if (f.size() < 22) return stats;
    const auto field = [&](int n) {
        return std::strtod(f[static_cast<std::size_t>(n - 3)].c_str(), nullptr);
    };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    if (ticks <= 0 || page <= 0) return stats;
    stats.cpu_seconds = (field(14) + field(15)) / ticks;  // utime + stime
    stats.start_time_seconds = boot_time + field(22) / ticks;
    stats.virtual_bytes = field(23);
    stats.resident_bytes = field(24) * page;
    stats.ok = true;
    return stats;
}

}  // namespace

double boot_time_seconds() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime" && (in >> value)) return value;
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

void append_process_metrics(std::string& out, double boot_time) {
    const ProcessStats p = read_process_stats(boot_time);
    if (p.ok) {
        prom::append_unlabelled_family(out, "process_cpu_seconds_total",
                                       "Total user and system CPU time spent in seconds.",
                                       p.cpu_seconds, "counter");
        prom::append_unlabelled_family(out, "process_resident_memory_bytes",
                                       "Resident memory size in bytes.", p.resident_bytes);
        prom::append_unlabelled_family(out, "process_virtual_memory_bytes",
                                       "Virtual memory size in bytes.", p.virtual_bytes);
        prom::append_unlabelled_family(out, "process_start_time_seconds",
                                       "Start time of the process since unix epoch in seconds.",
                                       p.start_time_seconds);
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++fds;
    if (!ec)
        prom::append_unlabelled_family(out, "process_open_fds", "Number of open file descriptors.",
                                       static_cast<double>(fds));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        prom::append_unlabelled_family(out, "process_max_fds",
                                       "Maximum number of open file descriptors.",
                                       static_cast<double>(limit.rlim_cur));
}

}  // namespace soawatch
