#include "agent/cli/huge_pages.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace soawatch {

namespace {

constexpr std::string_view kTunable = "glibc.malloc.hugetlb";

}  // namespace

std::optional<std::string> tunables_with_huge_pages(const char* tunables, const char* opt_out,
                                                    std::string_view thp_enabled) {
    if (opt_out != nullptr && std::string_view(opt_out) == "0") return std::nullopt;
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
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
    const std::string thp_enabled((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    const char* before = std::getenv("GLIBC_TUNABLES");
    const auto tunables =
        tunables_with_huge_pages(before, std::getenv(kHugePagesOptOut), thp_enabled);
    if (!tunables) return;
    const std::optional<std::string> kept =
        before ? std::optional<std::string>(before) : std::nullopt;
    if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0) return;
    execv("/proc/self/exe", argv);
    // Not executed (no /proc, say): on as it is, with the environment as it was.
    if (kept)
        setenv("GLIBC_TUNABLES", kept->c_str(), 1);
    else
        unsetenv("GLIBC_TUNABLES");
#else
    (void)argv;
#endif
}

}  // namespace soawatch
