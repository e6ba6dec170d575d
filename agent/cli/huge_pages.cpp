#include "agent/cli/huge_pages.hpp"

#include <sys/auxv.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace soawatch {

namespace {

constexpr std::string_view kTunable = "glibc.malloc.hugetlb";

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
    // The file as it was executed, so that the process keeps its name (/proc/self/exe would
    // name it "exe" in ps and top, and pkill soawatch would miss it).
    const auto* executed = std::bit_cast<const char*>(getauxval(AT_EXECFN));
    if (executed == nullptr) return;
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
    const std::string thp_enabled((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    const char* before = std::getenv("GLIBC_TUNABLES");
    const auto tunables = tunables_with_huge_pages(before, std::getenv(kHugePagesOptOut),
                                                   std::getenv("LD_PRELOAD"), thp_enabled);
    if (!tunables) return;
    const std::optional<std::string> kept =
        before ? std::optional<std::string>(before) : std::nullopt;
    if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0) return;
    execv(executed, argv);
    // Not executed (the file replaced since, say): on as it is, with the environment as it was.
    if (kept)
        setenv("GLIBC_TUNABLES", kept->c_str(), 1);
    else
        unsetenv("GLIBC_TUNABLES");
#else
    (void)argv;
#endif
}

}  // namespace soawatch
