// The CPUs `global.loops: auto` counts: cgroup CPU quotas (v2 cpu.max, v1 CFS quota) read from a
// cgroup tree laid out as the kernel mounts it, here in a temporary folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "agent/common/usable_cpus.hpp"
#include "tests/support/config_files.hpp"

using soawatch::cgroup_cpu_limit;
using soawatch::cpus_of_cfs_quota;
using soawatch::cpus_of_cpu_max;
using soawatch::test::TempDir;

namespace {

void write_file(const TempDir& root, const std::string& relative, const std::string& text) {
    std::filesystem::create_directories((root.path() / relative).parent_path());
    root.write(relative, text);
}

}  // namespace

TEST_CASE("usable cpus: a quota rounded up to whole CPUs, none without one", "[cpus]") {
    CHECK(cpus_of_cpu_max("200000 100000\n") == 2u);
    CHECK(cpus_of_cpu_max("150000 100000") == 2u);  // 1.5 CPUs of time keep two busy
    CHECK(cpus_of_cpu_max("50000 100000") == 1u);
    CHECK(cpus_of_cpu_max("max 100000\n") == std::nullopt);
    CHECK(cpus_of_cpu_max("") == std::nullopt);
    CHECK(cpus_of_cpu_max("garbage") == std::nullopt);
    CHECK(cpus_of_cpu_max("0 100000") == std::nullopt);
    CHECK(cpus_of_cpu_max("100000 0") == std::nullopt);
    CHECK(cpus_of_cfs_quota("400000\n", "100000\n") == 4u);
    CHECK(cpus_of_cfs_quota("-1\n", "100000\n") == std::nullopt);
    CHECK(cpus_of_cfs_quota("x", "100000") == std::nullopt);
}

TEST_CASE("usable cpus: cgroup v2, the lowest quota from the process's cgroup up", "[cpus]") {
    TempDir root("soawatch-cgroup");
    const std::string self = "0::/kubepods.slice/pod1/container\n";
    // No cpu.max anywhere (the controller is not enabled): no limit.
    CHECK(cgroup_cpu_limit(root.path().string(), self) == std::nullopt);
    write_file(root, "kubepods.slice/pod1/container/cpu.max", "max 100000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), self) == std::nullopt);
    // The pod's limit holds for its container.
    write_file(root, "kubepods.slice/pod1/cpu.max", "250000 100000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), self) == 3u);
    write_file(root, "kubepods.slice/pod1/container/cpu.max", "100000 100000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), self) == 1u);
    // Inside a cgroup namespace the process sits at "/": the mount's own cpu.max.
    write_file(root, "cpu.max", "300000 100000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), "0::/\n") == 3u);
}

TEST_CASE("usable cpus: cgroup v1, the cpu controller's CFS quota", "[cpus]") {
    TempDir root("soawatch-cgroup");
    const std::string self =
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
    CHECK(cgroup_cpu_limit(root.path().string(), self) == std::nullopt);
    write_file(root, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    write_file(root, "cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), self) == std::nullopt);
    write_file(root, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000\n");
    CHECK(cgroup_cpu_limit(root.path().string(), self) == 2u);
    // A line that is not "id:controllers:path" is passed over.
    CHECK(cgroup_cpu_limit(root.path().string(), "garbage\n" + self) == 2u);
}

TEST_CASE("usable cpus: this process has at least one", "[cpus]") {
    CHECK(soawatch::usable_cpus() >= 1u);
}
