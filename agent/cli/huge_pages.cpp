#include "agent/cli/huge_pages.hpp"

#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>

#include "agent/common/text_util.hpp"

namespace soawatch {

namespace {

constexpr std::string_view kTunable = "glibc.malloc.hugetlb";

// The path names the file this process runs: not so when started through the dynamic loader
// (`ld.so ./soawatch`, whose options the exec would lose), by a descriptor (`/dev/fd/N`), or
// when the file was replaced since.
bool runs_file(const char* path) {
    struct stat named {};
    struct stat running {};
    return stat(path, &named) == 0 && stat("/proc/self/exe", &running) == 0 &&
           named.st_dev == running.st_dev && named.st_ino == running.st_ino;
}

}  // namespace

std::optional<std::string> tunables_with_huge_pages(const char* tunables, const char* opt_out,
                                                    const char* ld_preload,
                                                    std::string_view thp_enabled) {
    if (opt_out != nullptr && std::string_view(opt_out) == "0") return std::nullopt;
    if (ld_preload != nullptr && *ld_preload != '\0') return std::nullopt;
    const std::string_view given = tunables != nullptr ? tunables : "";
    if (given.find(kTunable) != std::string_view::npos) return std::nullopt;
    // "always" too: glibc then grows its heaps 2 MiB at a time, so that the kernel's huge pages
    // fit them.
    if (thp_enabled.find("[madvise]") == std::string_view::npos &&
        thp_enabled.find("[always]") == std::string_view::npos)
        return std::nullopt;
    std::string with(given);
    if (!with.empty()) with += ':';
    with += kTunable;
    with += "=1";
    return with;
}

void ask_for_huge_pages(char** argv) {
#ifdef __GLIBC__
    // A set-user-ID or file-capabilities start (AT_SECURE, port 53 without root, say): glibc may
    // drop tunables there, and a program that cannot see its tunable would start again and again.
    if (getauxval(AT_SECURE) != 0) return;
    const char* before = std::getenv("GLIBC_TUNABLES");
    const auto tunables = tunables_with_huge_pages(
        before, std::getenv(kHugePagesOptOut), std::getenv("LD_PRELOAD"),
        // Read and closed before the exec (an open stream would be a descriptor kept for life).
        file_text("/sys/kernel/mm/transparent_hugepage/enabled").value_or(""));
    if (!tunables) return;
    // The file as it was executed, so that the process keeps its name (/proc/self/exe would
    // name it "exe" in ps and top, and pkill soawatch would miss it).
    const auto* executed = std::bit_cast<const char*>(getauxval(AT_EXECFN));
    if (executed == nullptr || !runs_file(executed)) return;
    const std::optional<std::string> kept =
        before ? std::optional<std::string>(before) : std::nullopt;
    if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0) return;
    execv(executed, argv);
    // Not executed: on as it is, with the environment as it was.
    if (kept)
        setenv("GLIBC_TUNABLES", kept->c_str(), 1);
    else
        unsetenv("GLIBC_TUNABLES");
#else
    (void)argv;
#endif
}

}  // namespace soawatch
