#include "agent/common/usable_cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <thread>

#include "agent/common/text_util.hpp"

namespace soawatch {
namespace {

std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

std::optional<uint64_t> unsigned_number(std::string_view text) {
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::optional<unsigned> cpus_of(uint64_t quota, uint64_t period) {
    if (quota == 0 || period == 0) return std::nullopt;
    const uint64_t cpus = (quota + period - 1) / period;  // 1.5 CPUs of time keep 2 busy
    return static_cast<unsigned>(std::min<uint64_t>(cpus, 1U << 20));
}

void lower(std::optional<unsigned>& limit, std::optional<unsigned> found) {
    if (found && (!limit || *found < *limit)) limit = found;
}

// `path` and each of its parents, up to "/": the cgroups whose limits hold for this one.
template <typename Visit>
void each_ancestor(std::string_view path, Visit&& visit) {
    std::string p(trimmed(path));
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    for (;;) {
        visit(p == "/" ? std::string() : p);
        if (p.empty() || p == "/") return;
        const auto slash = p.rfind('/');
        p = slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
    }
}

std::optional<unsigned> v2_limit(const std::string& root, std::string_view path) {
    std::optional<unsigned> limit;
    each_ancestor(path, [&](const std::string& dir) {
        if (const auto text = file_text(root + dir + "/cpu.max"))
            lower(limit, cpus_of_cpu_max(*text));
    });
    return limit;
}

std::optional<unsigned> v1_limit(const std::string& root, std::string_view path) {
    std::optional<unsigned> limit;
    for (const char* mount : {"/cpu,cpuacct", "/cpuacct,cpu", "/cpu"}) {
        each_ancestor(path, [&](const std::string& dir) {
            const std::string base = root + mount + dir;
            const auto quota = file_text(base + "/cpu.cfs_quota_us");
            const auto period = file_text(base + "/cpu.cfs_period_us");
            if (quota && period) lower(limit, cpus_of_cfs_quota(*quota, *period));
        });
    }
    return limit;
}

bool has_cpu_controller(std::string_view controllers) {
    while (!controllers.empty()) {
        const auto comma = controllers.find(',');
        if (controllers.substr(0, comma) == "cpu") return true;
        if (comma == std::string_view::npos) break;
        controllers.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::optional<unsigned> cpus_of_cpu_max(std::string_view cpu_max) {
    const std::string_view text = trimmed(cpu_max);
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    const auto quota = unsigned_number(text.substr(0, space));  // "max": no quota
    const auto period = unsigned_number(trimmed(text.substr(space + 1)));
    if (!quota || !period) return std::nullopt;
    return cpus_of(*quota, *period);
}

std::optional<unsigned> cpus_of_cfs_quota(std::string_view quota_us, std::string_view period_us) {
    const auto quota = unsigned_number(trimmed(quota_us));  // "-1": no quota
    const auto period = unsigned_number(trimmed(period_us));
    if (!quota || !period) return std::nullopt;
    return cpus_of(*quota, *period);
}

std::optional<unsigned> cgroup_cpu_limit(const std::string& cgroup_root,
                                         std::string_view proc_self_cgroup) {
    std::optional<unsigned> limit;
    while (!proc_self_cgroup.empty()) {
        const auto newline = proc_self_cgroup.find('\n');
        const std::string_view line = proc_self_cgroup.substr(0, newline);
        proc_self_cgroup.remove_prefix(newline == std::string_view::npos ? proc_self_cgroup.size()
                                                                         : newline + 1);
        // "hierarchy-ID:controller-list:cgroup-path" (cgroups(7)); v2's line is "0::/path".
        const auto first = line.find(':');
        const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) continue;
        const std::string_view id = line.substr(0, first);
        const std::string_view controllers = line.substr(first + 1, second - first - 1);
        const std::string_view path = line.substr(second + 1);
        if (id == "0" && controllers.empty())
            lower(limit, v2_limit(cgroup_root, path));
        else if (has_cpu_controller(controllers))
            lower(limit, v1_limit(cgroup_root, path));
    }
    return limit;
}

unsigned usable_cpus() {
    unsigned cpus = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
    if (cpus == 0) cpus = std::thread::hardware_concurrency();
    if (const auto cgroup = file_text("/proc/self/cgroup"))
        if (const auto limit = cgroup_cpu_limit("/sys/fs/cgroup", *cgroup))
            cpus = cpus == 0 ? *limit : std::min(cpus, *limit);
    return std::max(cpus, 1U);
}

}  // namespace soawatch
