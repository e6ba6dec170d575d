// How many CPUs this process can keep busy: its affinity mask (taskset, a cpuset), lowered by a
// CPU quota of its control group (a container's CPU limit: Kubernetes `resources.limits.cpu`,
// `docker run --cpus`, systemd `CPUQuota=`), which the affinity mask does not show. Read once
// at start, for `global.loops: auto` (agent/loop_assignment.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace soawatch {

// The CPUs of the affinity mask, lowered to the cgroup quota rounded up; at least 1.
unsigned usable_cpus();

// The parts, each testable on its own.

// CPUs a quota allows, rounded up: cgroup v2 `cpu.max` ("150000 100000" -> 2, "max 100000" ->
// none) or cgroup v1 `cpu.cfs_quota_us` with `cpu.cfs_period_us` ("-1": none). None as well for
// text that is not a quota, so a file in an unexpected format limits nothing.
std::optional<unsigned> cpus_of_cpu_max(std::string_view cpu_max);
std::optional<unsigned> cpus_of_cfs_quota(std::string_view quota_us, std::string_view period_us);

// The lowest quota on the way from this process's control group up to the hierarchy's root
// (a limit set on a parent holds for its children too). `proc_self_cgroup` is the text of
// /proc/self/cgroup; `cgroup_root` is where the hierarchies are mounted (/sys/fs/cgroup): the
// unified v2 hierarchy there, a v1 `cpu` controller in cgroup_root/cpu,cpuacct or
// cgroup_root/cpu. None when no quota applies or nothing can be read.
std::optional<unsigned> cgroup_cpu_limit(const std::string& cgroup_root,
                                         std::string_view proc_self_cgroup);

}  // namespace soawatch
